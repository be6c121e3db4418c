/**
 * Signing-key rotation through JWT_PREVIOUS_KEYS (a JWKS): keys signed by a
 * retired key keep verifying, by kid and pinned to their own alg, while only
 * the current key signs.
 */
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { loadApiKeyConfig, type KeyRole } from '../../src/lib/keys/api-key-config'
import { ConfigError } from '../../src/lib/runtime/errors'
import { issueApiKey } from '../../src/lib/keys/issue-api-key'
import { publicJwks } from '../../src/lib/keys/jwks'
import { samePublicKey } from '../../src/lib/keys/key-material'
import { verifyApiKey } from '../../src/lib/keys/verify-api-key'
import { signRawJws } from '../support/jws'
import { hmacSecret, pemKeyPair, randomHmacSecret, type EnvRecord } from '../support/keys'

const NOW = 1_700_000_000
const OWNER = { userId: 'auth0|alice', companyId: 'acme' } as const

const oldPair = pemKeyPair('ec-p256', 'old')
const newPair = pemKeyPair('ec-p256', 'new')

/** A JWK with kid and alg, from a PEM (public, or private when asked). */
function jwkOf(pem: string, kid: string, alg: string, kind: 'public' | 'private' = 'public'): Record<string, unknown> {
  const key: KeyObject = kind === 'public' ? createPublicKey(pem) : createPrivateKey(pem)
  return { ...key.export({ format: 'jwk' }), kid, alg }
}

const previous = (...keys: Array<Record<string, unknown>>): string => JSON.stringify({ keys })

/** The deployment before the rotation: ES256 with kid k1. */
const beforeRotation: EnvRecord = { JWT_ALGORITHM: 'ES256', JWT_SECRET: oldPair.privateKey, JWT_KID: 'k1' }

/** After: the new key signs as k2, the old public key stays as k1. */
function afterRotation(extra: EnvRecord = {}): EnvRecord {
  return {
    JWT_ALGORITHM: 'ES256',
    JWT_SECRET: newPair.privateKey,
    JWT_KID: 'k2',
    JWT_PREVIOUS_KEYS: previous(jwkOf(oldPair.publicKey, 'k1', 'ES256')),
    ...extra
  }
}

function configErrorOf(env: EnvRecord, role: KeyRole = 'verify'): ConfigError {
  let error: unknown
  try {
    loadApiKeyConfig(env, role)
  } catch (caught) {
    error = caught
  }
  expect(error).toBeInstanceOf(ConfigError)
  return error as ConfigError
}

