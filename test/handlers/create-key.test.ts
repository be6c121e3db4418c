/**
 * The deployed create-key export with real payload 2.0 events, real portal ID
 * tokens from the development identity provider, and its JWKS served over
 * HTTP on 127.0.0.1.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { loadApiKeyConfig } from '../../src/lib/keys/api-key-config'
import { issueApiKey } from '../../src/lib/keys/issue-api-key'
import { verifyApiKey } from '../../src/lib/keys/verify-api-key'
import { coldStartModule } from '../support/cold-start'
import { lambdaInvoker } from '../support/deployed-handlers'
import { httpApiEvent } from '../support/events'
import {
  startTestIdentityProvider,
  unreachableJwksUri,
  untrustedIdentityProvider,
  type IdTokenMinter,
  type LocalIdTokenClaims,
  type TestIdentityProvider
} from '../support/identity-provider'
import { envFor, randomHmacSecret, secretFor, type EnvRecord } from '../support/keys'

const NOW = 1_700_000_000
const REQUEST_ID = 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef'

let idp: TestIdentityProvider
let otherIdp: IdTokenMinter

beforeAll(async () => {
  ;[idp, otherIdp] = await Promise.all([startTestIdentityProvider(), untrustedIdentityProvider()])
})

afterAll(async () => {
  await idp.close()
})

afterEach(() => {
  vi.useRealTimers()
})

/** API-key settings plus the portal settings pointing at the local identity provider. */
function deployEnv(extra: EnvRecord = {}): EnvRecord {
  return envFor('ES256', { JWT_KID: 'k-1', ...idp.env, ...extra })
}

/** The create-key handler as deployed with `env`: a cold start, with its log lines captured. */
async function coldStart(env: EnvRecord) {
  const { module, lines } = await coldStartModule(() => import('../../src/handlers/create-key'), env)
  // The middleware adds the config to the context; the stub is what the runtime hands in.
  const invoke = lambdaInvoker(module.handler, { awsRequestId: REQUEST_ID })
  return { invoke, lines }
}

function freezeTime(): void {
  // Only Date: the HTTP client and middy keep real timers.
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(NOW * 1000)
}

function createKeyEvent(headers: Record<string, string>, body?: string): APIGatewayProxyEventV2 {
  return httpApiEvent({ method: 'POST', path: '/create-key', headers: { 'content-type': 'application/json', ...headers }, body })
}

async function portalLogin(claims: Partial<LocalIdTokenClaims> = {}): Promise<Record<string, string>> {
  const idToken = await idp.mint({ sub: 'auth0|alice', email: 'alice@acme.test', org: 'acme', nowSeconds: NOW, ...claims })
  return { authorization: `Bearer ${idToken}` }
}

function bodyOf(response: APIGatewayProxyStructuredResultV2): Record<string, unknown> {
  return JSON.parse(response.body ?? 'null') as Record<string, unknown>
}

