/**
 * The authorizer's cached, fail-closed revocation check: against a real
 * DynamoKeyStore on dynalite, and against a hand-written store that can be
 * made to fail on purpose (the one thing dynalite cannot do on cue).
 */
import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { DynamoKeyStore } from '../../../src/lib/store/dynamo-key-store'
import { ConfigError } from '../../../src/lib/runtime/errors'
import type { KeyRecord, KeyStore, RevocationFacts, RevokeOutcome } from '../../../src/lib/store/key-store'
import { Logger, setLogSink } from '../../../src/lib/runtime/logger'
import { createRevocationCheck, revocationCheckFromEnv } from '../../../src/lib/authorizer/revocation-check'
import type { ApiKeyIdentity } from '../../../src/lib/keys/verify-api-key'
import { keyRecord, startKeyDatabase, type KeyDatabase } from '../../support/dynalite'

const NOW = 1_700_000_000
const OPTIONS = { ttlSeconds: 30, staleSeconds: 300 } as const

let db: KeyDatabase
let lines: string[] = []
let restoreSink: (() => void) | undefined

beforeAll(async () => {
  db = await startKeyDatabase()
})

afterAll(async () => {
  await db.close()
})

afterEach(() => {
  restoreSink?.()
  restoreSink = undefined
  lines = []
})

/** A logger whose lines land in `lines`. */
function capturingLogger(): Logger {
  restoreSink = setLogSink((line) => lines.push(line))
  return new Logger({ service: 'authorizer', level: 'DEBUG' })
}

const logged = (): Array<Record<string, unknown>> => lines.map((line) => JSON.parse(line) as Record<string, unknown>)

function identity(fields: Partial<ApiKeyIdentity> = {}): ApiKeyIdentity {
  return { orgId: 'acme', userId: 'auth0|alice', keyId: randomUUID(), issuedAt: NOW - 3600, expiresAt: NOW + 86_400, kid: undefined, ...fields }
}

/** A store whose revocation facts are set by the test, which can be made to fail, and which counts calls. */
class ScriptedKeyStore implements KeyStore {
  facts: RevocationFacts = { keyRevokedAt: undefined, companyRevokedBefore: undefined }
  failing = false
  calls = 0

  async revocationFacts(): Promise<RevocationFacts> {
    this.calls += 1
    if (this.failing) {
      const error = new Error('connect ECONNREFUSED 127.0.0.1:8000')
      error.name = 'TimeoutError'
      throw error
    }
    return this.facts
  }

  putKey(_record: KeyRecord): Promise<void> {
    throw new Error('not used by the revocation check')
  }

  listKeys(_companyId: string): Promise<KeyRecord[]> {
    throw new Error('not used by the revocation check')
  }

  revokeKey(_companyId: string, _keyId: string, _atSeconds: number): Promise<RevokeOutcome> {
    throw new Error('not used by the revocation check')
  }

  revokeAllKeys(_companyId: string, _atSeconds: number): Promise<void> {
    throw new Error('not used by the revocation check')
  }

  companyRevokedBefore(_companyId: string): Promise<number | undefined> {
    throw new Error('not used by the revocation check')
  }
}

