/**
 * The deployed authorizer export (middy + config middleware) with real
 * payload 2.0 REQUEST authorizer events. Each configuration gets a fresh copy
 * of the handler module (vi.resetModules), exactly like a cold start.
 */
import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { loadApiKeyConfig } from '../../src/lib/keys/api-key-config'
import { issueApiKey } from '../../src/lib/keys/issue-api-key'
import { coldStartModule } from '../support/cold-start'
import { lambdaInvoker } from '../support/deployed-handlers'
import { authorizerEvent } from '../support/events'
import { segmentsOf } from '../support/jws'
import { envFor, hmacSecret, publicPemFor, secretFor, type EnvRecord } from '../support/keys'
import { describeApiKeySecuritySuite } from '../support/security-suite'

const NOW = 1_700_000_000
/** A simple-response (payload 2.0) authorizer answer. */
type AuthorizerAnswer = APIGatewaySimpleAuthorizerWithContextResult<Record<string, string>>
const OWNER = { userId: 'auth0|alice', companyId: 'acme' } as const

/** The authorizer as deployed with `env`: a cold start, with its log lines captured. */
async function coldStart(env: EnvRecord) {
  const { module, lines } = await coldStartModule(() => import('../../src/handlers/authorizer'), env)
  // The middleware adds the config to the context; the stub is what the runtime hands in.
  const handle = lambdaInvoker(module.handler)
  const invoke = async (event: APIGatewayRequestAuthorizerEventV2): Promise<AuthorizerAnswer> => (await handle(event)) as AuthorizerAnswer
  const logs = (): Record<string, unknown>[] => lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  // Cold start may add its own lines (a warning that revocation is off); decisions carry `decision`.
  const decisions = (): Record<string, unknown>[] => logs().filter((line) => 'decision' in line)
  return { invoke, lines, logs, decisions }
}

afterEach(() => {
  vi.useRealTimers()
})

function freezeTimeAt(seconds: number): void {
  // Only Date: middy's early-timeout timer must stay real.
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(seconds * 1000)
}

async function apiKeyFor(env: EnvRecord, nowSeconds = NOW, lifetimeSeconds?: number) {
  return issueApiKey(loadApiKeyConfig(env, 'sign'), OWNER, { nowSeconds, lifetimeSeconds })
}

/** Sign with JWT_SECRET, verify with only the public key: the split a real deployment uses. */
const SIGN_ENV = (): EnvRecord => envFor('RS256', { JWT_KID: 'k-1' })
// Every allow logged (the default samples them; see authorizer-log-sampling.test.ts), so each decision's line can be checked.
const VERIFY_ENV = (): EnvRecord => ({ JWT_ALGORITHM: 'RS256', JWT_KID: 'k-1', JWT_VERIFY_KEY: publicPemFor('RS256'), LOG_ALLOW_SAMPLE_RATE: '1' })

