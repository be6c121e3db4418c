/**
 * A hand-rolled compact JWS signer for hostile tokens. jose refuses to sign
 * many of the shapes the verifier must refuse (a `crit` header, a `__proto__`
 * key, a header that is an array), so these are signed here with node:crypto
 * over exactly the bytes given.
 */
import { constants, createHmac, createPrivateKey, sign, type KeyObject } from 'node:crypto'

/**
 * base64url without padding, of a string (UTF-8) or bytes.
 *
 * @example
 * b64url('{"alg":"HS256"}') // 'eyJhbGciOiJIUzI1NiJ9'
 */
export function b64url(input: string | Uint8Array): string {
  return Buffer.from(input).toString('base64url')
}

/** A JSON value for a segment, or the exact text to encode. */
export type Segment = string | Record<string, unknown> | readonly unknown[]

const text = (segment: Segment): string => (typeof segment === 'string' ? segment : JSON.stringify(segment))

/**
 * Sign `header.payload` with the algorithm given (which need not match the
 * header's `alg`: that mismatch is what some tests are about).
 * `key` is the HMAC secret text for HS*, or a PEM / KeyObject private key.
 *
 * @example
 * signRawJws('HS256', secret, '{"alg":"HS256","crit":["exp"]}', { exp: 1 })
 */
export function signRawJws(alg: string, key: string | KeyObject, header: Segment, payload: Segment): string {
  return signEncodedJws(alg, key, b64url(text(header)), b64url(text(payload)))
}

/**
 * Sign two segments exactly as given, already encoded (which lets a test sign
 * segments no encoder would produce: bytes that are not UTF-8, a dangling
 * base64url character).
 *
 * @example
 * signEncodedJws('HS256', secret, b64url('{"alg":"HS256"}'), b64url(Buffer.from([0x7b, 0xff, 0x7d])))
 */
export function signEncodedJws(alg: string, key: string | KeyObject, encodedHeader: string, encodedPayload: string): string {
  const input = `${encodedHeader}.${encodedPayload}`
  return `${input}.${b64url(signatureOf(alg, key, input))}`
}

function signatureOf(alg: string, key: string | KeyObject, input: string): Buffer {
  const data = Buffer.from(input)
  if (alg.startsWith('HS'))
    return createHmac(`sha${alg.slice(2)}`, key)
      .update(input)
      .digest()
  const privateKey = typeof key === 'string' ? createPrivateKey(key) : key
  if (alg === 'EdDSA') return sign(null, data, privateKey)
  const digest = `sha${alg.slice(2)}`
  if (alg.startsWith('PS'))
    return sign(digest, data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 })
  if (alg.startsWith('ES')) return sign(digest, data, { key: privateKey, dsaEncoding: 'ieee-p1363' })
  return sign(digest, data, privateKey)
}

/**
 * Split a compact token into its three segments (throws unless there are three).
 *
 * @example
 * const [header, payload, signature] = segmentsOf(token)
 */
export function segmentsOf(token: string): [string, string, string] {
  const parts = token.split('.')
  if (parts.length !== 3) throw new TypeError(`expected 3 segments, got ${parts.length}`)
  return parts as [string, string, string]
}

/**
 * Change one character in the middle of a base64url segment. The middle (not
 * the last character) matters: the last character may carry only padding bits,
 * so changing it can leave the decoded bytes as they were.
 *
 * @example
 * flipMiddleChar('abcd') // 'abdd'
 */
export function flipMiddleChar(segment: string): string {
  const i = Math.floor(segment.length / 2)
  const c = segment[i]
  return `${segment.slice(0, i)}${c === 'A' ? 'B' : 'A'}${segment.slice(i + 1)}`
}
