import { createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { JWT_ALGORITHMS, isHmac, isJwtAlgorithm, minHmacSecretBytes, type JwtAlgorithm } from './algorithms'
import { readDurationSeconds, readEnv, requireEnv, type Env } from '../runtime/env'
import { ConfigError } from '../runtime/errors'
import { assertKeyFitsAlgorithm, importSigningKey, importVerifyingKey, samePublicKey } from './key-material'

/** A key the authorizer accepts, pinned to exactly one algorithm. */
export interface VerifyingKey {
  readonly kid: string | undefined
  readonly alg: JwtAlgorithm
  /** The HMAC secret, or the public key. */
  readonly key: KeyObject
}

/** Everything about API keys: how they are signed, verified and shaped. Frozen. */
export interface ApiKeyConfig {
  readonly algorithm: JwtAlgorithm
  readonly kid: string | undefined
  /** Present only where the key is needed (`role: 'sign'`). */
  readonly signingKey: KeyObject | undefined
  /** The current key first. */
  readonly verifyingKeys: readonly VerifyingKey[]
  readonly userIdField: string
  readonly companyIdField: string
  readonly expiresInSeconds: number
  readonly issuer: string | undefined
  readonly audience: string | undefined
  readonly clockToleranceSeconds: number
}

/**
 * What a Lambda needs the key material for:
 * - `sign`: the issuer; needs `JWT_SECRET`.
 * - `verify`: the authorizer; needs `JWT_VERIFY_KEY`, or `JWT_SECRET` to derive it.
 * - `publish`: the JWKS endpoint; like `verify`, but for HS* it needs no secret at all.
 */
export type KeyRole = 'sign' | 'verify' | 'publish'

/** Claim names the issuer sets itself; a user/company field must not collide with them. */
const RESERVED_CLAIMS = new Set(['exp', 'iat', 'nbf', 'jti', 'iss', 'aud', '__proto__', 'constructor', 'prototype'])
const CLAIM_NAME = /^[A-Za-z0-9_:./-]{1,128}$/

function readClaimName(env: Env, variable: string, fallback: string): string {
  const name = readEnv(env, variable) ?? fallback
  if (!CLAIM_NAME.test(name) || RESERVED_CLAIMS.has(name)) {
    throw new ConfigError(variable, 'a claim name of letters, digits and _:./- other than exp, iat, nbf, jti, iss or aud')
  }
  return name
}

/**
 * Load and validate the API-key settings from the environment (`JWT_*`, or
 * the same names with the `PLUGIN_` prefix). Throws a {@link ConfigError}
 * naming the variable at fault; never echoes a secret.
 *
 * @example
 * const config = loadApiKeyConfig(process.env, 'verify')
 */
export function loadApiKeyConfig(env: Env, role: KeyRole): ApiKeyConfig {
  const algorithmName = requireEnv(env, 'JWT_ALGORITHM', `one of ${JWT_ALGORITHMS.join(', ')}`)
  if (!isJwtAlgorithm(algorithmName)) throw new ConfigError('JWT_ALGORITHM', `one of ${JWT_ALGORITHMS.join(', ')}`)
  const algorithm: JwtAlgorithm = algorithmName
  const kid = readEnv(env, 'JWT_KID')
  if (kid !== undefined && !/^[\x21-\x7e]{1,128}$/.test(kid)) throw new ConfigError('JWT_KID', 'up to 128 printable ASCII characters')

  // Untrimmed: an HMAC secret is used byte for byte, as the reference plugin does.
  const secret = readEnv(env, 'JWT_SECRET', { trim: false })
  const verifyMaterial = readEnv(env, 'JWT_VERIFY_KEY')

  let signingKey: KeyObject | undefined
  if (role === 'sign') {
    const material = requireEnv(env, 'JWT_SECRET', isHmac(algorithm) ? 'the HMAC secret' : `the PEM private key for ${algorithm}`, { trim: false })
    signingKey = importSigningKey(algorithm, material, 'JWT_SECRET')
  }

  let currentKey: KeyObject | undefined
  if (isHmac(algorithm)) {
    if (verifyMaterial !== undefined) throw new ConfigError('JWT_VERIFY_KEY', `unset for ${algorithm} (HMAC verifies with JWT_SECRET)`)
    if (role === 'sign') currentKey = signingKey
    else if (role === 'verify')
      currentKey = importVerifyingKey(algorithm, requireEnv(env, 'JWT_SECRET', 'the HMAC secret', { trim: false }), 'JWT_SECRET')
  } else if (verifyMaterial !== undefined) {
    currentKey = importVerifyingKey(algorithm, verifyMaterial, 'JWT_VERIFY_KEY')
    const privateKey = signingKey ?? (secret === undefined ? undefined : importSigningKey(algorithm, secret, 'JWT_SECRET'))
    if (privateKey !== undefined && !samePublicKey(createPublicKey(privateKey), currentKey)) {
      throw new ConfigError('JWT_VERIFY_KEY', 'the public half of JWT_SECRET')
    }
  } else {
    const privateKey =
      signingKey ??
      importSigningKey(algorithm, requireEnv(env, 'JWT_SECRET', `the PEM private key for ${algorithm}, or set JWT_VERIFY_KEY`), 'JWT_SECRET')
    currentKey = createPublicKey(privateKey)
  }

  const verifyingKeys: VerifyingKey[] = currentKey === undefined ? [] : [Object.freeze({ kid, alg: algorithm, key: currentKey })]
  verifyingKeys.push(...loadPreviousKeys(env, kid, role))

  const expiresInSeconds = readDurationSeconds(env, 'JWT_EXPIRES_IN', '30d', 'a number of seconds or a duration such as 30d, 12h or 15m')
  if (expiresInSeconds < 1) throw new ConfigError('JWT_EXPIRES_IN', 'at least 1 second')

  const userIdField = readClaimName(env, 'JWT_USER_ID_FIELD', 'sub')
  const companyIdField = readClaimName(env, 'JWT_COMPANY_ID_FIELD', 'org_id')
  if (userIdField === companyIdField) throw new ConfigError('JWT_COMPANY_ID_FIELD', 'a different claim from JWT_USER_ID_FIELD')

  return Object.freeze({
    algorithm,
    kid,
    signingKey,
    verifyingKeys: Object.freeze(verifyingKeys),
    userIdField,
    companyIdField,
    expiresInSeconds,
    issuer: readEnv(env, 'JWT_ISSUER'),
    audience: readEnv(env, 'JWT_AUDIENCE'),
    clockToleranceSeconds: readDurationSeconds(env, 'JWT_CLOCK_TOLERANCE', '30', 'a number of seconds such as 30')
  })
}

const PREVIOUS_KEYS_EXPECTED = 'a JSON Web Key Set {"keys":[...]} whose keys each have a unique kid (other than JWT_KID) and an alg'
const MAX_PREVIOUS_KEYS = 10

/**
 * Previous verification keys, kept after a rotation so keys they signed stay
 * valid until they expire: `JWT_PREVIOUS_KEYS`, a JWKS. Each key is pinned to
 * its own `alg` and found only by its `kid`; none of them ever signs.
 */
function loadPreviousKeys(env: Env, currentKid: string | undefined, role: KeyRole): VerifyingKey[] {
  const text = readEnv(env, 'JWT_PREVIOUS_KEYS')
  if (text === undefined) return []
  let jwks: unknown
  try {
    jwks = JSON.parse(text)
  } catch {
    throw new ConfigError('JWT_PREVIOUS_KEYS', PREVIOUS_KEYS_EXPECTED)
  }
  const list = (jwks as { keys?: unknown } | null)?.keys
  if (!Array.isArray(list) || list.length > MAX_PREVIOUS_KEYS) throw new ConfigError('JWT_PREVIOUS_KEYS', PREVIOUS_KEYS_EXPECTED)
  const seen = new Set<string>()
  const keys: VerifyingKey[] = []
  for (const jwk of list as Array<Record<string, unknown>>) {
    const { kid, alg } = jwk ?? {}
    if (typeof kid !== 'string' || kid === '' || kid === currentKid || seen.has(kid) || !isJwtAlgorithm(alg)) {
      throw new ConfigError('JWT_PREVIOUS_KEYS', PREVIOUS_KEYS_EXPECTED)
    }
    seen.add(kid)
    let key: KeyObject
    if (isHmac(alg)) {
      if (jwk.kty !== 'oct' || typeof jwk.k !== 'string') throw new ConfigError('JWT_PREVIOUS_KEYS', `an oct JWK with k for ${alg} (kid ${kid})`)
      const secret = Buffer.from(jwk.k, 'base64url')
      if (secret.length < minHmacSecretBytes(alg))
        throw new ConfigError('JWT_PREVIOUS_KEYS', `at least ${minHmacSecretBytes(alg)} bytes of k for ${alg} (kid ${kid})`)
      // The JWKS endpoint publishes no secrets: validated like everywhere else, then skipped.
      if (role === 'publish') continue
      key = createSecretKey(secret)
    } else {
      try {
        // Only the public members: a private JWK here must not make the authorizer hold a private key.
        const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...publicJwk } = jwk
        key = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' })
      } catch {
        throw new ConfigError('JWT_PREVIOUS_KEYS', `a valid public JWK for ${alg} (kid ${kid})`)
      }
      assertKeyFitsAlgorithm(alg, key, 'JWT_PREVIOUS_KEYS')
    }
    keys.push(Object.freeze({ kid, alg, key }))
  }
  return keys
}
