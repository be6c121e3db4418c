/**
 * `POST /local/login`: tokens minted with the key pair npm start keeps in the
 * state folder, verified by the real portal verifier against a JWKS on loopback.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { ConfigError, HttpError } from '../../src/lib/runtime/errors'
import { loadPortalConfig } from '../../src/lib/portal/portal-config'
import { createPortalTokenVerifier } from '../../src/lib/portal/portal-identity'
import { ensureLocalState } from '../../src/local/local-state'
import { loadLocalLoginDeps, localLogin, parseLocalLoginRequest } from '../../src/local/local-login'
import { httpApiEvent, lambdaContext } from '../support/events'
import { LOCAL_IDP_AUDIENCE, LOCAL_IDP_ISSUER, startTestIdentityProvider, type TestIdentityProvider } from '../support/identity-provider'
import { useProcessEnv } from '../support/process-env'

const NOW = 1_700_000_000
let stateDir: string
let idp: TestIdentityProvider
let env: Record<string, string>

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'dpk-login-'))
  const state = await ensureLocalState(stateDir)
  // The key pair npm start keeps in the state folder, served like the stack serves it.
  idp = await startTestIdentityProvider({ keys: state.identityProvider })
  env = { ...idp.env, LOCAL_STATE_DIR: stateDir }
})
afterAll(async () => {
  await idp?.close()
})
afterEach(() => {
  vi.unstubAllEnvs()
})

const body = (value: unknown) => ({ body: JSON.stringify(value), isBase64Encoded: false })

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (error: unknown) => error
  )
}

describe('localLogin', () => {
  it('mints an ID token the stack accepts, naming the user and company', async () => {
    // Prepare
    const deps = await loadLocalLoginDeps(env)
    const verify = createPortalTokenVerifier(loadPortalConfig(env))

    // Act
    const response = await localLogin(deps, body({ sub: 'auth0|alice', email: 'alice@acme.test', org: 'acme' }))
    const answer = JSON.parse(response.body ?? '') as { idToken: string; userId: string; companyId: string; email: string }

    // Assess
    expect(response.statusCode).toBe(200)
    expect(answer).toMatchObject({ userId: 'auth0|alice', companyId: 'acme', email: 'alice@acme.test' })
    expect(await verify(answer.idToken)).toEqual({ userId: 'auth0|alice', companyId: 'acme', email: 'alice@acme.test' })
  })

  it('makes a one-user company without org, uses the configured company claim, and expires in an hour', async () => {
    const deps = { ...(await loadLocalLoginDeps({ ...env, PORTAL_COMPANY_ID_CLAIM: 'tenant' })), nowSeconds: () => NOW + 0.7 }

    const solo = JSON.parse((await localLogin(deps, body({ sub: 'auth0|bob' }))).body ?? '') as {
      idToken: string
      companyId: string
      expiresAt: string
      email: null
    }
    const withOrg = JSON.parse((await localLogin(deps, body({ sub: 'auth0|carol', org: 'initech' }))).body ?? '') as { idToken: string }

    expect(solo).toMatchObject({ companyId: 'auth0|bob', email: null, expiresAt: new Date((NOW + 3600) * 1000).toISOString() })
    expect(decodeJwt(solo.idToken)).toMatchObject({ sub: 'auth0|bob', iat: NOW, exp: NOW + 3600, iss: LOCAL_IDP_ISSUER, aud: LOCAL_IDP_AUDIENCE })
    expect(decodeJwt(withOrg.idToken)).toMatchObject({ tenant: 'initech' })
  })

  it('refuses with 409 when the stack trusts another identity provider', async () => {
    const deps = await loadLocalLoginDeps({ ...env, PORTAL_ISSUER: 'https://tenant.eu.auth0.com/' })

    const error = await rejectionOf(localLogin(deps, body({ sub: 'auth0|alice' })))

    expect(error).toBeInstanceOf(HttpError)
    expect(error).toMatchObject({ statusCode: 409, code: 'ERR_LOCAL_IDP_NOT_IN_USE' })
  })

  it('fails init, naming LOCAL_STATE_DIR, when the key pair is not there', async () => {
    const error = await rejectionOf(loadLocalLoginDeps({ ...env, LOCAL_STATE_DIR: join(stateDir, 'missing') }))

    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ variable: 'LOCAL_STATE_DIR' })
  })
})

describe('parseLocalLoginRequest', () => {
  it.each([
    ['no body', undefined, 400],
    ['not JSON', '{', 400],
    ['an array', '[]', 400],
    ['no sub', '{"email":"a@b.test"}', 400],
    ['a blank sub', '{"sub":"  "}', 400],
    ['a control character', '{"sub":"a\\u0000b"}', 400],
    ['an unknown field', '{"sub":"a","org_id":"acme"}', 400],
    ['a sub too long', JSON.stringify({ sub: 'x'.repeat(257) }), 400],
    ['over 4 KB', JSON.stringify({ sub: 'x'.repeat(5000) }), 413]
  ])('refuses %s', (_case, raw, status) => {
    let error: unknown
    try {
      parseLocalLoginRequest(raw)
    } catch (thrown) {
      error = thrown
    }
    expect(error).toBeInstanceOf(HttpError)
    expect(error).toMatchObject({ statusCode: status, code: status === 413 ? 'ERR_BODY_TOO_LARGE' : 'ERR_BAD_BODY' })
  })

  it('trims, and treats empty optional fields as absent', () => {
    expect(parseLocalLoginRequest('{"sub":" auth0|alice ","email":"","org":null}')).toEqual({ sub: 'auth0|alice', email: undefined, org: undefined })
  })
})

describe('local-login handler (the local-stage export)', () => {
  it('answers errors as { message, code, requestId }', async () => {
    // Prepare: a stack that trusts Auth0, not the local identity provider.
    useProcessEnv({ PORTAL_ISSUER: 'https://tenant.eu.auth0.com/', PORTAL_AUDIENCE: 'client' })
    // The stack's port, as config/local-functions.cjs sets it: the handler answers only its own page there.
    vi.stubEnv('LOCAL_STACK_PORT', '3000')
    vi.resetModules()
    const { setLogSink } = await import('../../src/lib/runtime/logger')
    const lines: string[] = []
    const restore = setLogSink((line) => lines.push(line))
    const { handler } = await import('../../src/local/handlers/local-login')

    // Act
    const event = {
      ...httpApiEvent({ method: 'POST', path: '/local/login', headers: { host: '127.0.0.1:3000' }, sourceIp: '127.0.0.1' }),
      body: '{"sub":"auth0|alice"}'
    }
    const response = await handler(event, lambdaContext({ awsRequestId: 'req-login' }) as Parameters<typeof handler>[1]).finally(restore)

    // Assess
    expect(response.statusCode).toBe(409)
    expect(JSON.parse(response.body ?? '')).toEqual({ message: expect.any(String), code: 'ERR_LOCAL_IDP_NOT_IN_USE', requestId: 'req-login' })
    expect(lines.map((line) => JSON.parse(line) as { code?: string })).toEqual([expect.objectContaining({ code: 'ERR_LOCAL_IDP_NOT_IN_USE' })])
  })
})
