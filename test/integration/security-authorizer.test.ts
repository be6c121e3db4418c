/**
 * The shared security suite against the deployed authorizer export, for an
 * HS256 and an RS256 deployment, each through HTTP API (payload 2.0) REQUEST
 * events and REST API (v1) TOKEN events. Both deployments check iss and aud
 * and have revocation on (dynalite on 127.0.0.1); the revoked key comes from
 * the deployed create-key handler after a real portal login (JWKS on
 * 127.0.0.1). LOG_LEVEL=DEBUG, so the suite's closing case reads every line.
 */
import type * as NodeCrypto from 'node:crypto'
import { afterAll, afterEach, beforeAll, vi } from 'vitest'
import type { JwtAlgorithm } from '../../src/lib/keys/algorithms'
import { loadApiKeyConfig, type ApiKeyConfig } from '../../src/lib/keys/api-key-config'
import type { AuthorizerEvent, AuthorizerResult } from '../../src/lib/authorizer/authorizer-event'
import type { DynamoKeyStore } from '../../src/lib/store/dynamo-key-store'
import { issueApiKey } from '../../src/lib/keys/issue-api-key'
import { coldStartAuthorizer, coldStartCreateKey, type DeployedHandler } from '../support/deployed-handlers'
import { startKeyDatabase, type KeyDatabase } from '../support/dynalite'
import { authorizerEvent, httpApiEvent } from '../support/events'
import { startTestIdentityProvider, type TestIdentityProvider } from '../support/identity-provider'
import { hmacSecret, publicPemFor, secretFor, type EnvRecord } from '../support/keys'
import { policyEffect, stageResource, tokenAuthorizerEvent } from '../support/rest-api-events'
import { describeApiKeySecuritySuite, type KeyAcceptingPath, type SecuritySuiteOptions } from '../support/security-suite'

/** Every HMAC and public-key verification anything in src runs: proves "refused before any crypto". */
const crypto = vi.hoisted(() => ({ operations: 0 }))
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof NodeCrypto>()
  const createHmac: typeof actual.createHmac = (...args) => {
    crypto.operations++
    return actual.createHmac(...args)
  }
  const verify = ((...args: Parameters<typeof actual.verify>) => {
    crypto.operations++
    return actual.verify(...args)
  }) as typeof actual.verify
  return { ...actual, default: { ...actual, createHmac, verify }, createHmac, verify }
})

const ISSUER = 'https://keys.dev-portal.example/'
const AUDIENCE = 'https://api.dev-portal.example'
const OWNER = { userId: 'auth0|alice', companyId: 'acme' } as const

let db: KeyDatabase
let store: DynamoKeyStore
let tableName: string
let idp: TestIdentityProvider
const restoreSinks: (() => void)[] = []

beforeAll(async () => {
  ;[db, idp] = await Promise.all([startKeyDatabase(), startTestIdentityProvider()])
  ;({ store, tableName } = await db.newStore())
})

afterEach(() => {
  vi.useRealTimers()
})

afterAll(async () => {
  for (const restore of restoreSinks.splice(0)) restore()
  vi.unstubAllEnvs()
  await idp?.close()
  await db?.close()
})

function freezeTimeAt(seconds: number): void {
  // Only Date: sockets (dynalite, the JWKS) and middy's timeout timer stay real.
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(seconds * 1000)
}

/** One deployment: what the issuer signs with, and what the authorizer verifies with. */
interface Deployment {
  readonly algorithm: JwtAlgorithm
  /** The issuer's JWT_* variables (create-key). */
  readonly signEnv: EnvRecord
  /** The authorizer's JWT_* variables: for RS256 only the public key, as in production. */
  readonly verifyEnv: EnvRecord
  /** JWT_SECRET of another deployment of the same algorithm. */
  readonly attackerSecret: string
}

const checks = { JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE }

const HS256: Deployment = {
  algorithm: 'HS256',
  // No kid: the reference plugin's keys carry none.
  signEnv: { JWT_ALGORITHM: 'HS256', JWT_SECRET: hmacSecret('HS256'), ...checks },
  verifyEnv: { JWT_ALGORITHM: 'HS256', JWT_SECRET: hmacSecret('HS256'), ...checks },
  attackerSecret: hmacSecret('HS256', 'attacker')
}

const RS256: Deployment = {
  algorithm: 'RS256',
  signEnv: { JWT_ALGORITHM: 'RS256', JWT_SECRET: secretFor('RS256'), JWT_KID: 'k-1', ...checks },
  verifyEnv: { JWT_ALGORITHM: 'RS256', JWT_VERIFY_KEY: publicPemFor('RS256'), JWT_KID: 'k-1', ...checks },
  attackerSecret: secretFor('RS256', 'attacker')
}

type EventShape = 'HTTP API payload 2.0 REQUEST' | 'REST API v1 TOKEN'

