import { exportJWK, type JWK } from 'jose'
import { isHmac } from './algorithms'
import type { VerifyingKey } from './api-key-config'

/** A JSON Web Key Set document. */
export interface JwksDocument {
  readonly keys: readonly JWK[]
}

/**
 * The public JWKS for the configured verifying keys: each with `kid`, `alg`
 * and `use: "sig"`. HMAC keys are secrets and are never published, so an HS*
 * deployment answers `{ "keys": [] }`.
 *
 * @example
 * const jwks = await publicJwks(config.verifyingKeys)
 */
export async function publicJwks(keys: readonly VerifyingKey[]): Promise<JwksDocument> {
  const published: JWK[] = []
  for (const key of keys) {
    if (isHmac(key.alg)) continue
    const jwk = await exportJWK(key.key)
    published.push({ ...jwk, ...(key.kid === undefined ? {} : { kid: key.kid }), alg: key.alg, use: 'sig' })
  }
  return { keys: published }
}