describe('create-key handler: issues a key', () => {
  it('answers 201 { apikey, keyId, expiresAt } with a key that verifies and names the portal user and company', async () => {
    // Prepare
    freezeTime()
    const createKey = await coldStart(deployEnv())
    // Act
    const response = await createKey.invoke(createKeyEvent(await portalLogin(), JSON.stringify({ name: 'ci' })))
    // Assess
    expect(response.statusCode).toBe(201)
    expect(response.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
    const body = bodyOf(response)
    expect(Object.keys(body).sort()).toEqual(['apikey', 'expiresAt', 'keyId'])
    expect(body.expiresAt).toBe(new Date((NOW + 2_592_000) * 1000).toISOString())
    const verification = verifyApiKey(String(body.apikey), loadApiKeyConfig(deployEnv(), 'verify'), NOW)
    expect(verification).toEqual({
      valid: true,
      identity: { orgId: 'acme', userId: 'auth0|alice', keyId: body.keyId, issuedAt: NOW, expiresAt: NOW + 2_592_000, kid: 'k-1' }
    })
  })

  it('uses sub as the company when the ID token has no company claim', async () => {
    freezeTime()
    const createKey = await coldStart(deployEnv())
    const response = await createKey.invoke(createKeyEvent(await portalLogin({ org: undefined }), ''))
    const verification = verifyApiKey(String(bodyOf(response).apikey), loadApiKeyConfig(deployEnv(), 'verify'), NOW)
    expect(verification.valid && verification.identity.orgId).toBe('auth0|alice')
  })

  it('shortens the lifetime when the body asks for it', async () => {
    freezeTime()
    const createKey = await coldStart(deployEnv())
    const response = await createKey.invoke(createKeyEvent(await portalLogin(), '{"expiresIn":"1h"}'))
    expect(bodyOf(response).expiresAt).toBe(new Date((NOW + 3600) * 1000).toISOString())
  })

  it.each([['{"org_id":"globex"}'], ['{"sub":"auth0|mallory"}'], ['{"companyId":"globex","name":"x"}']])(
    'never takes the identity from the body: %s is a 400',
    async (body) => {
      freezeTime()
      const createKey = await coldStart(deployEnv())
      const response = await createKey.invoke(createKeyEvent(await portalLogin(), body))
      expect(response.statusCode).toBe(400)
      expect(bodyOf(response)).toMatchObject({ code: 'ERR_BAD_BODY' })
    }
  )

  it('never logs the API key or the ID token', async () => {
    // Prepare
    freezeTime()
    const createKey = await coldStart(deployEnv())
    const headers = await portalLogin()
    // Act
    const response = await createKey.invoke(createKeyEvent(headers, '{"name":"ci"}'))
    // Assess
    const apikey = String(bodyOf(response).apikey)
    const idToken = headers.authorization?.slice('Bearer '.length) ?? ''
    expect(createKey.lines.length).toBeGreaterThan(0)
    for (const line of createKey.lines) {
      expect(line).not.toContain(apikey)
      expect(line).not.toContain(apikey.split('.')[2])
      expect(line).not.toContain(idToken)
    }
  })
})

describe('create-key handler: refuses', () => {
  it('a request without portal token with 401 ERR_PORTAL_TOKEN_MISSING', async () => {
    // Prepare
    const createKey = await coldStart(deployEnv())
    // Act
    const response = await createKey.invoke(createKeyEvent({}, '{"name":"ci"}'))
    // Assess
    expect(response.statusCode).toBe(401)
    expect(response.headers?.['cache-control']).toBe('no-store')
    expect(bodyOf(response)).toEqual({ message: expect.any(String), code: 'ERR_PORTAL_TOKEN_MISSING', requestId: REQUEST_ID })
  })

  it('checks the portal token before the body (401, not 400, for an anonymous bad body)', async () => {
    const createKey = await coldStart(deployEnv())
    const response = await createKey.invoke(createKeyEvent({}, 'not json'))
    expect(response.statusCode).toBe(401)
  })

  const badTokens: [string, () => Promise<string>][] = [
    ['an ID token from another identity provider', () => otherIdp.mint({ sub: 'auth0|alice', org: 'acme', nowSeconds: NOW })],
    ['an expired ID token', () => idp.mint({ sub: 'auth0|alice', nowSeconds: NOW - 7200, expiresInSeconds: 3600 })],
    ['an ID token for another client', () => idp.mint({ sub: 'auth0|alice', audience: 'another-client', nowSeconds: NOW })],
    [
      'one of our own API keys instead of an ID token',
      async () => (await issueApiKey(loadApiKeyConfig(deployEnv(), 'sign'), { userId: 'auth0|alice', companyId: 'acme' }, { nowSeconds: NOW })).apikey
    ]
  ]

  it.each(badTokens)('%s with 401 ERR_PORTAL_TOKEN_INVALID, without echoing it', async (_name, makeToken) => {
    // Prepare
    freezeTime()
    const token = await makeToken()
    const createKey = await coldStart(deployEnv())
    // Act
    const response = await createKey.invoke(createKeyEvent({ authorization: `Bearer ${token}` }, '{}'))
    // Assess
    expect(response.statusCode).toBe(401)
    expect(bodyOf(response)).toEqual({ message: expect.any(String), code: 'ERR_PORTAL_TOKEN_INVALID', requestId: REQUEST_ID })
    expect(response.body).not.toContain(token)
    expect(response.body).not.toContain(token.split('.')[1])
  })

  it.each([
    ['not JSON', 'name=ci', 400, 'ERR_BAD_BODY'],
    ['a JSON array', '[]', 400, 'ERR_BAD_BODY'],
    ['an unknown field', '{"scope":"admin"}', 400, 'ERR_BAD_BODY'],
    ['a bad expiresIn', '{"expiresIn":"soon"}', 400, 'ERR_BAD_BODY'],
    ['a non-string name', '{"name":1}', 400, 'ERR_BAD_BODY'],
    ['a body over 4 KB', JSON.stringify({ name: 'x' }).padEnd(5000, ' '), 413, 'ERR_BODY_TOO_LARGE']
  ] as const)('a logged-in request with %s with %i', async (_name, body, status, code) => {
    // Prepare
    freezeTime()
    const createKey = await coldStart(deployEnv())
    // Act
    const response = await createKey.invoke(createKeyEvent(await portalLogin(), body))
    // Assess
    expect(response.statusCode).toBe(status)
    expect(response.headers?.['cache-control']).toBe('no-store')
    expect(bodyOf(response)).toEqual({ message: expect.any(String), code, requestId: REQUEST_ID })
  })
})

describe('create-key handler: a misconfigured deploy', () => {
  const generic = { message: 'Internal Server Error', code: 'ERR_INTERNAL', requestId: REQUEST_ID }

  it('answers a generic 500 when JWT_SECRET is missing, naming the variable only in the log', async () => {
    // Prepare
    freezeTime()
    const createKey = await coldStart(deployEnv({ JWT_SECRET: undefined }))
    // Act
    const response = await createKey.invoke(createKeyEvent(await portalLogin(), '{}'))
    // Assess
    expect(response.statusCode).toBe(500)
    expect(response.headers?.['cache-control']).toBe('no-store')
    expect(bodyOf(response)).toEqual(generic)
    expect(response.body).not.toMatch(/JWT_|PORTAL_|secret/i)
    const errors = createKey.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.level === 'ERROR')
    expect(errors).toMatchObject([{ status: 500, code: 'ERR_CONFIG', error: { name: 'ConfigError' } }])
    expect(JSON.stringify(errors)).toContain('JWT_SECRET')
  })

  it.each([
    ['an HS256 secret that is too short', () => ({ JWT_ALGORITHM: 'HS256', JWT_SECRET: randomHmacSecret(31) })],
    ['a PEM as the HS256 secret', () => ({ JWT_ALGORITHM: 'HS256', JWT_SECRET: secretFor('RS256') })],
    ['an RS256 private key for ES256', () => ({ JWT_ALGORITHM: 'ES256', JWT_SECRET: secretFor('RS256') })]
  ])('answers a generic 500 for %s and never shows the secret, in the body or the log', async (_name, secrets) => {
    // Prepare
    freezeTime()
    const env = secrets()
    const createKey = await coldStart(deployEnv(env))
    // Act
    const response = await createKey.invoke(createKeyEvent(await portalLogin(), '{}'))
    // Assess
    expect(response.statusCode).toBe(500)
    expect(bodyOf(response)).toEqual(generic)
    const pemBodyLine = env.JWT_SECRET.split('\n')[1] ?? env.JWT_SECRET
    for (const text of [response.body ?? '', ...createKey.lines]) {
      expect(text).not.toContain(env.JWT_SECRET)
      expect(text).not.toContain(pemBodyLine)
    }
  })

  it('answers a generic 500 when the portal settings are missing', async () => {
    freezeTime()
    const createKey = await coldStart(deployEnv({ PORTAL_AUDIENCE: undefined }))
    const response = await createKey.invoke(createKeyEvent(await portalLogin(), '{}'))
    expect(response.statusCode).toBe(500)
    expect(bodyOf(response)).toEqual(generic)
  })

  it('answers 503 ERR_UNAVAILABLE when the identity provider cannot be reached', async () => {
    // Prepare
    freezeTime()
    const createKey = await coldStart(deployEnv({ PORTAL_JWKS_URI: await unreachableJwksUri() }))
    // Act
    const response = await createKey.invoke(createKeyEvent(await portalLogin(), '{}'))
    // Assess
    expect(response.statusCode).toBe(503)
    expect(bodyOf(response)).toEqual({ message: 'Service Unavailable', code: 'ERR_UNAVAILABLE', requestId: REQUEST_ID })
  })

  it('recovers once the configuration is fixed (a failed load is not cached)', async () => {
    // Prepare
    freezeTime()
    const createKey = await coldStart(deployEnv({ JWT_SECRET: undefined }))
    const headers = await portalLogin()
    expect((await createKey.invoke(createKeyEvent(headers, '{}'))).statusCode).toBe(500)
    // Act
    vi.stubEnv('JWT_SECRET', secretFor('ES256'))
    const response = await createKey.invoke(createKeyEvent(headers, '{}'))
    // Assess
    expect(response.statusCode).toBe(201)
  })
})