/** true for a clear allow, false for a clear deny; anything else throws. */
function decisionOf(shape: EventShape, result: AuthorizerResult): boolean {
  if (shape === 'REST API v1 TOKEN') {
    const effect = policyEffect(result, stageResource())
    if (effect === 'Allow' && (!('principalId' in result) || result.principalId !== result.context?.orgId)) {
      throw new Error(`an allow whose principal is not the company: ${JSON.stringify(result)}`)
    }
    return effect === 'Allow'
  }
  if ('isAuthorized' in result && result.isAuthorized && 'context' in result && typeof result.context.orgId === 'string') return true
  if (JSON.stringify(result) === '{"isAuthorized":false}') return false
  throw new Error(`not a simple authorizer answer: ${JSON.stringify(result)}`)
}

/** The deployed authorizer for `deployment`, driven through `shape` events, with everything the suite can use. */
function authorizerPath(deployment: Deployment, shape: EventShape): { path: KeyAcceptingPath; options: SecuritySuiteOptions } {
  const lines: string[] = []
  const storeEnv = (): EnvRecord => ({ KEYS_TABLE: tableName, DYNAMODB_ENDPOINT: db.endpoint, REVOCATION_CACHE_TTL: '0', LOG_LEVEL: 'DEBUG' })
  let authorizer: DeployedHandler<AuthorizerEvent, AuthorizerResult> | undefined
  let signConfig: ApiKeyConfig | undefined
  let forgeConfig: ApiKeyConfig | undefined

  const issueWith = async (config: ApiKeyConfig, nowSeconds: number, lifetimeSeconds?: number): Promise<string> =>
    (await issueApiKey(config, OWNER, { nowSeconds, lifetimeSeconds })).apikey

  const path: KeyAcceptingPath = {
    companyIdField: 'org_id',
    issue: async (nowSeconds, lifetimeSeconds) => {
      signConfig ??= loadApiKeyConfig(deployment.signEnv, 'sign')
      return issueWith(signConfig, nowSeconds, lifetimeSeconds)
    },
    forge: async (nowSeconds) => {
      forgeConfig ??= loadApiKeyConfig({ ...deployment.signEnv, JWT_SECRET: deployment.attackerSecret }, 'sign')
      return issueWith(forgeConfig, nowSeconds)
    },
    attempt: async (token, nowSeconds) => {
      freezeTimeAt(nowSeconds)
      if (authorizer === undefined) {
        authorizer = await coldStartAuthorizer({ ...deployment.verifyEnv, ...storeEnv() }, lines)
        restoreSinks.push(authorizer.restoreLogSink)
      }
      const authorization = token === undefined ? undefined : `Bearer ${token}`
      const event =
        shape === 'REST API v1 TOKEN'
          ? tokenAuthorizerEvent(authorization ?? '')
          : authorizerEvent({ headers: authorization === undefined ? {} : { authorization } })
      return decisionOf(shape, await authorizer.invoke(event))
    }
  }

  const options: SecuritySuiteOptions = {
    keys: {
      algorithm: deployment.algorithm,
      secret: deployment.signEnv.JWT_SECRET as string,
      kid: deployment.signEnv.JWT_KID,
      issuer: ISSUER,
      audience: AUDIENCE
    },
    portalIdToken: (nowSeconds) => idp.mint({ sub: OWNER.userId, org: OWNER.companyId, nowSeconds }),
    revokedKey: async (nowSeconds) => {
      // Issued by the deployed create-key handler after a real login, recorded in the table, then revoked there.
      freezeTimeAt(nowSeconds)
      const createKey = await coldStartCreateKey({ ...deployment.signEnv, ...idp.env, ...storeEnv() }, lines)
      restoreSinks.push(createKey.restoreLogSink)
      const idToken = await idp.mint({ sub: OWNER.userId, org: OWNER.companyId, nowSeconds })
      const response = await createKey.invoke(
        httpApiEvent({ method: 'POST', path: '/create-key', headers: { authorization: `Bearer ${idToken}` }, body: '{"name":"security suite"}' })
      )
      if (response.statusCode !== 201) throw new Error(`create-key answered ${response.statusCode}: ${response.body ?? ''}`)
      const { apikey, keyId } = JSON.parse(response.body ?? '') as { apikey: string; keyId: string }
      if ((await store.revokeKey(OWNER.companyId, keyId, nowSeconds)) !== 'revoked') throw new Error('the issued key had no record to revoke')
      return apikey
    },
    lastDenyReason: () => {
      const last = lines.map((line) => JSON.parse(line) as Record<string, unknown>).findLast((line) => 'decision' in line)
      return last?.decision === 'deny' ? String(last.reason) : undefined
    },
    cryptoOperations: () => crypto.operations,
    logs: { lines: () => lines, format: 'json-lines' }
  }
  return { path, options }
}

for (const deployment of [HS256, RS256]) {
  for (const shape of ['HTTP API payload 2.0 REQUEST', 'REST API v1 TOKEN'] as const) {
    const { path, options } = authorizerPath(deployment, shape)
    describeApiKeySecuritySuite(`authorizer handler, ${deployment.algorithm} with iss/aud and revocation, ${shape} events`, () => path, options)
  }
}
