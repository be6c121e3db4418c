import { constants, createHmac, timingSafeEqual, verify as verifySignature } from 'node:crypto'
import { JWT_ALGORITHMS, digestOf, isHmac, type JwtAlgorithm } from './algorithms'
import type { ApiKeyConfig, VerifyingKey } from './api-key-config'
import { isIdentifier } from './identifier'

/**
 * Why verification denied a key: a stable code for logs and metrics. What
 * only the authorizer can decide (revocation) is `AuthorizationDenyReason`.
 */
export type VerificationDenyReason =
  | 'MISSING_TOKEN'
  | 'TOKEN_TOO_LARGE'
  | 'MALFORMED'
  | 'UNSUPPORTED_HEADER'
  | 'ALG_MISMATCH'
  | 'UNKNOWN_KID'
  | 'BAD_SIGNATURE'
  | 'MISSING_EXP'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'BAD_ISSUER'
  | 'BAD_AUDIENCE'
  | 'BAD_COMPANY'
  | 'BAD_USER'

/** The identity an accepted key carries. */
export interface ApiKeyIdentity {
  readonly orgId: string
  readonly userId: string
  /** The key's `jti`; empty for keys signed by the reference plugin, which have none. */
  readonly keyId: string
  /** Issued-at, in seconds; `undefined` when the key has no `iat`. */
  readonly issuedAt: number | undefined
  readonly expiresAt: number
  /** The `kid` of the key that verified it. */
  readonly kid: string | undefined
}

/** The outcome of verifying an API key: an expected denial is a value, not an exception. */
export type ApiKeyVerification =
  { readonly valid: true; readonly identity: ApiKeyIdentity } | { readonly valid: false; readonly reason: VerificationDenyReason }

/** Longest token accepted; anything larger is refused before any decoding or crypto. */
export const MAX_TOKEN_BYTES = 8192

/** Three non-empty base64url segments and nothing else: one pass over the token (the alphabet is checked before any decoding). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/** The last string {@link isCompactJws} passed, until verifyApiKey takes it: the authorizer checks a token's shape while reading the event, and the check is not run twice. */
let lastCompact: string | undefined

/**
 * Whether `token` has the shape of a compact JWS: three non-empty segments of
 * base64url characters (so no whitespace, no padding, no other character).
 * verifyApiKey checks this before anything else; a caller that has checked it
 * already (the authorizer, to read `Bearer <token>` without a second pass)
 * saves verifyApiKey that pass on the same string.
 *
 * @example
 * isCompactJws('eyJhbGciOiJIUzI1NiJ9.e30.c2ln') // true
 * isCompactJws('eyJhbGciOiJIUzI1NiJ9.e30.c2ln ') // false
 */
export function isCompactJws(token: string): boolean {
  if (!COMPACT_JWS.test(token)) return false
  lastCompact = token
  return true
}

/** Header parameters we understand. Anything else is tolerated only if not `crit`-listed; `crit` itself is refused. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

const deny = (reason: VerificationDenyReason): ApiKeyVerification => ({ valid: false, reason })

/**
 * Cheap pre-check: a forbidden key can only be present if its name appears in
 * the text, written out or hidden in a \u escape. `proto` covers `__proto__`
 * and `prototype`; three substring searches cost less than one alternation regex.
 */
function mayHoldForbiddenKey(text: string): boolean {
  return text.includes('proto') || text.includes('constructor') || text.includes('\\u')
}

