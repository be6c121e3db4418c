/**
 * The shared security suite through the real local stack (serverless-offline
 * with the esbuild bundles, dynalite, Moesif collector): every hostile key is
 * presented to the protected route GET /v1/whoami. Allow is HTTP 200; deny is
 * 401 (no credentials) or 403; anything else fails the case.
 *
 * Two stacks, started once each for the whole file: RS256 (JWT_SECRET is the
 * PEM private key, with a kid), so the HS256-with-the-public-key case means
 * something over HTTP, and HS256 without a kid, as the reference plugin signs.
 * Both check iss and aud. Revoked keys go through POST /create-key and
 * DELETE /keys/{keyId} with a real portal login. Timeouts are sized for a
 * busy 2-core machine (test/support/local-stack.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JwtAlgorithm } from '../../src/lib/keys/algorithms'
import { loadApiKeyConfig, type ApiKeyConfig } from '../../src/lib/keys/api-key-config'
import { issueApiKey } from '../../src/lib/keys/issue-api-key'
import { startTestIdentityProvider, type TestIdentityProvider } from '../support/identity-provider'
import { hmacSecret, secretFor } from '../support/keys'
import { stackStartTimeout, startLocalStack, STACK_TIMEOUTS, type LocalStack } from '../support/local-stack'
import { describeApiKeySecuritySuite, type KeyAcceptingPath, type SecuritySuiteOptions } from '../support/security-suite'

const ISSUER = 'https://keys.dev-portal.example/'
const AUDIENCE = 'https://api.dev-portal.example'
const OWNER = { userId: 'auth0|alice', companyId: 'acme' } as const

/** One stack's API-key settings, and another deployment's secret to forge with. */
interface StackConfig {
  readonly algorithm: JwtAlgorithm
  readonly env: Record<string, string>
  readonly attackerSecret: string
}

const RS256: StackConfig = {
  algorithm: 'RS256',
  env: { JWT_ALGORITHM: 'RS256', JWT_SECRET: secretFor('RS256'), JWT_KID: 'k-1', JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE },
  attackerSecret: secretFor('RS256', 'attacker')
}

const HS256: StackConfig = {
  algorithm: 'HS256',
  env: { JWT_ALGORITHM: 'HS256', JWT_SECRET: hmacSecret('HS256'), JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE },
  attackerSecret: hmacSecret('HS256', 'attacker')
}

let idp: TestIdentityProvider
const stacks = new Map<StackConfig, LocalStack>()

beforeAll(async () => {
  idp = await startTestIdentityProvider()
  const started = await Promise.allSettled(
    [RS256, HS256].map(async (config) => stacks.set(config, await startLocalStack({ ...config.env, ...idp.env, LOG_LEVEL: 'DEBUG' })))
  )
  const failed = started.find((result) => result.status === 'rejected')
  if (failed !== undefined) throw failed.reason
}, stackStartTimeout(2))

afterAll(async () => {
  await Promise.all([...stacks.values()].map((stack) => stack.stop()))
  await idp?.close()
})

function stackFor(config: StackConfig): LocalStack {
  const stack = stacks.get(config)
  if (stack === undefined) throw new Error(`the ${config.algorithm} stack did not start`)
  return stack
}

/** The authorizer's decision lines the stack has printed so far (complete lines only). */
function decisionLines(stack: LocalStack): Record<string, unknown>[] {
  const complete = stack.output().split('\n').slice(0, -1)
  return complete.flatMap((line) => {
    if (!line.startsWith('{') || !line.includes('"decision"')) return []
    const parsed = JSON.parse(line) as Record<string, unknown>
    return parsed.service === 'authorizer' ? [parsed] : []
  })
}

