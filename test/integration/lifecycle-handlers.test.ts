/**
 * The key lifecycle through the handlers that are actually deployed
 * (src/handlers/*), configured only through process.env as Lambda would be:
 * DynamoDB through dynalite, portal logins against a JWKS server, both on
 * 127.0.0.1. Each scenario re-imports the handlers for a cold start.
 */
import { SignJWT } from 'jose'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { loadApiKeyConfig } from '../../src/lib/keys/api-key-config'
import { issueApiKey } from '../../src/lib/keys/issue-api-key'
import { freePort } from '../../src/local/free-port'
import { coldStartModule } from '../support/cold-start'
import { lambdaInvoker } from '../support/deployed-handlers'
import { startKeyDatabase, type KeyDatabase } from '../support/dynalite'
import { authorizerEvent, httpApiEvent } from '../support/events'
import { startTestIdentityProvider, type TestIdentityProvider } from '../support/identity-provider'
import { hmacSecret, type EnvRecord } from '../support/keys'

const NOW = 1_700_000_000
const ALICE = { sub: 'auth0|alice', org: 'acme' } as const
const CAROL = { sub: 'auth0|carol', org: 'acme' } as const
const BOB = { sub: 'auth0|bob', org: 'globex' } as const
type PortalUser = { readonly sub: string; readonly org: string }

/** Variables outside useProcessEnv's list that these handlers read; cleared so the shell cannot leak in. */
const STORE_VARIABLES = ['KEYS_TABLE', 'DYNAMODB_ENDPOINT', 'REVOCATION_CACHE_TTL', 'REVOCATION_STALE_TTL', 'AWS_REGION', 'MOESIF_APPLICATION_ID']

let idp: TestIdentityProvider
let db: KeyDatabase
const lines: string[] = []

beforeAll(async () => {
  ;[idp, db] = await Promise.all([startTestIdentityProvider(), startKeyDatabase()])
})

afterAll(async () => {
  await idp.close()
  await db.close()
})

beforeEach(() => {
  // Cleared here, not in afterEach: the capture ends only once the test has finished (after afterEach).
  lines.length = 0
  // Only Date: the handlers, jose and the SDK read the clock through it; sockets need real timers.
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(NOW * 1000)
})

afterEach(() => {
  vi.useRealTimers()
})

function deployEnv(tableName: string, extra: EnvRecord = {}): EnvRecord {
  return {
    JWT_ALGORITHM: 'HS256',
    JWT_SECRET: hmacSecret('HS256'),
    KEYS_TABLE: tableName,
    DYNAMODB_ENDPOINT: db.endpoint,
    REVOCATION_CACHE_TTL: '0',
    ...idp.env,
    ...extra
  }
}

/** What the authorizer answers API Gateway (simple responses). */
type AuthorizerAnswer = { isAuthorized: boolean; context?: unknown }

/** Set the environment, then cold-start every handler (and the logger they write through). */
async function coldStart(env: EnvRecord) {
  const cleared: EnvRecord = Object.fromEntries(STORE_VARIABLES.map((name) => [name, undefined]))
  // All five from one fresh module graph, as one deployment.
  const { module: handlers } = await coldStartModule(
    async () => ({
      authorizer: (await import('../../src/handlers/authorizer')).handler,
      createKey: (await import('../../src/handlers/create-key')).handler,
      listKeys: (await import('../../src/handlers/list-keys')).handler,
      revokeKey: (await import('../../src/handlers/revoke-key')).handler,
      revokeAllKeys: (await import('../../src/handlers/revoke-all-keys')).handler
    }),
    { ...cleared, ...env },
    lines
  )
  const authorizer = lambdaInvoker(handlers.authorizer)
  const createKey = lambdaInvoker(handlers.createKey)
  const listKeys = lambdaInvoker(handlers.listKeys)
  const revokeKey = lambdaInvoker(handlers.revokeKey)
  const revokeAllKeys = lambdaInvoker(handlers.revokeAllKeys)
  const portal = async (user: PortalUser): Promise<Record<string, string>> => ({
    authorization: `Bearer ${await idp.mint({ ...user })}`
  })
  return {
    /** true when the authorizer lets the key through. */
    authorize: async (apikey: string): Promise<AuthorizerAnswer> =>
      (await authorizer(authorizerEvent({ headers: { authorization: `Bearer ${apikey}` } }))) as AuthorizerAnswer,
    createKey: async (user: PortalUser): Promise<{ apikey: string; keyId: string }> => {
      const response = await createKey(httpApiEvent({ method: 'POST', path: '/create-key', headers: await portal(user), body: '{"name":"ci"}' }))
      expect(response.statusCode).toBe(201)
      return JSON.parse(response.body ?? '') as { apikey: string; keyId: string }
    },
    listKeys: async (user: PortalUser): Promise<APIGatewayProxyStructuredResultV2> =>
      listKeys(httpApiEvent({ method: 'GET', path: '/keys', headers: await portal(user) })),
    revokeKey: async (user: PortalUser, keyId: string): Promise<APIGatewayProxyStructuredResultV2> => {
      const event: APIGatewayProxyEventV2 = {
        ...httpApiEvent({ method: 'DELETE', path: `/keys/${keyId}`, routeKey: 'DELETE /keys/{keyId}', headers: await portal(user) }),
        pathParameters: { keyId }
      }
      return revokeKey(event)
    },
    revokeAllKeys: async (user: PortalUser): Promise<APIGatewayProxyStructuredResultV2> =>
      revokeAllKeys(httpApiEvent({ method: 'DELETE', path: '/keys', headers: await portal(user) }))
  }
}

