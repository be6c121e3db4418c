import type { IssuedApiKey, KeyOwner } from '../keys/issue-api-key'

/**
 * What is kept about an issued API key. Never the key, never a hash of it:
 * a stored hash would let anyone holding a table export test guesses offline.
 * The last four characters are for display only (they are signature bytes).
 */
export interface KeyRecord {
  readonly keyId: string
  readonly companyId: string
  readonly userId: string
  readonly name: string | undefined
  /** ISO 8601. */
  readonly createdAt: string
  /** ISO 8601. */
  readonly expiresAt: string
  /** ISO 8601, once revoked. */
  readonly revokedAt: string | undefined
  /** The `kid` of the signing key, if any. */
  readonly kid: string | undefined
  readonly last4: string
  /** The portal user who created the key (the ID token's `sub`), when it differs from `userId` (billing). */
  readonly portalUserId?: string | undefined
  /** The portal user's email, with billing. */
  readonly email?: string | undefined
  /** The subscription the key was issued under, with billing. */
  readonly plan?: KeyPlan | undefined
}

/** The subscription behind a key: Stripe's subscription, price and product ids. */
export interface KeyPlan {
  readonly subscriptionId: string
  readonly priceIds: readonly string[]
  readonly productIds: readonly string[]
}

/** What a key record keeps besides the key's own facts (see {@link keyRecordFor}). */
export interface KeyRecordExtras {
  readonly portalUserId?: string | undefined
  readonly email?: string | undefined
  readonly plan?: KeyPlan | undefined
}

/** The revocation facts the authorizer needs for one key, in epoch seconds. */
export interface RevocationFacts {
  /** When this key's record was revoked; `undefined` if not revoked or no record. */
  readonly keyRevokedAt: number | undefined
  /** Keys of the company issued before this instant are revoked. */
  readonly companyRevokedBefore: number | undefined
}

/** Outcome of revoking one key. */
export type RevokeOutcome = 'revoked' | 'not-found'

/**
 * Persistence for key records and revocations. Implemented on DynamoDB
 * (dynalite locally); the interface lets the authorizer's cache be tested
 * with a store that fails on purpose.
 */
export interface KeyStore {
  /** Record a newly issued key. */
  putKey(record: KeyRecord): Promise<void>
  /** The company's keys, newest first. */
  listKeys(companyId: string): Promise<KeyRecord[]>
  /** Revoke one key of the company. Idempotent; another company's key is `not-found`. */
  revokeKey(companyId: string, keyId: string, atSeconds: number): Promise<RevokeOutcome>
  /** Revoke every key of the company issued before `atSeconds`, with or without a record. */
  revokeAllKeys(companyId: string, atSeconds: number): Promise<void>
  /** When the company last revoked all its keys, if ever (epoch seconds). */
  companyRevokedBefore(companyId: string): Promise<number | undefined>
  /** One round trip for everything the authorizer needs. `keyId` may be empty (keys without `jti`). */
  revocationFacts(keyId: string, companyId: string): Promise<RevocationFacts>
}

/**
 * The company-wide revocation rule: a key is revoked by `DELETE /keys` when
 * it was issued before the company's "revoked before" instant, or carries no
 * `iat` at all once there is one (it cannot prove it is newer).
 *
 * @example
 * revokedByCompany(1_700_000_000, 1_700_000_100) // true
 */
export function revokedByCompany(issuedAtSeconds: number | undefined, revokedBefore: number | undefined): boolean {
  return revokedBefore !== undefined && (issuedAtSeconds === undefined || Math.floor(issuedAtSeconds) < revokedBefore)
}

/**
 * The record kept for a newly issued key: metadata and the key's last four
 * characters for display, never the key itself.
 *
 * @example
 * await store.putKey(keyRecordFor(issued, owner, 'ci'))
 */
export function keyRecordFor(issued: IssuedApiKey, owner: KeyOwner, name: string | undefined, extras: KeyRecordExtras = {}): KeyRecord {
  const plan =
    extras.plan === undefined
      ? undefined
      : { subscriptionId: extras.plan.subscriptionId, priceIds: extras.plan.priceIds, productIds: extras.plan.productIds }
  return {
    ...(extras.portalUserId === undefined || extras.portalUserId === owner.userId ? {} : { portalUserId: extras.portalUserId }),
    ...(extras.email === undefined ? {} : { email: extras.email }),
    ...(plan === undefined ? {} : { plan }),
    keyId: issued.keyId,
    companyId: owner.companyId,
    userId: owner.userId,
    name,
    createdAt: new Date(issued.issuedAt * 1000).toISOString(),
    expiresAt: new Date(issued.expiresAt * 1000).toISOString(),
    revokedAt: undefined,
    kid: issued.kid,
    last4: issued.apikey.slice(-4)
  }
}

/** What a key is now: revoked (by itself or company-wide) wins over expired. */
export type KeyStatus = 'active' | 'revoked' | 'expired'

/**
 * A key record's status at `nowSeconds`, given the company's "revoked before"
 * instant: one rule for `GET /keys` and for the active-key cap.
 *
 * @example
 * keyStatus(record, await store.companyRevokedBefore(companyId), Date.now() / 1000) // 'active'
 */
export function keyStatus(record: KeyRecord, companyRevokedBefore: number | undefined, nowSeconds: number): KeyStatus {
  if (record.revokedAt !== undefined || revokedByCompany(Date.parse(record.createdAt) / 1000, companyRevokedBefore)) return 'revoked'
  return Date.parse(record.expiresAt) / 1000 <= nowSeconds ? 'expired' : 'active'
}
