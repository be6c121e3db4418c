/**
 * Key material for tests, generated here with node:crypto, never copied from
 * anywhere. Everything comes back as the strings a deployment would put in its
 * environment: PEM for asymmetric keys, plain text for HMAC secrets.
 *
 * Generated material is cached in this module. Vitest evaluates modules once
 * per test file, so each file pays for RSA key generation (the slow part) at
 * most once per kind and slot, and no two files share keys.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { isHmac, minHmacSecretBytes, type JwtAlgorithm } from '../../src/lib/keys/algorithms'

/** A PEM key pair: PKCS#8 private key and SPKI public key. */
export interface PemKeyPair {
  readonly privateKey: string
  readonly publicKey: string
}

/** The kinds of asymmetric key the tests need, including ones that must be refused. */
export type KeyKind = 'rsa-2048' | 'rsa-1024' | 'rsa-pss-2048' | 'ec-p256' | 'ec-p384' | 'ed25519'

const SPKI = { type: 'spki', format: 'pem' } as const
const PKCS8 = { type: 'pkcs8', format: 'pem' } as const

/**
 * Generate a fresh PEM key pair of the given kind (uncached).
 *
 * @example
 * const { privateKey, publicKey } = generatePemKeyPair('ec-p256')
 */
export function generatePemKeyPair(kind: KeyKind): PemKeyPair {
  switch (kind) {
    case 'rsa-2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: SPKI, privateKeyEncoding: PKCS8 })
    case 'rsa-1024':
      return generateKeyPairSync('rsa', { modulusLength: 1024, publicKeyEncoding: SPKI, privateKeyEncoding: PKCS8 })
    case 'rsa-pss-2048':
      return generateKeyPairSync('rsa-pss', { modulusLength: 2048, publicKeyEncoding: SPKI, privateKeyEncoding: PKCS8 })
    case 'ec-p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: SPKI, privateKeyEncoding: PKCS8 })
    case 'ec-p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384', publicKeyEncoding: SPKI, privateKeyEncoding: PKCS8 })
    case 'ed25519':
      return generateKeyPairSync('ed25519', { publicKeyEncoding: SPKI, privateKeyEncoding: PKCS8 })
  }
}

const pairs = new Map<string, PemKeyPair>()

/**
 * A PEM key pair of the given kind, generated once per test file and slot.
 * Use another `slot` for "a different key of the same kind".
 *
 * @example
 * const current = pemKeyPair('rsa-2048')
 * const attacker = pemKeyPair('rsa-2048', 'attacker')
 */
export function pemKeyPair(kind: KeyKind, slot = 'default'): PemKeyPair {
  const id = `${kind}/${slot}`
  let pair = pairs.get(id)
  if (pair === undefined) {
    pair = generatePemKeyPair(kind)
    pairs.set(id, pair)
  }
  return pair
}

/**
 * A random HMAC secret of exactly `bytes` ASCII characters (one byte each in UTF-8).
 *
 * @example
 * randomHmacSecret(32).length // 32
 */
export function randomHmacSecret(bytes: number): string {
  return randomBytes(bytes).toString('base64url').slice(0, bytes)
}

const secrets = new Map<string, string>()

/**
 * The HMAC secret for an HS* algorithm, of the minimum length the algorithm
 * needs (its hash size), generated once per test file and slot.
 *
 * @example
 * hmacSecret('HS384').length // 48
 */
export function hmacSecret(alg: 'HS256' | 'HS384' | 'HS512', slot = 'default'): string {
  const id = `${alg}/${slot}`
  let secret = secrets.get(id)
  if (secret === undefined) {
    secret = randomHmacSecret(minHmacSecretBytes(alg))
    secrets.set(id, secret)
  }
  return secret
}

/**
 * The asymmetric key kind an algorithm signs with.
 *
 * @example
 * keyKindFor('ES384') // 'ec-p384'
 */
export function keyKindFor(alg: Exclude<JwtAlgorithm, 'HS256' | 'HS384' | 'HS512'>): KeyKind {
  switch (alg) {
    case 'ES256':
      return 'ec-p256'
    case 'ES384':
      return 'ec-p384'
    case 'EdDSA':
      return 'ed25519'
    default:
      return 'rsa-2048'
  }
}

/**
 * What `JWT_SECRET` holds for an algorithm: the HMAC secret, or the PEM private key.
 *
 * @example
 * secretFor('RS256').startsWith('-----BEGIN PRIVATE KEY-----') // true
 */
export function secretFor(alg: JwtAlgorithm, slot = 'default'): string {
  return isHmac(alg) ? hmacSecret(alg, slot) : pemKeyPair(keyKindFor(alg), slot).privateKey
}

/**
 * The PEM public key for an asymmetric algorithm (what `JWT_VERIFY_KEY` holds).
 *
 * @example
 * publicPemFor('EdDSA')
 */
export function publicPemFor(alg: Exclude<JwtAlgorithm, 'HS256' | 'HS384' | 'HS512'>, slot = 'default'): string {
  return pemKeyPair(keyKindFor(alg), slot).publicKey
}

/** An environment record, as `process.env` or a test hands it to the loaders. */
export type EnvRecord = Record<string, string | undefined>

/**
 * A `JWT_*` environment for an algorithm: `JWT_ALGORITHM` and `JWT_SECRET`
 * (the same material on every call in a file, so a signing and a verifying
 * config built from two calls match), plus `extra`, which wins.
 *
 * @example
 * loadApiKeyConfig(envFor('ES256', { JWT_KID: 'k1' }), 'sign')
 */
export function envFor(alg: JwtAlgorithm, extra: EnvRecord = {}): EnvRecord {
  return { JWT_ALGORITHM: alg, JWT_SECRET: secretFor(alg), ...extra }
}
