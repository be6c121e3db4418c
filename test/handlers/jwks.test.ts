/**
 * The deployed JWKS export with real payload 2.0 events: what other verifiers
 * fetch to check API keys themselves.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose'
import { describe, expect, it, vi } from 'vitest'
import { loadApiKeyConfig } from '../../src/lib/keys/api-key-config'
import { issueApiKey } from '../../src/lib/keys/issue-api-key'
import { coldStartModule } from '../support/cold-start'
import { lambdaInvoker } from '../support/deployed-handlers'
import { httpApiEvent } from '../support/events'
import { envFor, hmacSecret, publicPemFor, secretFor, type EnvRecord } from '../support/keys'

const NOW = 1_700_000_000
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

/** The JWKS handler as deployed with `env`: a cold start, with its log lines captured. */
async function coldStart(env: EnvRecord) {
  const { module, lines } = await coldStartModule(() => import('../../src/handlers/jwks'), env)
  const handle = lambdaInvoker(module.handler, { awsRequestId: 'req-jwks' })
  const invoke = (): Promise<APIGatewayProxyStructuredResultV2> => handle(httpApiEvent({ method: 'GET', path: '/.well-known/jwks.json' }))
  return { invoke, lines }
}

function jwksOf(response: APIGatewayProxyStructuredResultV2): JSONWebKeySet {
  return JSON.parse(response.body ?? 'null') as JSONWebKeySet
}

describe('jwks handler', () => {
  it.each([['HS256'], ['HS512']] as const)('%s answers 200 { keys: [] } (secrets are never published)', async (alg) => {
    // Prepare
    const jwks = await coldStart(envFor(alg))
    // Act
    const response = await jwks.invoke()
    // Assess
    expect(response.statusCode).toBe(200)
    expect(jwksOf(response)).toEqual({ keys: [] })
    expect(response.body).not.toContain(hmacSecret(alg))
  })

  it('lets the public key set be cached, as JSON', async () => {
    const response = await (await coldStart(envFor('HS256'))).invoke()
    expect(response.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300' })
  })

  it.each([
    ['RS256 from the private key', () => envFor('RS256', { JWT_KID: 'k-1' }), 'RSA'],
    ['ES256 from JWT_VERIFY_KEY only', () => ({ JWT_ALGORITHM: 'ES256', JWT_KID: 'k-1', JWT_VERIFY_KEY: publicPemFor('ES256') }), 'EC'],
    ['EdDSA from the private key', () => envFor('EdDSA', { JWT_KID: 'k-1' }), 'OKP']
  ])('%s publishes one public %s key with kid, alg and use', async (_name, env, kty) => {
    // Prepare
    const settings = env()
    const jwks = await coldStart(settings)
    // Act
    const response = await jwks.invoke()
    // Assess
    expect(response.statusCode).toBe(200)
    const { keys } = jwksOf(response)
    expect(keys).toHaveLength(1)
    expect(keys[0]).toMatchObject({ kty, kid: 'k-1', alg: settings.JWT_ALGORITHM, use: 'sig' })
    for (const member of PRIVATE_MEMBERS) expect(keys[0]).not.toHaveProperty(member)
  })

  it('publishes a key set a third party can verify issued keys with', async () => {
    // Prepare
    const env = envFor('RS256', { JWT_KID: 'k-1' })
    const issued = await issueApiKey(loadApiKeyConfig(env, 'sign'), { userId: 'u-1', companyId: 'acme' }, { nowSeconds: NOW })
    // Act
    const response = await (await coldStart(env)).invoke()
    // Assess
    const { payload } = await jwtVerify(issued.apikey, createLocalJWKSet(jwksOf(response)), { currentDate: new Date(NOW * 1000) })
    expect(payload).toMatchObject({ sub: 'u-1', org_id: 'acme', jti: issued.keyId })
  })

  it('never publishes the private key, even when it holds it', async () => {
    const response = await (await coldStart(envFor('RS256'))).invoke()
    const pemBodyLine = secretFor('RS256').split('\n')[1] ?? ''
    expect(pemBodyLine.length).toBeGreaterThan(0)
    expect(response.body).not.toContain(pemBodyLine)
  })

  it('answers a generic 500 (no variable name) when JWT_ALGORITHM is missing', async () => {
    // Prepare
    const jwks = await coldStart({ JWT_VERIFY_KEY: publicPemFor('ES256') })
    // Act
    const response = await jwks.invoke()
    // Assess
    expect(response.statusCode).toBe(500)
    expect(response.headers?.['cache-control']).toBe('no-store')
    expect(JSON.parse(response.body ?? 'null')).toEqual({ message: 'Internal Server Error', code: 'ERR_INTERNAL', requestId: 'req-jwks' })
    expect(response.body).not.toContain('JWT_')
  })

  it('answers a generic 500 when JWT_VERIFY_KEY is garbage, without echoing it', async () => {
    const garbage = '-----BEGIN PUBLIC KEY-----\nZ2FyYmFnZS1rZXktbWF0ZXJpYWw=\n-----END PUBLIC KEY-----'
    const jwks = await coldStart({ JWT_ALGORITHM: 'ES256', JWT_VERIFY_KEY: garbage })
    const response = await jwks.invoke()
    expect(response.statusCode).toBe(500)
    for (const text of [response.body ?? '', ...jwks.lines]) expect(text).not.toContain('Z2FyYmFnZS1rZXktbWF0ZXJpYWw')
  })

  it('builds the key set once, at cold start', async () => {
    // Prepare
    const jwks = await coldStart(envFor('ES256', { JWT_KID: 'k-1' }))
    const first = await jwks.invoke()
    // Act: a changed environment after the cold start changes nothing
    vi.stubEnv('JWT_KID', 'k-2')
    const second = await jwks.invoke()
    // Assess
    expect(second.body).toBe(first.body)
    expect(jwksOf(second).keys[0]?.kid).toBe('k-1')
  })
})
