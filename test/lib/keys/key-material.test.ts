/**
 * Key material checks at cold start: which key fits which algorithm, PEM and
 * HMAC-secret import, and what a refusal may say (never the material).
 */
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { JWT_ALGORITHMS, isHmac, type JwtAlgorithm } from '../../../src/lib/keys/algorithms'
import { assertKeyFitsAlgorithm, importSigningKey, importVerifyingKey, samePublicKey } from '../../../src/lib/keys/key-material'
import { ConfigError } from '../../../src/lib/runtime/errors'
import { hmacSecret, keyKindFor, pemKeyPair, randomHmacSecret, type KeyKind } from '../../support/keys'

type AsymmetricAlgorithm = Exclude<JwtAlgorithm, 'HS256' | 'HS384' | 'HS512'>
type HmacAlgorithm = Extract<JwtAlgorithm, 'HS256' | 'HS384' | 'HS512'>

const KINDS: readonly KeyKind[] = ['rsa-2048', 'rsa-1024', 'rsa-pss-2048', 'ec-p256', 'ec-p384', 'ed25519']
const ASYMMETRIC = JWT_ALGORITHMS.filter((alg): alg is AsymmetricAlgorithm => !isHmac(alg))
const HMAC = JWT_ALGORITHMS.filter((alg): alg is HmacAlgorithm => isHmac(alg))

/** The only key kinds each algorithm accepts. */
const FITS: Record<JwtAlgorithm, readonly KeyKind[]> = {
  HS256: [],
  HS384: [],
  HS512: [],
  RS256: ['rsa-2048'],
  RS384: ['rsa-2048'],
  RS512: ['rsa-2048'],
  PS256: ['rsa-2048'],
  ES256: ['ec-p256'],
  ES384: ['ec-p384'],
  EdDSA: ['ed25519']
}

/** What the refusal says each algorithm needs. */
const NEEDS: Record<JwtAlgorithm, string> = {
  HS256: 'a shared secret',
  HS384: 'a shared secret',
  HS512: 'a shared secret',
  RS256: 'an RSA key of at least 2048 bits',
  RS384: 'an RSA key of at least 2048 bits',
  RS512: 'an RSA key of at least 2048 bits',
  PS256: 'an RSA key (not RSA-PSS-restricted) of at least 2048 bits',
  ES256: 'an EC key on curve P-256',
  ES384: 'an EC key on curve P-384',
  EdDSA: 'an Ed25519 key'
}

const MIN_BYTES: Record<HmacAlgorithm, number> = { HS256: 32, HS384: 48, HS512: 64 }

/** Run `fn` and return what it threw as a ConfigError (fails the test if it threw nothing or something else). */
function configErrorOf(fn: () => unknown): ConfigError {
  let thrown: unknown
  try {
    fn()
  } catch (error) {
    thrown = error
  }
  expect(thrown).toBeInstanceOf(ConfigError)
  return thrown as ConfigError
}

/** Everything a ConfigError could show anyone: message, cause and stack, as util.inspect renders them. */
const everythingShown = (error: ConfigError): string => `${error.message}\n${inspect(error, { depth: 10 })}\n${JSON.stringify(error)}`

/** Expect nothing `error` shows to hold any line of `material` (PEM armour lines aside), literal \n or not. */
function expectNotQuoted(error: ConfigError, material: string): void {
  const shown = everythingShown(error)
  const lines = material
    .replace(/\\n/g, '\n')
    .split('\n')
    .filter((line) => line.length >= 8 && !line.startsWith('-----'))
  expect(lines.length).toBeGreaterThan(0)
  for (const line of lines) expect(shown).not.toContain(line)
}

const oneLine = (pem: string): string => pem.trim().replace(/\n/g, '\\n')
const publicKeyOf = (kind: KeyKind, slot?: string): KeyObject => createPublicKey(pemKeyPair(kind, slot).publicKey)
const privateKeyOf = (kind: KeyKind, slot?: string): KeyObject => createPrivateKey(pemKeyPair(kind, slot).privateKey)

