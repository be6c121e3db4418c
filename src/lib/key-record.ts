import type { IssuedApiKey } from './issue-api-key'
import type { KeyRecord } from './key-store'
import type { PortalIdentity } from './portal-identity'

/**
 * The record kept for a newly issued key: metadata and the key's last four
 * characters for display, never the key itself.
 *
 * @example
 * await store.putKey(keyRecordFor(issued, owner, 'ci'))
 */
export function keyRecordFor(issued: IssuedApiKey, owner: PortalIdentity, name: string | undefined): KeyRecord {
  return {
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