/** The decision the authorizer logged for the request just made: the one after the first `seen`. */
async function nextDecision(stack: LocalStack, seen: number): Promise<Record<string, unknown>> {
  // The child's stdout arrives on its own schedule: poll briefly for the line.
  const deadline = Date.now() + 3000
  for (;;) {
    const lines = decisionLines(stack)
    if (lines.length > seen + 1) throw new Error(`expected one authorizer decision, got ${lines.length - seen}`)
    const line = lines[seen]
    if (line !== undefined) return line
    if (Date.now() > deadline) throw new Error('the authorizer logged no decision for the request')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** GET /v1/whoami through `config`'s stack, as the suite drives it. */
function whoamiPath(config: StackConfig): { path: KeyAcceptingPath; options: SecuritySuiteOptions } {
  let signConfig: ApiKeyConfig | undefined
  let forgeConfig: ApiKeyConfig | undefined
  let lastReason: string | undefined
  const portalLogin = (nowSeconds: number): Promise<string> => idp.mint({ sub: OWNER.userId, org: OWNER.companyId, nowSeconds })

  const path: KeyAcceptingPath = {
    companyIdField: 'org_id',
    // Signed here with the stack's own JWT_SECRET: the suite needs keys issued in the past, which the stack's clock cannot do.
    issue: async (nowSeconds, lifetimeSeconds) => {
      signConfig ??= loadApiKeyConfig(config.env, 'sign')
      return (await issueApiKey(signConfig, OWNER, { nowSeconds, lifetimeSeconds })).apikey
    },
    forge: async (nowSeconds) => {
      forgeConfig ??= loadApiKeyConfig({ ...config.env, JWT_SECRET: config.attackerSecret }, 'sign')
      return (await issueApiKey(forgeConfig, OWNER, { nowSeconds })).apikey
    },
    attempt: async (token) => {
      const stack = stackFor(config)
      const before = decisionLines(stack).length
      const response = await fetch(`${stack.baseUrl}/v1/whoami`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })
      const body = await response.text()
      if (![200, 401, 403].includes(response.status)) throw new Error(`GET /v1/whoami answered ${response.status}: ${body.slice(0, 200)}`)
      if (token === undefined && response.status === 401) {
        // Like API Gateway, serverless-offline refuses a request without the identity source before calling the authorizer.
        lastReason = 'MISSING_TOKEN'
        return false
      }
      const decision = await nextDecision(stack, before)
      lastReason = decision.decision === 'deny' ? String(decision.reason) : undefined
      if ((decision.decision === 'allow') !== (response.status === 200))
        throw new Error(`HTTP ${response.status} after an authorizer ${String(decision.decision)}`)
      return response.status === 200
    }
  }

  const options: SecuritySuiteOptions = {
    keys: { algorithm: config.algorithm, secret: config.env.JWT_SECRET as string, kid: config.env.JWT_KID, issuer: ISSUER, audience: AUDIENCE },
    clock: () => Math.floor(Date.now() / 1000),
    portalIdToken: portalLogin,
    revokedKey: async (nowSeconds) => {
      const { baseUrl } = stackFor(config)
      const login = { authorization: `Bearer ${await portalLogin(nowSeconds)}` }
      const created = await fetch(`${baseUrl}/create-key`, {
        method: 'POST',
        headers: { ...login, 'content-type': 'application/json' },
        body: '{"name":"security suite"}'
      })
      if (created.status !== 201) throw new Error(`POST /create-key answered ${created.status}: ${await created.text()}`)
      const { apikey, keyId } = (await created.json()) as { apikey: string; keyId: string }
      const revoked = await fetch(`${baseUrl}/keys/${keyId}`, { method: 'DELETE', headers: login })
      if (revoked.status !== 204) throw new Error(`DELETE /keys/${keyId} answered ${revoked.status}: ${await revoked.text()}`)
      return apikey
    },
    lastDenyReason: () => lastReason,
    logs: { lines: () => [stackFor(config).output()], format: 'mixed' }
  }
  return { path, options }
}

for (const config of [RS256, HS256]) {
  const { path, options } = whoamiPath(config)
  describe(`GET /v1/whoami on the local stack (${config.algorithm})`, { timeout: STACK_TIMEOUTS.call }, () => {
    describeApiKeySecuritySuite(`protected route through serverless-offline, ${config.algorithm} with iss/aud`, () => path, options)

    it('leaves the stack process running after every case', () => {
      expect(stackFor(config).running()).toBe(true)
    })
  })
}