describe('assertKeyFitsAlgorithm', () => {
  const cases = JWT_ALGORITHMS.flatMap((alg) => KINDS.map((kind) => [alg, kind, FITS[alg].includes(kind)] as const))

  it.each(cases)('%s with a %s key: fits = %s (private and public key alike)', (alg, kind, fits) => {
    for (const key of [privateKeyOf(kind), publicKeyOf(kind)]) {
      if (fits) {
        expect(() => assertKeyFitsAlgorithm(alg, key, 'JWT_VERIFY_KEY')).not.toThrow()
      } else {
        const error = configErrorOf(() => assertKeyFitsAlgorithm(alg, key, 'JWT_VERIFY_KEY'))
        expect(error).toMatchObject({ code: 'ERR_CONFIG', statusCode: 500, expose: false, variable: 'JWT_VERIFY_KEY' })
        expect(error.message).toBe(`Invalid configuration: JWT_VERIFY_KEY must be ${NEEDS[alg]} for ${alg}`)
      }
    }
  })

  it.each(JWT_ALGORITHMS)('%s: refuses a secret key object, naming the variable given', (alg) => {
    const error = configErrorOf(() => assertKeyFitsAlgorithm(alg, createSecretKey(Buffer.from(hmacSecret('HS512'))), 'JWT_PREVIOUS_KEYS'))
    expect(error.variable).toBe('JWT_PREVIOUS_KEYS')
    expect(error.message).toBe(`Invalid configuration: JWT_PREVIOUS_KEYS must be ${NEEDS[alg]} for ${alg}`)
  })
})

describe('importSigningKey: HMAC secrets', () => {
  it.each(HMAC)('%s: takes a secret of exactly the minimum length, byte for byte', (alg) => {
    const secret = randomHmacSecret(MIN_BYTES[alg])
    const key = importSigningKey(alg, secret, 'JWT_SECRET')
    expect(key.type).toBe('secret')
    expect(key.export().equals(Buffer.from(secret))).toBe(true)
  })

  it.each(HMAC)('%s: refuses a secret one byte short, without quoting it', (alg) => {
    const secret = randomHmacSecret(MIN_BYTES[alg] - 1)
    const error = configErrorOf(() => importSigningKey(alg, secret, 'JWT_SECRET'))
    expect(error.variable).toBe('JWT_SECRET')
    expect(error.message).toBe(`Invalid configuration: JWT_SECRET must be at least ${MIN_BYTES[alg]} bytes long for ${alg}`)
    expectNotQuoted(error, secret)
  })

  it('counts UTF-8 bytes, not characters', () => {
    expect(importSigningKey('HS256', 'é'.repeat(16), 'JWT_SECRET').export()).toHaveLength(32)
    expect(configErrorOf(() => importSigningKey('HS256', 'é'.repeat(15) + 'a', 'JWT_SECRET')).message).toContain('at least 32 bytes')
  })

  it('keeps surrounding whitespace: it is part of the secret', () => {
    const secret = ` ${randomHmacSecret(32)}\n`
    expect(importSigningKey('HS256', secret, 'JWT_SECRET').export().toString('utf8')).toBe(secret)
  })

  it.each([
    ['a private key', () => pemKeyPair('rsa-2048').privateKey],
    ['a public key', () => pemKeyPair('ec-p256').publicKey],
    ['a PEM inside a longer value', () => `${randomHmacSecret(64)}\n${pemKeyPair('ed25519').publicKey}`]
  ])('refuses %s as the secret (the RS256 -> HS256 confusion), for signing and for verifying', (_name, makeMaterial) => {
    const material = makeMaterial()
    for (const importKey of [importSigningKey, importVerifyingKey]) {
      const error = configErrorOf(() => importKey('HS256', material, 'JWT_SECRET'))
      expect(error.message).toBe(
        "Invalid configuration: JWT_SECRET must be a shared secret for HS256, not a PEM key (set JWT_ALGORITHM to the key's algorithm)"
      )
      expectNotQuoted(error, material)
    }
  })
})

