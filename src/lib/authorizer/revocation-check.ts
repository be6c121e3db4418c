import type { RevocationCheck, RevocationDenyReason } from './authorize-api-key'
import { readDurationSeconds, readEnv, type Env } from '../runtime/env'
import { ConfigError } from '../runtime/errors'
import { revokedByCompany, type KeyStore, type RevocationFacts } from '../store/key-store'
import type { Logger } from '../runtime/logger'
import type { ApiKeyIdentity } from '../keys/verify-api-key'

/** Cache settings for {@link createRevocationCheck}, in seconds. */
export interface RevocationCacheOptions {
  /** How long an answer is trusted without asking the store again. */
  readonly ttlSeconds: number
  /** How old an answer may be and still be used while the store is failing. */
  readonly staleSeconds: number
  /** Most cached answers; the oldest go first. */
  readonly maxEntries?: number
}

interface CachedFacts {
  readonly facts: RevocationFacts
  readonly fetchedAt: number
}

/**
 * Decide from the facts: a revoked record denies; so does an `iat` before
 * the company's "revoked before" instant, or no `iat` at all once the company
 * has revoked everything (such a key cannot prove it is newer).
 */
function decide(facts: RevocationFacts, identity: ApiKeyIdentity): RevocationDenyReason | undefined {
  if (facts.keyRevokedAt !== undefined) return 'REVOKED'
  if (revokedByCompany(identity.issuedAt, facts.companyRevokedBefore)) return 'REVOKED'
  return undefined
}

/**
 * The authorizer's revocation check: one store round trip per key per
 * `ttlSeconds`, cached in the container. If the store fails, an answer up to
 * `staleSeconds` old is used; with none, the key is denied (fail closed) and
 * the failure logged as such. A key known to be revoked stays denied through
 * an outage; a revoke made during the outage is seen once the store answers.
 *
 * The worst-case delay before a revoke takes effect is `ttlSeconds` plus
 * API Gateway's own authorizer cache (`AUTHORIZER_CACHE_TTL`) while the store
 * answers, and `staleSeconds` plus that cache while it does not.
 *
 * @example
 * const isRevoked = createRevocationCheck(store, { ttlSeconds: 30, staleSeconds: 300 }, logger)
 * const reason = await isRevoked(identity, Date.now() / 1000)
 */
export function createRevocationCheck(store: KeyStore, options: RevocationCacheOptions, logger: Logger): RevocationCheck {
  if (!(options.ttlSeconds >= 0) || !(options.staleSeconds >= options.ttlSeconds)) {
    throw new TypeError('createRevocationCheck: need 0 <= ttlSeconds <= staleSeconds')
  }
  const maxEntries = options.maxEntries ?? 10_000
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new TypeError('createRevocationCheck: maxEntries must be a positive whole number')
  const cache = new Map<string, CachedFacts>()

  const remember = (key: string, entry: CachedFacts): void => {
    cache.delete(key)
    cache.set(key, entry)
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string)
  }

  const lookUp = async (identity: ApiKeyIdentity, nowSeconds: number, cacheKey: string, cached: CachedFacts | undefined) => {
    let facts: RevocationFacts
    try {
      // The store is asked once the check has returned its promise, so nothing below is logged during
      // the call itself: the caller labels the lines that follow (the authorizer sets the request id then).
      facts = await Promise.resolve().then(() => store.revocationFacts(identity.keyId, identity.orgId))
    } catch (error) {
      const code = (error as { name?: unknown } | null)?.name
      if (cached !== undefined && nowSeconds - cached.fetchedAt <= options.staleSeconds) {
        logger.warn('revocation store unavailable: using cached answer', {
          reason: 'STORE_UNAVAILABLE',
          keyId: identity.keyId,
          orgId: identity.orgId,
          ageSeconds: Math.round(nowSeconds - cached.fetchedAt),
          errorName: code
        })
        return decide(cached.facts, identity)
      }
      logger.error('revocation store unavailable: failing closed', {
        reason: 'STORE_UNAVAILABLE',
        keyId: identity.keyId,
        orgId: identity.orgId,
        errorName: code
      })
      return 'STORE_UNAVAILABLE'
    }
    remember(cacheKey, { facts, fetchedAt: nowSeconds })
    return decide(facts, identity)
  }

  // A fresh cached answer is given as it is (the authorizer's hot path then makes no promise at all);
  // anything else asks the store.
  return (identity, nowSeconds) => {
    const cacheKey = `${identity.orgId}\u0000${identity.keyId}`
    const cached = cache.get(cacheKey)
    if (cached !== undefined && nowSeconds - cached.fetchedAt < options.ttlSeconds) return decide(cached.facts, identity)
    return lookUp(identity, nowSeconds, cacheKey, cached)
  }
}

/**
 * The revocation check the environment configures: `KEYS_TABLE` (and, locally,
 * `DYNAMODB_ENDPOINT`), with `REVOCATION_CACHE_TTL` (default 30 s) and
 * `REVOCATION_STALE_TTL` (default 300 s). Without `KEYS_TABLE` there is no
 * check, and one warning says so.
 *
 * The key store's code (its DynamoDB client and SigV4 signing) is loaded only
 * when `KEYS_TABLE` is set: without it, the authorizer's cold start does not
 * evaluate it at all.
 *
 * @example
 * const isRevoked = await revocationCheckFromEnv(process.env, logger)
 */
export async function revocationCheckFromEnv(env: Env, logger: Logger): Promise<RevocationCheck | undefined> {
  if (readEnv(env, 'KEYS_TABLE') === undefined) {
    logger.warn('revocation disabled: KEYS_TABLE is not set, so only signature and expiry are checked')
    return undefined
  }
  const { keyStoreFromEnv } = await import('../store/dynamo-key-store')
  const store = keyStoreFromEnv(env, logger)
  if (store === undefined) throw new TypeError('revocationCheckFromEnv: KEYS_TABLE is set, yet keyStoreFromEnv made no store')
  const ttlSeconds = readDurationSeconds(env, 'REVOCATION_CACHE_TTL', '30', 'a number of seconds')
  const staleSeconds = readDurationSeconds(env, 'REVOCATION_STALE_TTL', '300', 'a number of seconds')
  if (staleSeconds < ttlSeconds) throw new ConfigError('REVOCATION_STALE_TTL', 'at least REVOCATION_CACHE_TTL')
  return createRevocationCheck(store, { ttlSeconds, staleSeconds }, logger)
}
