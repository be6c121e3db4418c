import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto'
import { isHmac, minHmacSecretBytes, type JwtAlgorithm } from './algorithms'
import { ConfigError } from '../runtime/errors'

const PEM_HEADER = /-----BEGIN [A-Z0-9 ]+-----/

/** Env files often carry PEMs on one line with literal `\n`; restore real newlines. */
function normalisePem(material: string): string {
  return material.includes('\\n') ? material.replace(/\\n/g, '\n') : material
}

function describeKeyFor(alg: JwtAlgorithm): string {
  switch (alg) {
    case 'RS256':
    case 'RS384':
    case 'RS512':
      return 'an RSA key of at least 2048 bits'
    case 'PS256':
      return 'an RSA key (not RSA-PSS-restricted) of at least 2048 bits'
    case 'ES256':
      return 'an EC key on curve P-256'
    case 'ES384':
      return 'an EC key on curve P-384'
    case 'EdDSA':
      return 'an Ed25519 key'
    default:
      return 'a shared secret'
  }
}

/**
 * Throw unless an asymmetric key object fits the algorithm: the key type, the
 * curve, and at least 2048 bits for RSA. Pinning this at start-up is what
 * makes "the same key material under another algorithm" impossible later.
 *
 * @example
 * assertKeyFitsAlgorithm('ES256', publicKey, 'JWT_VERIFY_KEY')
 */
export function assertKeyFitsAlgorithm(alg: JwtAlgorithm, key: KeyObject, variable: string): void {
  const type = key.asymmetricKeyType
  const details = key.asymmetricKeyDetails ?? {}
  let fits: boolean
  switch (alg) {
    case 'RS256':
    case 'RS384':
    case 'RS512':
      fits = type === 'rsa' && (details.modulusLength ?? 0) >= 2048
      break
    case 'PS256':
      // A plain RSA key: RSA-PSS-restricted keys cannot be signed with or exported to JWK by jose on Node 20.
      fits = type === 'rsa' && (details.modulusLength ?? 0) >= 2048
      break
    case 'ES256':
      fits = type === 'ec' && details.namedCurve === 'prime256v1'
      break
    case 'ES384':
      fits = type === 'ec' && details.namedCurve === 'secp384r1'
      break
    case 'EdDSA':
      fits = type === 'ed25519'
      break
    default:
      fits = false
  }
  if (!fits) throw new ConfigError(variable, `${describeKeyFor(alg)} for ${alg}`)
}

/**
 * Import the signing key: the HMAC secret for HS*, or the PEM private key for
 * asymmetric algorithms (the reference plugin's `JWT_SECRET` semantics).
 *
 * @example
 * const key = importSigningKey('HS256', process.env.JWT_SECRET!, 'JWT_SECRET')
 */
export function importSigningKey(alg: JwtAlgorithm, material: string, variable: string): KeyObject {
  if (isHmac(alg)) return importHmacSecret(alg, material, variable)
  let key: KeyObject
  try {
    key = createPrivateKey(normalisePem(material))
  } catch (cause) {
    throw new ConfigError(variable, `a PEM private key (PKCS#8 or PKCS#1) for ${alg}`, { cause: stripCause(cause) })
  }
  assertKeyFitsAlgorithm(alg, key, variable)
  return key
}

/**
 * Import a verification key: the HMAC secret for HS*, or a public key PEM for
 * asymmetric algorithms. A private key is refused: this is the setting that
 * lets the authorizer run without one, and it travels in the template.
 *
 * @example
 * const key = importVerifyingKey('RS256', publicPem, 'JWT_VERIFY_KEY')
 */
export function importVerifyingKey(alg: JwtAlgorithm, material: string, variable: string): KeyObject {
  if (isHmac(alg)) return importHmacSecret(alg, material, variable)
  if (/PRIVATE KEY-----/.test(material)) throw new ConfigError(variable, `a PEM public key for ${alg}, not a private key`)
  let key: KeyObject
  try {
    key = createPublicKey(normalisePem(material))
  } catch (cause) {
    throw new ConfigError(variable, `a PEM public key for ${alg}`, { cause: stripCause(cause) })
  }
  assertKeyFitsAlgorithm(alg, key, variable)
  return key
}

function importHmacSecret(alg: 'HS256' | 'HS384' | 'HS512', material: string, variable: string): KeyObject {
  // A PEM as an HMAC secret is the classic RS256 -> HS256 confusion; refuse it outright.
  if (PEM_HEADER.test(material)) {
    throw new ConfigError(variable, `a shared secret for ${alg}, not a PEM key (set JWT_ALGORITHM to the key's algorithm)`)
  }
  const bytes = Buffer.from(material, 'utf8')
  const min = minHmacSecretBytes(alg)
  if (bytes.length < min) throw new ConfigError(variable, `at least ${min} bytes long for ${alg}`)
  return createSecretKey(bytes)
}

/** Keep the OpenSSL reason but never anything that might quote the input. */
function stripCause(cause: unknown): Error {
  const code = (cause as { code?: unknown } | null)?.code
  return new Error(typeof code === 'string' ? code : 'key import failed')
}

/**
 * Whether two public keys are the same key.
 *
 * @example
 * samePublicKey(createPublicKey(privateKey), verifyKey)
 */
export function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  const der = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' })
  return der(a).equals(der(b))
}