describe('importSigningKey: PEM private keys', () => {
  it.each(ASYMMETRIC)('%s: imports its PEM private key', (alg) => {
    const pair = pemKeyPair(keyKindFor(alg))
    const key = importSigningKey(alg, pair.privateKey, 'JWT_SECRET')
    expect(key.type).toBe('private')
    expect(samePublicKey(createPublicKey(key), createPublicKey(pair.publicKey))).toBe(true)
  })

  it.each(ASYMMETRIC)('%s: reads a PEM written on one line with literal \\n, as env files carry it', (alg) => {
    const pair = pemKeyPair(keyKindFor(alg))
    const key = importSigningKey(alg, oneLine(pair.privateKey), 'JWT_SECRET')
    expect(samePublicKey(createPublicKey(key), createPublicKey(pair.publicKey))).toBe(true)
  })

  it('takes a PKCS#1 RSA private key as well as PKCS#8', () => {
    const pkcs1 = privateKeyOf('rsa-2048').export({ type: 'pkcs1', format: 'pem' }).toString()
    expect(pkcs1).toContain('-----BEGIN RSA PRIVATE KEY-----')
    expect(samePublicKey(createPublicKey(importSigningKey('RS256', pkcs1, 'JWT_SECRET')), publicKeyOf('rsa-2048'))).toBe(true)
  })

  it.each([
    ['ES256', 'rsa-2048'],
    ['ES256', 'ec-p384'],
    ['ES384', 'ec-p256'],
    ['RS256', 'rsa-1024'],
    ['RS256', 'ec-p256'],
    ['PS256', 'rsa-pss-2048'],
    ['EdDSA', 'ec-p256']
  ] as const)('%s: refuses a %s private key, saying what it needs', (alg, kind) => {
    const error = configErrorOf(() => importSigningKey(alg, pemKeyPair(kind).privateKey, 'JWT_SECRET'))
    expect(error.variable).toBe('JWT_SECRET')
    expect(error.message).toBe(`Invalid configuration: JWT_SECRET must be ${NEEDS[alg]} for ${alg}`)
  })

  it.each([
    ['text that is no PEM', 'not-a-key-MARKER-0123456789abcdef'],
    ['a PEM with a damaged body', '-----BEGIN PRIVATE KEY-----\nMARKER-0123456789abcdef!!\n-----END PRIVATE KEY-----\n'],
    ['a public key where the private key belongs', pemKeyPair('rsa-2048').publicKey],
    ['an empty value', '']
  ])('refuses %s with a ConfigError whose message and cause never hold the input', (_name, material) => {
    const error = configErrorOf(() => importSigningKey('RS256', material, 'JWT_SECRET'))
    expect(error.message).toBe('Invalid configuration: JWT_SECRET must be a PEM private key (PKCS#8 or PKCS#1) for RS256')
    expect(error.cause).toBeInstanceOf(Error)
    expect((error.cause as Error).message).toMatch(/^(ERR_[A-Z0-9_]+|key import failed)$/)
    expect((error.cause as Error).cause).toBeUndefined()
    if (material !== '') expectNotQuoted(error, material)
  })
})

