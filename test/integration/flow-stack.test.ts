import { randomBytes } from 'node:crypto'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OPENAPI_DOCUMENT } from '../../src/lib/http/openapi'
import { startMoesifCollector, type MoesifCollector } from '../../src/local/moesif-collector'
import { startTestIdentityProvider, untrustedIdentityProvider, type TestIdentityProvider } from '../support/identity-provider'
import { stackStartTimeout, startLocalStack, STACK_TIMEOUTS, type LocalStack } from '../support/local-stack'
import { openApiContract } from '../support/openapi-contract'

/**
 * The README's flow, through the real local stack (serverless-offline with
 * the esbuild bundles), a JWKS server and a Moesif collector on loopback.
 * Every API response is also checked against the OpenAPI document. Timeouts
 * are sized for a busy 2-core machine (test/support/local-stack.ts).
 */
describe('end-to-end: portal login -> key -> protected API -> Moesif', { timeout: STACK_TIMEOUTS.call }, () => {
  const secret = randomBytes(48).toString('base64url')
  let idp: TestIdentityProvider
  let collector: MoesifCollector
  let stack: LocalStack

  beforeAll(async () => {
    idp = await startTestIdentityProvider()
    collector = await startMoesifCollector()
    stack = await startLocalStack({
      JWT_ALGORITHM: 'HS256',
      JWT_SECRET: secret,
      ...idp.env,
      MOESIF_APPLICATION_ID: 'e2e-app',
      MOESIF_BASE_URI: collector.baseUri
    })
  }, stackStartTimeout())

  afterAll(async () => {
    await stack?.stop()
    await collector?.close()
    await idp?.close()
  })

  const createKey = async (idToken: string | undefined, body?: unknown): Promise<Response> =>
    openApiContract.fetch(`${stack.baseUrl}/create-key`, {
      method: 'POST',
      headers: { ...(idToken === undefined ? {} : { authorization: `Bearer ${idToken}` }), 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })

  const whoami = async (apiKey: string | undefined): Promise<Response> =>
    openApiContract.fetch(`${stack.baseUrl}/v1/whoami`, { headers: apiKey === undefined ? {} : { Authorization: `Bearer ${apiKey}` } })

  it('issues a key to a portal user, serves the protected API with it, and reports the call to Moesif by company', async () => {
    // Prepare
    const idToken = await idp.mint({ sub: 'auth0|alice', email: 'alice@acme.test', org: 'acme' })

    // Act
    const created = await createKey(idToken, { name: 'ci' })
    const body = (await created.json()) as { apikey: string; keyId: string; expiresAt: string }
    const called = await whoami(body.apikey)
    const identity = await called.json()
    const [event] = await collector.waitForEvents(1, 5000)

    // Assess
    expect(created.status).toBe(201)
    expect(body.apikey.split('.')).toHaveLength(3)
    expect(new Date(body.expiresAt).getTime()).toBeGreaterThan(Date.now())
    expect(called.status).toBe(200)
    expect(identity).toEqual({ orgId: 'acme', userId: 'auth0|alice', keyId: body.keyId })
    expect(collector.events).toHaveLength(1)
    expect(event?.company_id).toBe('acme')
    expect(event?.user_id).toBe('auth0|alice')
    expect(event?.response.status).toBe(200)
    expect(JSON.stringify(event)).not.toContain(body.apikey)
    const authorization = Object.entries(event?.request.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1]
    expect(authorization).toBe('*****')
    expect(stack.output()).not.toContain(body.apikey)
  })

  it('answers 401 without a key, and 403 for a tampered, expired or wrong-algorithm key', async () => {
    const idToken = await idp.mint({ sub: 'auth0|bob', org: 'globex' })
    const { apikey } = (await (await createKey(idToken)).json()) as { apikey: string }
    const [header, payload, signature] = apikey.split('.') as [string, string, string]
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), org_id: 'acme' })).toString('base64url')
    const now = Math.floor(Date.now() / 1000)
    const key = new TextEncoder().encode(secret)
    const expired = await new SignJWT({ sub: 'auth0|bob', org_id: 'globex' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(key)
    const wrongAlg = await new SignJWT({ sub: 'auth0|bob', org_id: 'globex' })
      .setProtectedHeader({ alg: 'HS512', typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(new Uint8Array(randomBytes(64)))

    expect((await whoami(undefined)).status).toBe(401)
    expect((await whoami(`${header}.${forged}.${signature}`)).status).toBe(403)
    expect((await whoami(`${header}.${payload}.${signature.slice(0, -4)}AAAA`)).status).toBe(403)
    expect((await whoami(expired)).status).toBe(403)
    expect((await whoami(wrongAlg)).status).toBe(403)
    expect((await whoami(apikey)).status).toBe(200)
  })

  it('refuses key issuing without a valid portal login, and with a bad body', async () => {
    const idToken = await idp.mint({ sub: 'auth0|carol', org: 'initech' })
    const otherIdp = await untrustedIdentityProvider()
    const foreign = await otherIdp.mint({ sub: 'auth0|mallory', org: 'acme' })

    const missing = await createKey(undefined)
    const forgedLogin = await createKey(foreign)
    const badBody = await createKey(idToken, ['not', 'an', 'object'])

    expect(missing.status).toBe(401)
    expect(await missing.json()).toMatchObject({ message: expect.any(String) })
    expect(forgedLogin.status).toBe(401)
    expect(badBody.status).toBe(400)
  })

  it('answers CORS preflight for the portal origin', async () => {
    // API Gateway answers preflights itself (serverless.yml httpApi.cors): not an API operation, so outside the OpenAPI contract.
    const response = await fetch(`${stack.baseUrl}/create-key`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://127.0.0.1:4000',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type'
      }
    })
    expect(response.status).toBeLessThan(300)
    expect(response.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:4000')
  })

  it('publishes an empty JWKS for HS256', async () => {
    const response = await openApiContract.fetch(`${stack.baseUrl}/.well-known/jwks.json`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ keys: [] })
  })

  it('serves its OpenAPI document, open like the JWKS', async () => {
    const response = await openApiContract.fetch(`${stack.baseUrl}/openapi.json`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual(OPENAPI_DOCUMENT)
  })
})