describe('rotation with JWT_PREVIOUS_KEYS (ES256)', () => {
  it('still accepts a key signed by the previous key, and names its kid', async () => {
    // Prepare
    const old = await issueApiKey(loadApiKeyConfig(beforeRotation, 'sign'), OWNER, { nowSeconds: NOW })
    const config = loadApiKeyConfig(afterRotation(), 'verify')
    // Act
    const result = verifyApiKey(old.apikey, config, NOW + 60)
    // Assess
    expect(result).toEqual({ valid: true, identity: expect.objectContaining({ orgId: 'acme', keyId: old.keyId, kid: 'k1' }) })
  })

  it('accepts old and new keys alike in the issuer (role sign) config', async () => {
    // Prepare
    const old = await issueApiKey(loadApiKeyConfig(beforeRotation, 'sign'), OWNER, { nowSeconds: NOW })
    const config = loadApiKeyConfig(afterRotation(), 'sign')
    const fresh = await issueApiKey(config, OWNER, { nowSeconds: NOW })
    // Act
    const results = [verifyApiKey(old.apikey, config, NOW + 1), verifyApiKey(fresh.apikey, config, NOW + 1)]
    // Assess
    expect(results.map((r) => (r.valid ? r.identity.kid : r.reason))).toEqual(['k1', 'k2'])
  })

  it('signs new keys with the current key only, under kid k2', async () => {
    // Prepare
    const config = loadApiKeyConfig(afterRotation(), 'sign')
    // Act
    const issued = await issueApiKey(config, OWNER, { nowSeconds: NOW })
    // Assess
    expect(issued.kid).toBe('k2')
    expect(JSON.parse(Buffer.from(issued.apikey.split('.')[0] ?? '', 'base64url').toString('utf8'))).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'k2' })
    expect(config.signingKey).toBeDefined()
    const signingPublic = createPublicKey(config.signingKey as KeyObject)
    expect(samePublicKey(signingPublic, createPublicKey(newPair.publicKey))).toBe(true)
    expect(samePublicKey(signingPublic, createPublicKey(oldPair.publicKey))).toBe(false)
    expect(config.verifyingKeys.map((k) => [k.kid, k.alg])).toEqual([
      ['k2', 'ES256'],
      ['k1', 'ES256']
    ])
    // And the authorizer after the rotation accepts what the issuer now signs.
    expect(verifyApiKey(issued.apikey, loadApiKeyConfig(afterRotation(), 'verify'), NOW + 1).valid).toBe(true)
  })

  it('publishes both public keys in the JWKS, without private members', async () => {
    // Prepare
    const config = loadApiKeyConfig(afterRotation(), 'publish')
    // Act
    const jwks = await publicJwks(config.verifyingKeys)
    // Assess
    expect(jwks.keys.map((k) => [k.kid, k.alg, k.use, k.kty, k.crv])).toEqual([
      ['k2', 'ES256', 'sig', 'EC', 'P-256'],
      ['k1', 'ES256', 'sig', 'EC', 'P-256']
    ])
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true)
    const k1 = jwks.keys.find((k) => k.kid === 'k1')
    expect({ x: k1?.x, y: k1?.y }).toEqual({ x: jwkOf(oldPair.publicKey, 'k1', 'ES256').x, y: jwkOf(oldPair.publicKey, 'k1', 'ES256').y })
  })

  it('denies a key that names kid k1 but is signed by the new key', async () => {
    // Prepare
    const config = loadApiKeyConfig(afterRotation(), 'verify')
    const token = await new SignJWT({ sub: 'auth0|alice', org_id: 'acme', iat: NOW, exp: NOW + 3600 })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'k1' })
      .sign(createPrivateKey(newPair.privateKey))
    // Act
    const result = verifyApiKey(token, config, NOW + 1)
    // Assess
    expect(result).toEqual({ valid: false, reason: 'BAD_SIGNATURE' })
  })

  it("denies a key that names kid k1 with another alg than k1's pinned one (HS256 keyed with the public key)", () => {
    // Prepare: the classic confusion, HMAC keyed with the published public key
    const config = loadApiKeyConfig(afterRotation(), 'verify')
    const payload = { sub: 'auth0|alice', org_id: 'acme', iat: NOW, exp: NOW + 3600 }
    const confused = signRawJws('HS256', oldPair.publicKey, { alg: 'HS256', typ: 'JWT', kid: 'k1' }, payload)
    const es384 = signRawJws('ES384', pemKeyPair('ec-p384').privateKey, { alg: 'ES384', typ: 'JWT', kid: 'k1' }, payload)
    // Act
    const results = [verifyApiKey(confused, config, NOW + 1), verifyApiKey(es384, config, NOW + 1)]
    // Assess
    expect(results).toEqual([
      { valid: false, reason: 'ALG_MISMATCH' },
      { valid: false, reason: 'ALG_MISMATCH' }
    ])
  })

  it('denies a kid that is neither current nor previous', async () => {
    const config = loadApiKeyConfig(afterRotation(), 'verify')
    const token = await new SignJWT({ org_id: 'acme', exp: NOW + 3600 })
      .setProtectedHeader({ alg: 'ES256', kid: 'k0' })
      .sign(createPrivateKey(oldPair.privateKey))
    expect(verifyApiKey(token, config, NOW + 1)).toEqual({ valid: false, reason: 'UNKNOWN_KID' })
  })

  it('keeps only the public half of a private JWK given as a previous key', () => {
    // Prepare
    const ecPrivate = jwkOf(oldPair.privateKey, 'k1', 'ES256', 'private')
    const rsaPrivate = jwkOf(pemKeyPair('rsa-2048', 'old').privateKey, 'r1', 'RS256', 'private')
    expect(ecPrivate.d).toBeDefined()
    expect(rsaPrivate.p).toBeDefined()
    // Act
    const config = loadApiKeyConfig(afterRotation({ JWT_PREVIOUS_KEYS: previous(ecPrivate, rsaPrivate) }), 'verify')
    // Assess
    expect(config.verifyingKeys.map((k) => [k.kid, k.key.type])).toEqual([
      ['k2', 'public'],
      ['k1', 'public'],
      ['r1', 'public']
    ])
  })
})