describe('createRevocationCheck with DynamoKeyStore on dynalite: decisions', () => {
  let store: DynamoKeyStore

  beforeAll(async () => {
    ;({ store } = await db.newStore())
  })

  it('allows a key with no record when the company never revoked everything', async () => {
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    expect(await isRevoked(identity({ orgId: `org-${randomUUID()}` }), NOW)).toBeUndefined()
  })

  it('allows an active key with a record', async () => {
    // Prepare
    const key = identity({ orgId: `org-${randomUUID()}` })
    await store.putKey(keyRecord({ keyId: key.keyId, companyId: key.orgId, createdSeconds: NOW - 3600 }))
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    // Act
    const reason = await isRevoked(key, NOW)
    // Assess
    expect(reason).toBeUndefined()
  })

  it('denies a revoked key with REVOKED', async () => {
    // Prepare
    const key = identity({ orgId: `org-${randomUUID()}` })
    await store.putKey(keyRecord({ keyId: key.keyId, companyId: key.orgId, createdSeconds: NOW - 3600 }))
    await store.revokeKey(key.orgId, key.keyId, NOW - 60)
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    // Act
    const reason = await isRevoked(key, NOW)
    // Assess
    expect(reason).toBe('REVOKED')
  })

  it("denies a key issued before the company's revoked-before instant, allows one issued at or after it", async () => {
    // Prepare
    const orgId = `org-${randomUUID()}`
    await store.revokeAllKeys(orgId, NOW - 100)
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    // Act
    const before = await isRevoked(identity({ orgId, issuedAt: NOW - 101 }), NOW)
    const at = await isRevoked(identity({ orgId, issuedAt: NOW - 100 }), NOW)
    const after = await isRevoked(identity({ orgId, issuedAt: NOW - 99 }), NOW)
    // Assess
    expect([before, at, after]).toEqual(['REVOKED', undefined, undefined])
  })

  it('denies a key without iat once the company revoked everything (it cannot prove it is newer)', async () => {
    // Prepare
    const orgId = `org-${randomUUID()}`
    await store.revokeAllKeys(orgId, NOW - 100)
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    // Act
    const reason = await isRevoked(identity({ orgId, keyId: '', issuedAt: undefined }), NOW)
    // Assess
    expect(reason).toBe('REVOKED')
  })

  it('allows a key without iat or jti while the company never revoked everything', async () => {
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    expect(await isRevoked(identity({ orgId: `org-${randomUUID()}`, keyId: '', issuedAt: undefined }), NOW)).toBeUndefined()
  })

  it('keeps a cached "allowed" for ttlSeconds after a revoke, then sees the revoke', async () => {
    // Prepare
    const key = identity({ orgId: `org-${randomUUID()}` })
    await store.putKey(keyRecord({ keyId: key.keyId, companyId: key.orgId, createdSeconds: NOW - 3600 }))
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    const first = await isRevoked(key, NOW)
    await store.revokeKey(key.orgId, key.keyId, NOW + 1)
    // Act
    const withinTtl = await isRevoked(key, NOW + OPTIONS.ttlSeconds - 1)
    const afterTtl = await isRevoked(key, NOW + OPTIONS.ttlSeconds)
    // Assess
    expect([first, withinTtl, afterTtl]).toEqual([undefined, undefined, 'REVOKED'])
  })
})

describe('createRevocationCheck: caching', () => {
  it('asks the store once per key within ttlSeconds', async () => {
    // Prepare
    const store = new ScriptedKeyStore()
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    const key = identity()
    // Act
    for (const offset of [0, 1, 10, 29]) await isRevoked(key, NOW + offset)
    // Assess
    expect(store.calls).toBe(1)
  })

  it('asks again once ttlSeconds have passed', async () => {
    // Prepare
    const store = new ScriptedKeyStore()
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    const key = identity()
    await isRevoked(key, NOW)
    // Act
    await isRevoked(key, NOW + 30)
    await isRevoked(key, NOW + 31)
    // Assess
    expect(store.calls).toBe(2)
  })

  it('caches per key and per company', async () => {
    // Prepare
    const store = new ScriptedKeyStore()
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    const key = identity()
    // Act
    await isRevoked(key, NOW)
    await isRevoked({ ...key, keyId: randomUUID() }, NOW)
    await isRevoked({ ...key, orgId: 'globex' }, NOW)
    // Assess
    expect(store.calls).toBe(3)
  })

  it('never caches with ttlSeconds 0', async () => {
    const store = new ScriptedKeyStore()
    const isRevoked = createRevocationCheck(store, { ttlSeconds: 0, staleSeconds: 300 }, capturingLogger())
    const key = identity()
    await isRevoked(key, NOW)
    await isRevoked(key, NOW)
    expect(store.calls).toBe(2)
  })

  it('evicts the oldest answer beyond maxEntries', async () => {
    // Prepare
    const store = new ScriptedKeyStore()
    const isRevoked = createRevocationCheck(store, { ...OPTIONS, maxEntries: 2 }, capturingLogger())
    const [a, b, c] = [identity(), identity(), identity()]
    await isRevoked(a, NOW)
    await isRevoked(b, NOW)
    await isRevoked(c, NOW)
    expect(store.calls).toBe(3)
    // Act
    await isRevoked(c, NOW + 1)
    await isRevoked(b, NOW + 1)
    const callsBeforeA = store.calls
    await isRevoked(a, NOW + 1)
    // Assess: b and c are still cached, a was evicted
    expect(callsBeforeA).toBe(3)
    expect(store.calls).toBe(4)
  })
})