describe('authorizer handler: decisions', () => {
  it('allows a valid key with the identity as context', async () => {
    // Prepare
    freezeTimeAt(NOW)
    const issued = await apiKeyFor(SIGN_ENV())
    const authorizer = await coldStart(VERIFY_ENV())
    // Act
    const result = await authorizer.invoke(authorizerEvent({ headers: { authorization: `Bearer ${issued.apikey}` } }))
    // Assess
    expect(result).toStrictEqual({ isAuthorized: true, context: { orgId: 'acme', userId: 'auth0|alice', keyId: issued.keyId } })
  })

  it('denies a bad key with exactly { isAuthorized: false } (no context, no reason)', async () => {
    // Prepare
    freezeTimeAt(NOW)
    const forged = await apiKeyFor({ ...SIGN_ENV(), JWT_SECRET: secretFor('RS256', 'attacker') })
    const authorizer = await coldStart(VERIFY_ENV())
    // Act
    const result = await authorizer.invoke(authorizerEvent({ headers: { authorization: `Bearer ${forged.apikey}` } }))
    // Assess
    expect(result).toStrictEqual({ isAuthorized: false })
  })

  const headerCases = ['Authorization', 'authorization', 'AUTHORIZATION'].flatMap((name) => [
    [name, 'Bearer <key>'] as const,
    [name, '<key>'] as const
  ])

  it.each(headerCases)('reads the header %s with the value %j', async (name, shape) => {
    // Prepare
    freezeTimeAt(NOW)
    const issued = await apiKeyFor(SIGN_ENV())
    const authorizer = await coldStart(VERIFY_ENV())
    const event = authorizerEvent({ headers: { [name]: shape.replace('<key>', issued.apikey) } })
    // Act
    const result = await authorizer.invoke(event)
    // Assess
    expect(result.isAuthorized).toBe(true)
  })

  it.each([
    ['no Authorization header', {}],
    ['an empty Authorization header', { authorization: '' }],
    ['a bare "Bearer"', { authorization: 'Bearer' }],
    ['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }]
  ])('denies %s with MISSING_TOKEN', async (_name, headers) => {
    // Prepare
    const authorizer = await coldStart(VERIFY_ENV())
    // Act
    const result = await authorizer.invoke(authorizerEvent({ headers }))
    // Assess
    expect(result).toStrictEqual({ isAuthorized: false })
    expect(authorizer.decisions()).toMatchObject([{ decision: 'deny', reason: 'MISSING_TOKEN' }])
  })

  it('denies an event without headers at all', async () => {
    const authorizer = await coldStart(VERIFY_ENV())
    const event = authorizerEvent()
    delete event.headers
    expect(await authorizer.invoke(event)).toStrictEqual({ isAuthorized: false })
  })

  it('denies a key once it has expired (clock read at each request)', async () => {
    // Prepare
    freezeTimeAt(NOW)
    const issued = await apiKeyFor(SIGN_ENV(), NOW, 3600)
    const authorizer = await coldStart(VERIFY_ENV())
    const event = authorizerEvent({ headers: { authorization: `Bearer ${issued.apikey}` } })
    // Act
    const before = await authorizer.invoke(event)
    vi.setSystemTime((NOW + 3600 + 31) * 1000)
    const after = await authorizer.invoke(event)
    // Assess
    expect(before.isAuthorized).toBe(true)
    expect(after).toStrictEqual({ isAuthorized: false })
    expect(authorizer.decisions().map((line) => line.reason ?? line.decision)).toEqual(['allow', 'EXPIRED'])
  })

  it('reads the configuration once, at cold start', async () => {
    // Prepare
    freezeTimeAt(NOW)
    const issued = await apiKeyFor(SIGN_ENV())
    const authorizer = await coldStart(VERIFY_ENV())
    const event = authorizerEvent({ headers: { authorization: issued.apikey } })
    await authorizer.invoke(event)
    // Act: a changed environment after the cold start changes nothing
    vi.stubEnv('JWT_ALGORITHM', 'HS256')
    vi.stubEnv('JWT_VERIFY_KEY', undefined)
    const result = await authorizer.invoke(event)
    // Assess
    expect(result.isAuthorized).toBe(true)
  })
})

describe('authorizer handler: a misconfigured deploy fails, it never looks like a rejected key', () => {
  it.each([
    ['no JWT_ALGORITHM', { JWT_VERIFY_KEY: publicPemFor('RS256') }, 'JWT_ALGORITHM'],
    ['no key at all', { JWT_ALGORITHM: 'RS256' }, 'JWT_SECRET'],
    ['a PEM as the HS256 secret', { JWT_ALGORITHM: 'HS256', JWT_SECRET: publicPemFor('RS256') }, 'JWT_SECRET'],
    ['an HS256 secret that is too short', { JWT_ALGORITHM: 'HS256', JWT_SECRET: hmacSecret('HS256').slice(0, 31) }, 'JWT_SECRET']
  ])('rejects the invocation with %s', async (_name, env, variable) => {
    // Prepare
    const authorizer = await coldStart(env)
    const issued = await apiKeyFor(SIGN_ENV())
    // Act
    const invocation = authorizer.invoke(authorizerEvent({ headers: { authorization: `Bearer ${issued.apikey}` } }))
    // Assess
    await expect(invocation).rejects.toMatchObject({ code: 'ERR_CONFIG', variable })
    expect(authorizer.decisions()).toEqual([])
  })

  it('tries again on the next invocation (a failed load is not cached)', async () => {
    // Prepare
    freezeTimeAt(NOW)
    const issued = await apiKeyFor(SIGN_ENV())
    const authorizer = await coldStart({ JWT_ALGORITHM: 'RS256' })
    const event = authorizerEvent({ headers: { authorization: issued.apikey } })
    await expect(authorizer.invoke(event)).rejects.toMatchObject({ code: 'ERR_CONFIG' })
    // Act
    vi.stubEnv('JWT_VERIFY_KEY', publicPemFor('RS256'))
    vi.stubEnv('JWT_KID', 'k-1')
    const result = await authorizer.invoke(event)
    // Assess
    expect(result.isAuthorized).toBe(true)
  })
})

describe('authorizer handler: logging', () => {
  it('writes one line per decision, with a reason code, the request id and never the key', async () => {
    // Prepare
    freezeTimeAt(NOW)
    const issued = await apiKeyFor(SIGN_ENV())
    const [header, payload, signature] = segmentsOf(issued.apikey)
    const tampered = `${header}.${payload}.${signature.slice(0, -4)}AAAA`
    const authorizer = await coldStart(VERIFY_ENV())
    const events = [
      authorizerEvent({ requestId: 'req-allow', headers: { authorization: `Bearer ${issued.apikey}` } }),
      authorizerEvent({ requestId: 'req-bad-signature', headers: { authorization: `Bearer ${tampered}` } }),
      authorizerEvent({ requestId: 'req-malformed', headers: { authorization: 'Bearer not.a-valid.token!' } }),
      authorizerEvent({ requestId: 'req-missing', headers: {} })
    ]
    // Act
    for (const event of events) await authorizer.invoke(event)
    // Assess
    expect(authorizer.decisions()).toStrictEqual([
      expect.objectContaining({
        level: 'INFO',
        service: 'authorizer',
        requestId: 'req-allow',
        decision: 'allow',
        keyId: issued.keyId,
        orgId: 'acme'
      }),
      expect.objectContaining({ level: 'INFO', service: 'authorizer', requestId: 'req-bad-signature', decision: 'deny', reason: 'BAD_SIGNATURE' }),
      expect.objectContaining({ level: 'INFO', service: 'authorizer', requestId: 'req-malformed', decision: 'deny', reason: 'MALFORMED' }),
      expect.objectContaining({ level: 'INFO', service: 'authorizer', requestId: 'req-missing', decision: 'deny', reason: 'MISSING_TOKEN' })
    ])
    // Nothing else is logged per request: any other line comes from the cold start, before the first request id.
    expect(authorizer.logs().filter((line) => !('decision' in line) && 'requestId' in line)).toEqual([])
    for (const line of authorizer.lines) {
      for (const secret of [issued.apikey, tampered, payload, signature, 'not.a-valid.token!']) expect(line).not.toContain(secret)
    }
  })
})

describeApiKeySecuritySuite('authorizer handler (RS256, verify key only)', () => {
  let authorizer: Awaited<ReturnType<typeof coldStart>> | undefined
  return {
    companyIdField: 'org_id',
    issue: async (nowSeconds, lifetimeSeconds) => (await apiKeyFor(SIGN_ENV(), nowSeconds, lifetimeSeconds)).apikey,
    forge: async (nowSeconds) => (await apiKeyFor({ ...SIGN_ENV(), JWT_SECRET: secretFor('RS256', 'attacker') }, nowSeconds)).apikey,
    attempt: async (token, nowSeconds) => {
      authorizer ??= await coldStart(VERIFY_ENV())
      freezeTimeAt(nowSeconds)
      const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` }
      const result = await authorizer.invoke(authorizerEvent({ headers }))
      return result.isAuthorized
    }
  }
})