describe('importVerifyingKey', () => {
  it.each(ASYMMETRIC)('%s: imports its PEM public key', (alg) => {
    const pair = pemKeyPair(keyKindFor(alg))
    const key = importVerifyingKey(alg, pair.publicKey, 'JWT_VERIFY_KEY')
    expect(key.type).toBe('public')
    expect(samePublicKey(key, createPublicKey(pair.privateKey))).toBe(true)
  })

  it.each(ASYMMETRIC)('%s: reads a public key written on one line with literal \\n', (alg) => {
    const pair = pemKeyPair(keyKindFor(alg))
    expect(samePublicKey(importVerifyingKey(alg, oneLine(pair.publicKey), 'JWT_VERIFY_KEY'), createPublicKey(pair.publicKey))).toBe(true)
  })

  it.each([
    ['a PKCS#8 private key', () => pemKeyPair('rsa-2048').privateKey],
    ['a PKCS#1 private key', () => privateKeyOf('rsa-2048').export({ type: 'pkcs1', format: 'pem' }).toString()],
    ['a private key on one line', () => oneLine(pemKeyPair('rsa-2048').privateKey)]
  ])('refuses %s, though its public half could be derived, without quoting it', (_name, makeMaterial) => {
    const material = makeMaterial()
    const error = configErrorOf(() => importVerifyingKey('RS256', material, 'JWT_VERIFY_KEY'))
    expect(error.variable).toBe('JWT_VERIFY_KEY')
    expect(error.message).toBe('Invalid configuration: JWT_VERIFY_KEY must be a PEM public key for RS256, not a private key')
    expect(error.cause).toBeUndefined()
    expectNotQuoted(error, material)
  })

  it.each([
    ['RS256', 'rsa-1024'],
    ['ES256', 'ed25519'],
    ['ES384', 'ec-p256'],
    ['EdDSA', 'rsa-2048']
  ] as const)('%s: refuses a %s public key, saying what it needs', (alg, kind) => {
    const error = configErrorOf(() => importVerifyingKey(alg, pemKeyPair(kind).publicKey, 'JWT_VERIFY_KEY'))
    expect(error.message).toBe(`Invalid configuration: JWT_VERIFY_KEY must be ${NEEDS[alg]} for ${alg}`)
  })

  it.each([
    ['text that is no PEM', 'not-a-key-MARKER-0123456789abcdef'],
    ['a PEM with a damaged body', '-----BEGIN PUBLIC KEY-----\nMARKER-0123456789abcdef!!\n-----END PUBLIC KEY-----\n']
  ])('refuses %s with a ConfigError whose message and cause never hold the input', (_name, material) => {
    const error = configErrorOf(() => importVerifyingKey('ES256', material, 'JWT_VERIFY_KEY'))
    expect(error.message).toBe('Invalid configuration: JWT_VERIFY_KEY must be a PEM public key for ES256')
    expect((error.cause as Error).message).toMatch(/^(ERR_[A-Z0-9_]+|key import failed)$/)
    expectNotQuoted(error, material)
  })

  it.each(HMAC)('%s: takes the shared secret, and refuses a short one', (alg) => {
    const secret = hmacSecret(alg)
    expect(importVerifyingKey(alg, secret, 'JWT_SECRET').export().equals(Buffer.from(secret))).toBe(true)
    expect(configErrorOf(() => importVerifyingKey(alg, secret.slice(1), 'JWT_SECRET')).message).toBe(
      `Invalid configuration: JWT_SECRET must be at least ${MIN_BYTES[alg]} bytes long for ${alg}`
    )
  })
})

describe('samePublicKey', () => {
  it.each(KINDS)('%s: true for the public half of the private key and the published public key', (kind) => {
    expect(samePublicKey(createPublicKey(pemKeyPair(kind).privateKey), publicKeyOf(kind))).toBe(true)
  })

  it.each(KINDS)('%s: false for another key of the same kind', (kind) => {
    expect(samePublicKey(publicKeyOf(kind), publicKeyOf(kind, 'other'))).toBe(false)
  })

  it('false for keys of different kinds', () => {
    expect(samePublicKey(publicKeyOf('rsa-2048'), publicKeyOf('rsa-pss-2048'))).toBe(false)
    expect(samePublicKey(publicKeyOf('ec-p256'), publicKeyOf('ec-p384'))).toBe(false)
    expect(samePublicKey(publicKeyOf('ed25519'), publicKeyOf('ec-p256'))).toBe(false)
  })
})
