import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import type { ApiKeyConfig } from './api-key-config'
import { isIdentifier } from './identifier'

/** Who the key is for; always taken from the verified portal token. */
export interface KeyOwner {
  readonly userId: string
  readonly companyId: string
}

/** A freshly signed API key and its metadata. */
export interface IssuedApiKey {
  readonly apikey: string
  readonly keyId: string
  readonly issuedAt: number
  readonly expiresAt: number
  readonly kid: string | undefined
}

/**
 * Sign a new API key with the current signing key. The payload carries the
 * configured user and company claims, a random `jti` (the key id), `iat` and
 * `exp`, plus `iss`/`aud` when configured. `lifetimeSeconds` may only shorten
 * the configured lifetime. `notIssuedBefore` lifts `iat` to the company's
 * "revoked before" instant (at most a second ahead, within clock tolerance).
 *
 * @example
 * const key = await issueApiKey(config, { userId: 'auth0|1', companyId: 'acme' }, { nowSeconds: 1_700_000_000 })
 */
export async function issueApiKey(
  config: ApiKeyConfig,
  owner: KeyOwner,
  options: { nowSeconds: number; lifetimeSeconds?: number | undefined; notIssuedBefore?: number | undefined }
): Promise<IssuedApiKey> {
  if (config.signingKey === undefined) throw new TypeError('issueApiKey needs a config loaded with role "sign"')
  // Never sign a key the authorizer would refuse (BAD_USER / BAD_COMPANY): the caller validates ids first.
  if (!isIdentifier(owner.userId) || !isIdentifier(owner.companyId)) throw new TypeError('issueApiKey: owner ids must pass isIdentifier')
  // After a company-wide revoke, `iat` must not fall in the revoked second, or the new key would be born revoked.
  const issuedAt = Math.max(Math.floor(options.nowSeconds), options.notIssuedBefore ?? 0)
  const lifetime = Math.min(options.lifetimeSeconds ?? config.expiresInSeconds, config.expiresInSeconds)
  const expiresAt = issuedAt + lifetime
  const keyId = randomUUID()

  const claims: Record<string, unknown> = {
    [config.userIdField]: owner.userId,
    [config.companyIdField]: owner.companyId
  }
  const jwt = new SignJWT(claims)
    .setProtectedHeader(config.kid === undefined ? { alg: config.algorithm, typ: 'JWT' } : { alg: config.algorithm, typ: 'JWT', kid: config.kid })
    .setJti(keyId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
  if (config.issuer !== undefined) jwt.setIssuer(config.issuer)
  if (config.audience !== undefined) jwt.setAudience(config.audience)

  return { apikey: await jwt.sign(config.signingKey), keyId, issuedAt, expiresAt, kid: config.kid }
}
