/**
 * Issue 10, finding 3: a second `DELETE /keys` in the same second used to
 * miss a key created between the two (its iat was lifted to the first
 * revoke's instant, and the second revoke computed the same instant). The
 * rule now: once `DELETE /keys` answers, every key of the company issued
 * before that answer is denied, whatever the timing; and a key issued after
 * the last revoke is not born revoked.
 *
 * Create-key and revoke-all run against a real key table (dynalite) on a fake
 * clock that only moves when told to, or when create-key waits: fast-check
 * interleaves them at random within a second or two.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authorizeApiKey } from '../../src/lib/authorizer/authorize-api-key'
import { createRevocationCheck } from '../../src/lib/authorizer/revocation-check'
import { loadApiKeyConfig } from '../../src/lib/keys/api-key-config'
import { createKey, type CreateKeyDeps } from '../../src/lib/portal/create-key'
import { revokeAllKeys, type PortalKeysDeps } from '../../src/lib/portal/portal-keys'
import { Logger } from '../../src/lib/runtime/logger'
import { keyRecordFor } from '../../src/lib/store/key-store'
import { startKeyDatabase, type KeyDatabase } from '../support/dynalite'
import { httpApiEvent } from '../support/events'
import { envFor } from '../support/keys'

const START = 1_700_000_000
const owner = { userId: 'auth0|alice', companyId: 'acme', email: undefined, emailVerified: undefined }
const signing = loadApiKeyConfig(envFor('HS256'), 'sign')
const verifying = loadApiKeyConfig(envFor('HS256'), 'verify')
const quiet = new Logger({ service: 'test', level: 'ERROR' })

let db: KeyDatabase
beforeAll(async () => {
  db = await startKeyDatabase()
}, 60_000)
afterAll(async () => {
  await db?.close()
})

type Step = { readonly op: 'create' | 'revoke'; readonly advanceMs: number }

/** Run the steps in order on one fresh table; return each key with the index of the step that issued it. */
async function run(steps: readonly Step[], startOffsetMs: number) {
  const { store } = await db.newStore()
  const clock = { now: START + startOffsetMs / 1000 }
  const verifyPortalToken = async () => owner
  const createDeps: CreateKeyDeps = {
    apiKeys: signing,
    verifyPortalToken,
    nowSeconds: () => clock.now,
    companyRevokedBefore: (companyId) => store.companyRevokedBefore(companyId),
    onIssued: (issued, holder, name) => store.putKey(keyRecordFor(issued, holder.owner, name)),
    sleep: async (ms) => {
      clock.now += ms / 1000
    }
  }
  const portalDeps: PortalKeysDeps = { verifyPortalToken, store, nowSeconds: () => clock.now }
  const keys: Array<{ apikey: string; step: number }> = []
  let lastRevoke = -1
  for (const [index, step] of steps.entries()) {
    clock.now += step.advanceMs / 1000
    if (step.op === 'create') {
      const response = await createKey(createDeps, httpApiEvent({ method: 'POST', path: '/create-key' }))
      expect(response.statusCode).toBe(201)
      keys.push({ apikey: (JSON.parse(response.body as string) as { apikey: string }).apikey, step: index })
    } else {
      expect((await revokeAllKeys(portalDeps, httpApiEvent({ method: 'DELETE', path: '/keys' }))).statusCode).toBe(204)
      lastRevoke = index
    }
  }
  const isRevoked = createRevocationCheck(store, { ttlSeconds: 0, staleSeconds: 0 }, quiet)
  const decisions = await Promise.all(
    keys.map(async (key) => ({ ...key, decision: await authorizeApiKey(key.apikey, { config: verifying, nowSeconds: clock.now, isRevoked }) }))
  )
  return { decisions, lastRevoke }
}

describe('DELETE /keys against POST /create-key, interleaved within a second', () => {
  it('the regression: revoke-all, create, revoke-all in the same second denies the key', async () => {
    const { decisions } = await run(
      [
        { op: 'revoke', advanceMs: 0 },
        { op: 'create', advanceMs: 100 },
        { op: 'revoke', advanceMs: 100 }
      ],
      200
    )
    expect(decisions).toHaveLength(1)
    expect(decisions[0]!.decision).toMatchObject({ valid: false, reason: 'REVOKED' })
  })

  it('denies every key issued before the last answer, and no key issued after it', async () => {
    const step = fc.record({ op: fc.constantFrom<'create' | 'revoke'>('create', 'revoke'), advanceMs: fc.integer({ min: 0, max: 400 }) })
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 2, maxLength: 10 }), fc.integer({ min: 0, max: 999 }), async (steps, startOffsetMs) => {
        const { decisions, lastRevoke } = await run(steps, startOffsetMs)
        for (const { step: index, decision } of decisions) {
          if (index < lastRevoke) expect(decision, `key from step ${index}, last revoke at step ${lastRevoke}`).toMatchObject({ reason: 'REVOKED' })
          else expect(decision.valid, `key from step ${index} is born revoked`).toBe(true)
        }
      }),
      { numRuns: 60, seed: Number(process.env.FUZZ_SEED ?? 20261130) }
    )
  }, 120_000)
})
