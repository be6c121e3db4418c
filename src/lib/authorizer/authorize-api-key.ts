import type { ApiKeyConfig } from '../keys/api-key-config'
import { verifyApiKey, type ApiKeyIdentity, type ApiKeyVerification, type VerificationDenyReason } from '../keys/verify-api-key'

/** Why the revocation check denied a verified key: revoked, or the store could not say (fail closed). */
export type RevocationDenyReason = 'REVOKED' | 'STORE_UNAVAILABLE'

/** Every reason the authorizer logs for a deny: verification's, then revocation's. */
export type AuthorizationDenyReason = VerificationDenyReason | RevocationDenyReason

/**
 * Checks whether a verified key was revoked. Returns a deny reason, or
 * `undefined` to allow: as it is when the answer is at hand (a fresh cached
 * one), as a promise when it has to ask the store. It must fail closed itself
 * (answer `STORE_UNAVAILABLE`) rather than throw or reject.
 */
export type RevocationCheck = (
  identity: ApiKeyIdentity,
  nowSeconds: number
) => RevocationDenyReason | undefined | Promise<RevocationDenyReason | undefined>

/** What the authorizer decides for one token. A key denied after verification (revoked) still names itself, for the log. */
export type AuthorizationDecision =
  ApiKeyVerification | { readonly valid: false; readonly reason: RevocationDenyReason; readonly keyId: string; readonly orgId: string }

/**
 * Verify an API key and, when a revocation check is configured, ask it too.
 * Never throws for anything a client sends. The decision comes back as it is
 * when no store is asked (no revocation check, a key denied before it, or a
 * cached revocation answer), and as a promise when the check asks the store:
 * `await` takes both, and the authorizer's hot path skips a promise when it can.
 *
 * @example
 * const decision = await authorizeApiKey(token, { config, nowSeconds: Date.now() / 1000 })
 */
export function authorizeApiKey(
  token: string | undefined,
  deps: { config: ApiKeyConfig; nowSeconds: number; isRevoked?: RevocationCheck | undefined }
): AuthorizationDecision | Promise<AuthorizationDecision> {
  if (token === undefined) return { valid: false, reason: 'MISSING_TOKEN' }
  const verification = verifyApiKey(token, deps.config, deps.nowSeconds)
  if (!verification.valid || deps.isRevoked === undefined) return verification
  const revoked = deps.isRevoked(verification.identity, deps.nowSeconds)
  return revoked instanceof Promise ? revoked.then((answer) => withRevocation(verification, answer)) : withRevocation(verification, revoked)
}

function withRevocation(
  verification: ApiKeyVerification & { readonly valid: true },
  revoked: RevocationDenyReason | undefined
): AuthorizationDecision {
  if (revoked === undefined) return verification
  return { valid: false, reason: revoked, keyId: verification.identity.keyId, orgId: verification.identity.orgId }
}