describe('rotation with JWT_PREVIOUS_KEYS (HS256, oct JWK)', () => {
  const oldSecret = hmacSecret('HS256', 'old')
  const hsBefore: EnvRecord = { JWT_ALGORITHM: 'HS256', JWT_SECRET: oldSecret, JWT_KID: 'k1' }
  const octK1 = { kty: 'oct', k: Buffer.from(oldSecret).toString('base64url'), kid: 'k1', alg: 'HS256' }
  const hsAfter: EnvRecord = { JWT_ALGORITHM: 'HS256', JWT_SECRET: hmacSecret('HS256', 'new'), JWT_KID: 'k2', JWT_PREVIOUS_KEYS: previous(octK1) }

  it('verifies a key signed with the previous secret (role verify)', async () => {
    // Prepare
    const old = await issueApiKey(loadApiKeyConfig(hsBefore, 'sign'), OWNER, { nowSeconds: NOW })
    const config = loadApiKeyConfig(hsAfter, 'verify')
    // Act
    const result = verifyApiKey(old.apikey, config, NOW + 1)
    // Assess
    expect(result.valid && result.identity.kid).toBe('k1')
    expect(config.verifyingKeys.map((k) => k.kid)).toEqual(['k2', 'k1'])
    expect(config.verifyingKeys[1]?.key.equals(createSecretKey(Buffer.from(oldSecret)))).toBe(true)
  })

  it('skips HMAC previous keys for the JWKS endpoint (role publish)', async () => {
    // Prepare: an ES256 deployment that once signed with HS256
    const env = afterRotation({ JWT_PREVIOUS_KEYS: previous(jwkOf(oldPair.publicKey, 'k1', 'ES256'), { ...octK1, kid: 'h0' }) })
    // Act
    const publishing = loadApiKeyConfig(env, 'publish')
    const verifying = loadApiKeyConfig(env, 'verify')
    // Assess
    expect(publishing.verifyingKeys.map((k) => k.kid)).toEqual(['k2', 'k1'])
    expect(verifying.verifyingKeys.map((k) => [k.kid, k.alg])).toEqual([
      ['k2', 'ES256'],
      ['k1', 'ES256'],
      ['h0', 'HS256']
    ])
    expect((await publicJwks(publishing.verifyingKeys)).keys.map((k) => k.kid)).toEqual(['k2', 'k1'])
  })

  it('publishes nothing for an HS256 deployment with an HS256 previous key', async () => {
    const config = loadApiKeyConfig(hsAfter, 'publish')
    expect(config.verifyingKeys).toEqual([])
    expect(await publicJwks(config.verifyingKeys)).toEqual({ keys: [] })
  })
})

describe('JWT_PREVIOUS_KEYS: refused at load with a ConfigError', () => {
  const k1 = jwkOf(oldPair.publicKey, 'k1', 'ES256')
  const { kid: _kid, ...withoutKid } = k1
  const shortOct = { kty: 'oct', k: Buffer.from(randomHmacSecret(31)).toString('base64url'), kid: 'h1', alg: 'HS256' }

  it.each([
    ['invalid JSON', '{"keys":[', 'verify'],
    ['not a JWKS', '[]', 'verify'],
    ['a key without kid', previous(withoutKid), 'verify'],
    ['an empty kid', previous({ ...k1, kid: '' }), 'verify'],
    ['a duplicate kid', previous(k1, { ...jwkOf(pemKeyPair('ec-p256', 'older').publicKey, 'k1', 'ES256') }), 'verify'],
    ['a kid equal to JWT_KID', previous({ ...k1, kid: 'k2' }), 'verify'],
    ['an unknown alg', previous({ ...k1, alg: 'ES512' }), 'verify'],
    ['alg none', previous({ ...k1, alg: 'none' }), 'verify'],
    ['a key without alg', previous({ ...k1, alg: undefined }), 'verify'],
    ['an oct key shorter than HS256 needs', previous(shortOct), 'verify'],
    ['an oct key without k', previous({ kty: 'oct', kid: 'h1', alg: 'HS256' }), 'publish'],
    ['an EC key under RS256', previous({ ...k1, alg: 'RS256' }), 'verify'],
    ['an EC key under ES384 (wrong curve)', previous({ ...k1, alg: 'ES384' }), 'verify'],
    ['an HS256 alg on an EC key', previous({ ...k1, alg: 'HS256' }), 'verify'],
    ['a broken public JWK', previous({ ...k1, x: 'AAAA' }), 'verify'],
    ['more than ten keys', previous(...Array.from({ length: 11 }, (_, i) => ({ ...k1, kid: `old-${i}` }))), 'verify']
  ] as const)('%s', (_case, value, role) => {
    // Act
    const error = configErrorOf(afterRotation({ JWT_PREVIOUS_KEYS: value }), role)
    // Assess
    expect(error.variable).toBe('JWT_PREVIOUS_KEYS')
    expect(error.code).toBe('ERR_CONFIG')
  })

  it('never echoes the secret of an oct key it refuses', () => {
    const error = configErrorOf(afterRotation({ JWT_PREVIOUS_KEYS: previous(shortOct) }))
    expect(error.message).not.toContain(shortOct.k)
  })
})