/** JSON.parse that refuses non-objects and prototype-polluting keys at any depth. */
function parseJsonObject(segment: string): Record<string, unknown> | undefined {
  let poisoned = false
  let value: unknown
  const text = Buffer.from(segment, 'base64url').toString('utf8')
  try {
    // The reviver walks every key, so run it only when the text could hold one of the names
    // (written out, or hidden in a \u escape): it is the costliest step of a cheap HS256 check.
    value = mayHoldForbiddenKey(text)
      ? JSON.parse(text, (key, v: unknown) => {
          if (FORBIDDEN_KEYS.has(key)) poisoned = true
          return v
        })
      : JSON.parse(text)
  } catch {
    return undefined
  }
  if (poisoned || value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  return value as Record<string, unknown>
}

/** The value of each base64url character, for {@link isCanonicalBase64url}. */
const BASE64URL_VALUE = new Map([...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].map((c, i) => [c.charCodeAt(0), i]))

/**
 * Whether a segment of base64url characters is the one spelling of the bytes
 * it decodes to: `Buffer.from(s, 'base64url').toString('base64url') === s`,
 * without decoding. A length of 4n+1 leaves bits that make no byte; the last
 * character of a 4n+2 or 4n+3 segment carries 4 or 2 bits no byte uses, and
 * the decoder would ignore them, so they must be zero.
 */
export function isCanonicalBase64url(segment: string): boolean {
  const rest = segment.length % 4
  if (rest === 0) return true
  if (rest === 1) return false
  const last = BASE64URL_VALUE.get(segment.charCodeAt(segment.length - 1))
  return last !== undefined && (last & (rest === 2 ? 0x0f : 0x03)) === 0
}

/** {@link digestOf} for each algorithm, looked up rather than formatted on every call. */
const DIGEST = new Map(JWT_ALGORITHMS.map((alg) => [alg, digestOf(alg)]))

function signatureValid(alg: JwtAlgorithm, key: VerifyingKey['key'], signingInput: string, signature: Buffer): boolean {
  const digest = DIGEST.get(alg) as ReturnType<typeof digestOf>
  if (isHmac(alg)) {
    const expected = createHmac(digest as string, key)
      .update(signingInput)
      .digest()
    // Constant-time; lengths are public (they follow from the algorithm).
    return expected.length === signature.length && timingSafeEqual(expected, signature)
  }
  const data = Buffer.from(signingInput)
  switch (alg) {
    case 'PS256':
      return verifySignature(digest, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature)
    case 'ES256':
    case 'ES384':
      return verifySignature(digest, data, { key, dsaEncoding: 'ieee-p1363' }, signature)
    default:
      return verifySignature(digest, data, key, signature)
  }
}

/**
 * Pick the verifying key for a token: by `kid` when the token names one (an
 * unknown `kid` is a denial, never a fallback), or the current key when it
 * names none (keys from the reference plugin carry no `kid`).
 */
function selectKey(keys: readonly VerifyingKey[], kid: unknown): VerifyingKey | undefined {
  if (kid === undefined) return keys[0]
  if (typeof kid !== 'string') return undefined
  for (const key of keys) if (key.kid === kid) return key
  return undefined
}

/**
 * The header's verdict: the key that verifies its token, or why the token is
 * denied before any crypto (unreadable, unsupported, unknown `kid`, or an
 * `alg` other than that key's).
 */
function keyForHeader(headerSegment: string, keys: readonly VerifyingKey[]): VerifyingKey | VerificationDenyReason {
  const header = parseJsonObject(headerSegment)
  if (header === undefined) return 'MALFORMED'
  if (header.crit !== undefined || header.b64 !== undefined || header.enc !== undefined || header.zip !== undefined) return 'UNSUPPORTED_HEADER'
  const typ = header.typ
  if (typ !== undefined && typ !== 'JWT' && (typeof typ !== 'string' || typ.toUpperCase() !== 'JWT')) return 'UNSUPPORTED_HEADER'
  const key = selectKey(keys, header.kid)
  if (key === undefined) return 'UNKNOWN_KID'
  if (header.alg !== key.alg) return 'ALG_MISMATCH'
  return key
}

/**
 * The last header segment that selected a key, with that key. Every API key
 * signed with one signing key carries the same header (`alg`, `typ`, `kid`),
 * so this saves decoding and parsing it on nearly every call. The verdict is
 * a function of the segment's exact text and the configured keys only, so
 * reusing it changes no decision; the signature and the claims are still
 * checked for every token. Only verdicts that selected a key are kept: a
 * stream of bad headers cannot evict the good one.
 */
let lastHeader: { readonly segment: string; readonly keys: readonly VerifyingKey[]; readonly key: VerifyingKey } | undefined

function audienceMatches(aud: unknown, expected: string): boolean {
  if (typeof aud === 'string') return aud === expected
  return Array.isArray(aud) && aud.includes(expected)
}

/** A claim the token itself carries, never one inherited from Object.prototype. */
function ownClaim(claims: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(claims, name) ? claims[name] : undefined
}

/**
 * Verify an API key synchronously with node:crypto. Every check is pinned:
 * the algorithm comes from the configured key (the token's `alg` must equal
 * it; `none` and HS-against-a-public-key can never match), `kid` selects among
 * configured keys only (`jku`, `x5u`, `jwk` and `x5c` are never read), `crit`
 * is refused, `exp` is required, `iss`/`aud` are checked when configured, and
 * the company claim must be a non-empty string.
 *
 * Order matters for cost: size and shape checks come before any crypto, and
 * the payload is parsed only after the signature holds.
 *
 * @example
 * const result = verifyApiKey(token, config, Date.now() / 1000)
 * if (!result.valid) logger.info('deny', { reason: result.reason })
 */
export function verifyApiKey(token: string, config: ApiKeyConfig, nowSeconds: number): ApiKeyVerification {
  if (token.length === 0) return deny('MISSING_TOKEN')
  if (token.length > MAX_TOKEN_BYTES) return deny('TOKEN_TOO_LARGE')

  // Buffer's base64url decoder skips invalid characters silently, so check the alphabet first
  // (unless this very string was just checked: a pure check of the text, so equal text is enough).
  const shaped = token === lastCompact || COMPACT_JWS.test(token)
  lastCompact = undefined
  if (!shaped) return deny('MALFORMED')
  const firstDot = token.indexOf('.')
  const secondDot = token.indexOf('.', firstDot + 1)
  const headerSegment = token.slice(0, firstDot)
  const payloadSegment = token.slice(firstDot + 1, secondDot)
  const signatureSegment = token.slice(secondDot + 1)

  let key: VerifyingKey
  const known = lastHeader
  if (known !== undefined && known.keys === config.verifyingKeys && known.segment === headerSegment) {
    key = known.key
  } else {
    const verdict = keyForHeader(headerSegment, config.verifyingKeys)
    if (typeof verdict === 'string') return deny(verdict)
    key = verdict
    // A copy of the segment, not a slice of the token: the memo must not keep an API key alive.
    lastHeader = { segment: Buffer.from(headerSegment, 'latin1').toString('latin1'), keys: config.verifyingKeys, key }
  }

  // Only the canonical spelling: the decoder ignores a last character's unused bits, and a
  // second spelling of the same key would be a second cache entry and a second "key" for anyone counting.
  if (!isCanonicalBase64url(signatureSegment)) return deny('MALFORMED')
  const signature = Buffer.from(signatureSegment, 'base64url')
  let signed: boolean
  try {
    signed = signatureValid(key.alg, key.key, token.slice(0, secondDot), signature)
  } catch {
    signed = false
  }
  if (!signed) return deny('BAD_SIGNATURE')

  const claims = parseJsonObject(payloadSegment)
  if (claims === undefined) return deny('MALFORMED')

  const tolerance = config.clockToleranceSeconds
  const { exp, nbf, iat } = claims
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return deny('MISSING_EXP')
  if (nowSeconds - tolerance >= exp) return deny('EXPIRED')
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf) || nbf > nowSeconds + tolerance)) return deny('NOT_YET_VALID')
  // A future iat would let a key dodge a company-wide "revoked before" instant. One second is always
  // allowed: after a revoke-all, keys are issued with iat at the next second (see issueApiKey).
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat) || iat > nowSeconds + Math.max(tolerance, 1)))
    return deny('NOT_YET_VALID')
  if (config.issuer !== undefined && claims.iss !== config.issuer) return deny('BAD_ISSUER')
  if (config.audience !== undefined && !audienceMatches(claims.aud, config.audience)) return deny('BAD_AUDIENCE')

  const orgId = ownClaim(claims, config.companyIdField)
  if (!isIdentifier(orgId)) return deny('BAD_COMPANY')
  const userId = ownClaim(claims, config.userIdField)
  if (userId !== undefined && !isIdentifier(userId)) return deny('BAD_USER')
  const jti = claims.jti
  if (jti !== undefined && !isIdentifier(jti)) return deny('MALFORMED')

  return {
    valid: true,
    identity: {
      orgId,
      userId: userId ?? '',
      keyId: jti ?? '',
      issuedAt: iat,
      expiresAt: exp,
      kid: key.kid
    }
  }
}