const logged = (): Array<Record<string, unknown>> => lines.map((line) => JSON.parse(line) as Record<string, unknown>)
const denials = (): Array<Record<string, unknown>> => logged().filter((line) => line.decision === 'deny')

/** A key signed the reference plugin's way: HS256, typ JWT, no jti, no kid. */
async function referencePluginKey(user: PortalUser, iat: number): Promise<string> {
  return new SignJWT({ sub: user.sub, org_id: user.org, iat, exp: iat + 30 * 86_400 })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(hmacSecret('HS256')))
}

describe('deployed handlers: key lifecycle on dynalite', () => {
  it('create key -> allowed; revoke it -> denied with REVOKED, logged with keyId and orgId', async () => {
    // Prepare
    const stack = await coldStart(deployEnv(await db.newTable()))
    const { apikey, keyId } = await stack.createKey(ALICE)
    const before = await stack.authorize(apikey)
    vi.setSystemTime((NOW + 5) * 1000)
    // Act
    const revoked = await stack.revokeKey(ALICE, keyId)
    lines.length = 0
    const after = await stack.authorize(apikey)
    // Assess
    expect(before).toEqual({ isAuthorized: true, context: { orgId: 'acme', userId: 'auth0|alice', keyId } })
    expect(revoked.statusCode).toBe(204)
    expect(after).toEqual({ isAuthorized: false })
    expect(denials()).toEqual([expect.objectContaining({ level: 'INFO', reason: 'REVOKED', keyId, orgId: 'acme' })])
    expect(lines.join('\n')).not.toContain(apikey)
  })

  it("revoke-all denies the company's keys, with or without a record or jti, and only that company's", async () => {
    // Prepare
    const stack = await coldStart(deployEnv(await db.newTable()))
    const alices = await stack.createKey(ALICE)
    const carols = await stack.createKey(CAROL)
    const bobs = await stack.createKey(BOB)
    const pluginKey = await referencePluginKey(ALICE, NOW - 60)
    const allowedBefore = await Promise.all([alices, carols, bobs].map(({ apikey }) => stack.authorize(apikey)))
    const pluginBefore = await stack.authorize(pluginKey)
    vi.setSystemTime((NOW + 5) * 1000)
    // Act
    const response = await stack.revokeAllKeys(CAROL)
    lines.length = 0
    const pluginAfter = await stack.authorize(pluginKey)
    const alicesAfter = await stack.authorize(alices.apikey)
    const bobsAfter = await stack.authorize(bobs.apikey)
    // Assess
    expect(allowedBefore.map((r) => r.isAuthorized)).toEqual([true, true, true])
    expect(pluginBefore.isAuthorized).toBe(true)
    expect(response.statusCode).toBe(204)
    expect(pluginAfter).toEqual({ isAuthorized: false })
    expect(alicesAfter).toEqual({ isAuthorized: false })
    expect(bobsAfter).toEqual({ isAuthorized: true, context: { orgId: 'globex', userId: 'auth0|bob', keyId: bobs.keyId } })
    expect(denials()).toEqual([
      expect.objectContaining({ reason: 'REVOKED', keyId: '', orgId: 'acme' }),
      expect.objectContaining({ reason: 'REVOKED', keyId: alices.keyId, orgId: 'acme' })
    ])
    const listed = JSON.parse((await stack.listKeys(ALICE)).body ?? '') as { keys: Array<{ status: string }> }
    expect(listed.keys.map((k) => k.status)).toEqual(['revoked', 'revoked'])
  })

  it('a key issued after revoke-all passes', async () => {
    // Prepare
    const stack = await coldStart(deployEnv(await db.newTable()))
    await stack.createKey(ALICE)
    await stack.revokeAllKeys(ALICE)
    vi.setSystemTime((NOW + 5) * 1000)
    // Act
    const { apikey } = await stack.createKey(ALICE)
    const decision = await stack.authorize(apikey)
    // Assess
    expect(decision.isAuthorized).toBe(true)
  })

  it("answers 404 when revoking another company's key, and that key still passes", async () => {
    // Prepare
    const stack = await coldStart(deployEnv(await db.newTable()))
    const bobs = await stack.createKey(BOB)
    // Act
    const response = await stack.revokeKey(ALICE, bobs.keyId)
    // Assess
    expect(response.statusCode).toBe(404)
    expect(JSON.parse(response.body ?? '')).toMatchObject({ code: 'ERR_KEY_NOT_FOUND' })
    expect((await stack.authorize(bobs.apikey)).isAuthorized).toBe(true)
  })

  it('fails closed when DynamoDB cannot be reached and nothing is cached: denies, never throws or allows', async () => {
    // Prepare: a valid key, and an endpoint where nothing listens
    const closedPort = await freePort()
    const env = deployEnv('dev-portal-keys-test-keys', { DYNAMODB_ENDPOINT: `http://127.0.0.1:${closedPort}` })
    const { apikey } = await issueApiKey(loadApiKeyConfig(env, 'sign'), { userId: 'auth0|alice', companyId: 'acme' }, { nowSeconds: NOW - 60 })
    const stack = await coldStart(env)
    // Act
    const decision = await stack.authorize(apikey)
    // Assess
    expect(decision).toEqual({ isAuthorized: false })
    expect(denials()).toEqual([expect.objectContaining({ reason: 'STORE_UNAVAILABLE', orgId: 'acme' })])
    expect(logged()).toContainEqual(expect.objectContaining({ level: 'ERROR', reason: 'STORE_UNAVAILABLE' }))
  })
})