describe('createRevocationCheck: when it answers', () => {
  it('answers a fresh cached key at once, without a promise; anything else as a promise', async () => {
    // Prepare
    const store = new ScriptedKeyStore()
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    const key = identity()
    // Act
    const first = isRevoked(key, NOW)
    await first
    const second = isRevoked(key, NOW + 1)
    const expired = isRevoked(key, NOW + 30)
    // Assess
    expect(first).toBeInstanceOf(Promise)
    expect(second).toBeUndefined()
    expect(expired).toBeInstanceOf(Promise)
    expect(await expired).toBeUndefined()
  })

  it('logs nothing during the call, even for a store that throws at once: its lines come after the call returns', async () => {
    // Prepare
    const store = new ScriptedKeyStore()
    store.revocationFacts = () => {
      store.calls += 1
      throw new Error('thrown before any promise')
    }
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    // Act
    const answer = isRevoked(identity(), NOW)
    const linesDuringTheCall = lines.length
    // Assess
    expect(linesDuringTheCall).toBe(0)
    expect(await answer).toBe('STORE_UNAVAILABLE')
    expect(logged()).toEqual([expect.objectContaining({ level: 'ERROR', reason: 'STORE_UNAVAILABLE' })])
  })
})

describe('createRevocationCheck: store failures', () => {
  it('keeps denying a cached revoked key while the store fails, and warns', async () => {
    // Prepare
    const store = new ScriptedKeyStore()
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    const key = identity()
    store.facts = { keyRevokedAt: NOW - 10, companyRevokedBefore: undefined }
    expect(await isRevoked(key, NOW)).toBe('REVOKED')
    store.failing = true
    // Act
    const reason = await isRevoked(key, NOW + 60)
    // Assess
    expect(reason).toBe('REVOKED')
    expect(store.calls).toBe(2)
    expect(logged()).toEqual([
      expect.objectContaining({
        level: 'WARN',
        reason: 'STORE_UNAVAILABLE',
        keyId: key.keyId,
        orgId: 'acme',
        ageSeconds: 60,
        errorName: 'TimeoutError'
      })
    ])
  })

  it('keeps allowing a cached allowed key while the store fails, and warns', async () => {
    // Prepare
    const store = new ScriptedKeyStore()
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    const key = identity()
    expect(await isRevoked(key, NOW)).toBeUndefined()
    store.failing = true
    // Act
    const reason = await isRevoked(key, NOW + 60)
    // Assess
    expect(reason).toBeUndefined()
    expect(logged()).toEqual([expect.objectContaining({ level: 'WARN', reason: 'STORE_UNAVAILABLE', keyId: key.keyId })])
  })

  it('uses a cached answer exactly staleSeconds old', async () => {
    const store = new ScriptedKeyStore()
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    const key = identity()
    store.facts = { keyRevokedAt: NOW - 10, companyRevokedBefore: undefined }
    await isRevoked(key, NOW)
    store.failing = true
    expect(await isRevoked(key, NOW + OPTIONS.staleSeconds)).toBe('REVOKED')
  })

  it('fails closed with STORE_UNAVAILABLE and an ERROR line when nothing is cached', async () => {
    // Prepare
    const store = new ScriptedKeyStore()
    store.failing = true
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    const key = identity()
    // Act
    const reason = await isRevoked(key, NOW)
    // Assess
    expect(reason).toBe('STORE_UNAVAILABLE')
    expect(logged()).toEqual([
      expect.objectContaining({ level: 'ERROR', reason: 'STORE_UNAVAILABLE', keyId: key.keyId, orgId: 'acme', errorName: 'TimeoutError' })
    ])
  })

  it('fails closed when the cached answer is older than staleSeconds', async () => {
    // Prepare
    const store = new ScriptedKeyStore()
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    const key = identity()
    expect(await isRevoked(key, NOW)).toBeUndefined()
    store.failing = true
    // Act
    const reason = await isRevoked(key, NOW + OPTIONS.staleSeconds + 1)
    // Assess
    expect(reason).toBe('STORE_UNAVAILABLE')
    expect(logged()).toEqual([expect.objectContaining({ level: 'ERROR', reason: 'STORE_UNAVAILABLE' })])
  })

  it('does not refresh a cached answer it fell back on', async () => {
    // Prepare: fall back at +200, then ask at +301 (within stale of the fallback, not of the fetch)
    const store = new ScriptedKeyStore()
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    const key = identity()
    await isRevoked(key, NOW)
    store.failing = true
    await isRevoked(key, NOW + 200)
    // Act
    const reason = await isRevoked(key, NOW + 301)
    // Assess
    expect(reason).toBe('STORE_UNAVAILABLE')
  })

  it('recovers once the store answers again', async () => {
    const store = new ScriptedKeyStore()
    store.failing = true
    const isRevoked = createRevocationCheck(store, OPTIONS, capturingLogger())
    const key = identity()
    expect(await isRevoked(key, NOW)).toBe('STORE_UNAVAILABLE')
    store.failing = false
    expect(await isRevoked(key, NOW + 1)).toBeUndefined()
  })
})

