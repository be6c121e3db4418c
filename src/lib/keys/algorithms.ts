/** The JWS algorithms this project signs and verifies API keys with. */
export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const

/** One of {@link JWT_ALGORITHMS}. */
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number]

/**
 * Type guard for a supported algorithm name (case-sensitive, as in JWS).
 *
 * @example
 * isJwtAlgorithm('RS256') // true
 * isJwtAlgorithm('none') // false
 */
export function isJwtAlgorithm(value: unknown): value is JwtAlgorithm {
  return typeof value === 'string' && (JWT_ALGORITHMS as readonly string[]).includes(value)
}

/**
 * Whether the algorithm is an HMAC (shared-secret) one.
 *
 * @example
 * isHmac('HS256') // true
 */
export function isHmac(alg: JwtAlgorithm): alg is 'HS256' | 'HS384' | 'HS512' {
  return alg.startsWith('HS')
}

/** The digest behind an algorithm, for node:crypto; `null` for EdDSA. */
export function digestOf(alg: JwtAlgorithm): 'sha256' | 'sha384' | 'sha512' | null {
  if (alg === 'EdDSA') return null
  return `sha${alg.slice(2)}` as 'sha256' | 'sha384' | 'sha512'
}

/** Minimum HMAC secret length in bytes: the hash size (RFC 7518 section 3.2). */
export function minHmacSecretBytes(alg: 'HS256' | 'HS384' | 'HS512'): number {
  return Number(alg.slice(2)) / 8
}
