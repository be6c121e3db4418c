import type { ApiKeyConfig } from '../keys/api-key-config'
import { verifyApiKey, type ApiKeyIdentity, type ApiKeyVerification, type VerificationDenyReason } from '../keys/verify-api-key'

/** Why the revocation check denied a verified key: revoked, or the store could not say (fail closed). */
export type RevocationDenyReason = 'REVOKED' | 'STORE_UNAVAILABLE'

/** Every reason the authorizer logs for a deny: verification's, then revocation's. */
export type AuthorizationDenyReason = VerificationDenyReason | RevocationDenyReason

/**
 * Checks whether a verified key was revoked. Returns a deny reason, or
 * `undefined` to allow. It must fail closed itself (answer
 * `STORE_UNAVAILABLE`) rather than throw.
 */
export type RevocationCheck = (identity: ApiKeyIdentity, nowSeconds: number) => Promise<RevocationDenyReason | undefined>

/** What the authorizer decides for one token. A key denied after verification (revoked) still names itself, for the log. */
export type AuthorizationDecision =
  ApiKeyVerification | { readonly valid: false; readonly reason: RevocationDenyReason; readonly keyId: string; readonly orgId: string }

/**
 * Verify an API key and, when a revocation check is configured, ask it too.
 * Never throws for anything a client sends.
 *
 * @example
 * const decision = await authorizeApiKey(token, { config, nowSeconds: Date.now() / 1000 })
 */
export async function authorizeApiKey(
  token: string | undefined,
  deps: { config: ApiKeyConfig; nowSeconds: number; isRevoked?: RevocationCheck | undefined }
): Promise<AuthorizationDecision> {
  if (token === undefined) return { valid: false, reason: 'MISSING_TOKEN' }
  const verification = verifyApiKey(token, deps.config, deps.nowSeconds)
  if (!verification.valid || deps.isRevoked === undefined) return verification
  const revoked = await deps.isRevoked(verification.identity, deps.nowSeconds)
  if (revoked === undefined) return verification
  return { valid: false, reason: revoked, keyId: verification.identity.keyId, orgId: verification.identity.orgId }
}