describe('createRevocationCheck: options', () => {
  it.each([
    { ttlSeconds: 301, staleSeconds: 300 },
    { ttlSeconds: -1, staleSeconds: 300 },
    { ttlSeconds: Number.NaN, staleSeconds: 300 },
    { ttlSeconds: 30, staleSeconds: Number.NaN }
  ])('throws a TypeError at creation for %o', (options) => {
    expect(() => createRevocationCheck(new ScriptedKeyStore(), options, capturingLogger())).toThrow(TypeError)
  })

  it('accepts ttlSeconds equal to staleSeconds', () => {
    expect(typeof createRevocationCheck(new ScriptedKeyStore(), { ttlSeconds: 30, staleSeconds: 30 }, capturingLogger())).toBe('function')
  })
})

describe('revocationCheckFromEnv', () => {
  it('answers undefined and warns once when KEYS_TABLE is not set', async () => {
    // Act
    const check = await revocationCheckFromEnv({ REVOCATION_CACHE_TTL: '30' }, capturingLogger())
    // Assess
    expect(check).toBeUndefined()
    expect(logged()).toEqual([expect.objectContaining({ level: 'WARN' })])
  })

  it.each([
    ['REVOCATION_CACHE_TTL', { REVOCATION_CACHE_TTL: 'soon' }],
    ['REVOCATION_CACHE_TTL', { REVOCATION_CACHE_TTL: '-5' }],
    ['REVOCATION_STALE_TTL', { REVOCATION_STALE_TTL: '1.5' }],
    ['REVOCATION_STALE_TTL', { REVOCATION_CACHE_TTL: '60', REVOCATION_STALE_TTL: '30' }]
  ])('throws a ConfigError naming %s for %o', async (variable, extra) => {
    // Prepare
    const env = { KEYS_TABLE: 'dev-portal-keys-test-keys', DYNAMODB_ENDPOINT: db.endpoint, ...extra }
    // Act
    let error: unknown
    try {
      await revocationCheckFromEnv(env, capturingLogger())
    } catch (caught) {
      error = caught
    }
    // Assess
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).variable).toBe(variable)
    expect((error as ConfigError).code).toBe('ERR_CONFIG')
  })

  it('builds a check on the configured table that sees revocations', async () => {
    // Prepare
    const { store, tableName } = await db.newStore()
    const key = identity()
    await store.putKey(keyRecord({ keyId: key.keyId, companyId: key.orgId, createdSeconds: NOW - 3600 }))
    await store.revokeKey(key.orgId, key.keyId, NOW - 1)
    // Act
    const check = await revocationCheckFromEnv(
      { KEYS_TABLE: tableName, DYNAMODB_ENDPOINT: db.endpoint, REVOCATION_CACHE_TTL: '0' },
      capturingLogger()
    )
    // Assess
    expect(check).toBeDefined()
    expect(await check?.(key, NOW)).toBe('REVOKED')
    expect(await check?.(identity(), NOW)).toBeUndefined()
  })
})
