import { createPrivateKey, createPublicKey } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { JWT_ALGORITHMS, isHmac, type JwtAlgorithm } from '../../../src/lib/keys/algorithms'
import { loadApiKeyConfig, type KeyRole } from '../../../src/lib/keys/api-key-config'
import { ConfigError } from '../../../src/lib/runtime/errors'
import { envFor, hmacSecret, pemKeyPair, publicPemFor, randomHmacSecret, secretFor, type EnvRecord } from '../../support/keys'

const ROLES: readonly KeyRole[] = ['sign', 'verify', 'publish']
const ASYMMETRIC = JWT_ALGORITHMS.filter((alg): alg is Exclude<JwtAlgorithm, 'HS256' | 'HS384' | 'HS512'> => !isHmac(alg))

/**
 * Run `load`, expect a ConfigError naming `variable`, and check that no
 * secret (nor a recognisable piece of it) appears anywhere in the error.
 */
function expectConfigError(load: () => unknown, variable: string, secrets: readonly string[] = []): ConfigError {
  let caught: unknown
  try {
    load()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(ConfigError)
  const error = caught as ConfigError
  expect(error.variable).toBe(variable)
  expect(error.code).toBe('ERR_CONFIG')
  expect(error.statusCode).toBe(500)
  expect(error.expose).toBe(false)
  const everything = [error.message, String(error), JSON.stringify(error), String(error.stack), String(error.cause)].join('\n')
  for (const secret of secrets) {
    expect(everything).not.toContain(secret)
    // A PEM body line is the part that identifies the key.
    const bodyLine = secret.split('\n').find((line) => line.length > 40 && !line.startsWith('-----'))
    if (bodyLine !== undefined) expect(everything).not.toContain(bodyLine)
  }
  return error
}

describe('loadApiKeyConfig: every algorithm, every role', () => {
  const cases = JWT_ALGORITHMS.flatMap((alg) => ROLES.map((role) => [alg, role] as const))

  it.each(cases)('%s loads for role %s', (alg, role) => {
    // Act
    const config = loadApiKeyConfig(envFor(alg, { JWT_KID: 'k-2024' }), role)
    // Assess
    expect(config.algorithm).toBe(alg)
    expect(config.kid).toBe('k-2024')
    if (role === 'sign') expect(config.signingKey?.type).toBe(isHmac(alg) ? 'secret' : 'private')
    else expect(config.signingKey).toBeUndefined()

    const publishesNothing = role === 'publish' && isHmac(alg)
    expect(config.verifyingKeys).toHaveLength(publishesNothing ? 0 : 1)
    if (!publishesNothing) {
      const [key] = config.verifyingKeys
      expect(key).toMatchObject({ alg, kid: 'k-2024' })
      expect(key?.key.type).toBe(isHmac(alg) ? 'secret' : 'public')
    }
  })

  it.each(ASYMMETRIC)('%s derives the verifying key from JWT_SECRET (the public half)', (alg) => {
    // Act
    const config = loadApiKeyConfig(envFor(alg), 'verify')
    // Assess
    const expected = createPublicKey(publicPemFor(alg)).export({ type: 'spki', format: 'der' })
    expect(config.verifyingKeys[0]?.key.export({ type: 'spki', format: 'der' })).toEqual(expected)
  })

  it.each(ASYMMETRIC)('%s verifies with only JWT_VERIFY_KEY (no JWT_SECRET) for roles verify and publish', (alg) => {
    // Prepare
    const env = { JWT_ALGORITHM: alg, JWT_VERIFY_KEY: publicPemFor(alg) }
    // Act
    const verify = loadApiKeyConfig(env, 'verify')
    const publish = loadApiKeyConfig(env, 'publish')
    // Assess
    expect(verify.verifyingKeys).toHaveLength(1)
    expect(verify.signingKey).toBeUndefined()
    expect(publish.verifyingKeys).toHaveLength(1)
  })

  it('still needs JWT_SECRET to sign when only JWT_VERIFY_KEY is set', () => {
    expectConfigError(() => loadApiKeyConfig({ JWT_ALGORITHM: 'RS256', JWT_VERIFY_KEY: publicPemFor('RS256') }, 'sign'), 'JWT_SECRET')
  })

  it('accepts JWT_SECRET and a matching JWT_VERIFY_KEY together', () => {
    const config = loadApiKeyConfig(envFor('ES256', { JWT_VERIFY_KEY: publicPemFor('ES256') }), 'sign')
    expect(config.verifyingKeys).toHaveLength(1)
  })

  it.each([['HS256'], ['HS384'], ['HS512']] as const)('%s publish needs no secret at all', (alg) => {
    const config = loadApiKeyConfig({ JWT_ALGORITHM: alg }, 'publish')
    expect(config.verifyingKeys).toEqual([])
  })
})

describe('loadApiKeyConfig: defaults and names', () => {
  it('defaults the claim names, lifetime and clock tolerance', () => {
    // Act
    const config = loadApiKeyConfig(envFor('HS256'), 'verify')
    // Assess
    expect(config).toMatchObject({
      kid: undefined,
      userIdField: 'sub',
      companyIdField: 'org_id',
      expiresInSeconds: 2_592_000,
      issuer: undefined,
      audience: undefined,
      clockToleranceSeconds: 30
    })
  })

  it('reads every setting', () => {
    // Prepare
    const env = envFor('HS256', {
      JWT_USER_ID_FIELD: 'user_id',
      JWT_COMPANY_ID_FIELD: 'https://portal.example/company',
      JWT_EXPIRES_IN: '12h',
      JWT_ISSUER: 'https://keys.example/',
      JWT_AUDIENCE: 'api.example',
      JWT_CLOCK_TOLERANCE: '5'
    })
    // Act
    const config = loadApiKeyConfig(env, 'sign')
    // Assess
    expect(config).toMatchObject({
      userIdField: 'user_id',
      companyIdField: 'https://portal.example/company',
      expiresInSeconds: 43_200,
      issuer: 'https://keys.example/',
      audience: 'api.example',
      clockToleranceSeconds: 5
    })
  })

  it('reads the reference plugin PLUGIN_JWT_* names', () => {
    // Prepare
    const env: EnvRecord = {
      PLUGIN_JWT_ALGORITHM: 'HS384',
      PLUGIN_JWT_SECRET: hmacSecret('HS384'),
      PLUGIN_JWT_USER_ID_FIELD: 'uid',
      PLUGIN_JWT_COMPANY_ID_FIELD: 'company',
      PLUGIN_JWT_EXPIRES_IN: '7d',
      PLUGIN_JWT_KID: 'plugin-kid'
    }
    // Act
    const config = loadApiKeyConfig(env, 'sign')
    // Assess
    expect(config).toMatchObject({ algorithm: 'HS384', kid: 'plugin-kid', userIdField: 'uid', companyIdField: 'company', expiresInSeconds: 604_800 })
  })

  it('prefers JWT_* over PLUGIN_JWT_* when both are set', () => {
    const env = envFor('HS256', { PLUGIN_JWT_ALGORITHM: 'RS256', JWT_EXPIRES_IN: '1h', PLUGIN_JWT_EXPIRES_IN: '2h' })
    const config = loadApiKeyConfig(env, 'verify')
    expect(config.algorithm).toBe('HS256')
    expect(config.expiresInSeconds).toBe(3600)
  })

  it('treats empty variables as missing and falls back to defaults', () => {
    const config = loadApiKeyConfig(envFor('HS256', { JWT_KID: '', JWT_ISSUER: ' ', JWT_EXPIRES_IN: '', JWT_USER_ID_FIELD: '' }), 'verify')
    expect(config).toMatchObject({ kid: undefined, issuer: undefined, expiresInSeconds: 2_592_000, userIdField: 'sub' })
  })

  it('returns a frozen config with frozen keys', () => {
    // Act
    const config = loadApiKeyConfig(envFor('ES256'), 'sign')
    // Assess
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.verifyingKeys)).toBe(true)
    expect(Object.isFrozen(config.verifyingKeys[0])).toBe(true)
    expect(() => {
      ;(config as { issuer: string | undefined }).issuer = 'https://evil.example/'
    }).toThrow(TypeError)
  })

  it('accepts PEMs written on one line with literal \\n', () => {
    // Prepare
    const { privateKey, publicKey } = pemKeyPair('ec-p256')
    const env = { JWT_ALGORITHM: 'ES256', JWT_SECRET: privateKey.replace(/\n/g, '\\n'), JWT_VERIFY_KEY: publicKey.replace(/\n/g, '\\n') }
    expect(env.JWT_SECRET).not.toContain('\n')
    // Act
    const config = loadApiKeyConfig(env, 'sign')
    // Assess
    expect(config.signingKey?.asymmetricKeyType).toBe('ec')
    expect(config.verifyingKeys).toHaveLength(1)
  })

  it('accepts a PKCS#1 RSA private key (BEGIN RSA PRIVATE KEY)', () => {
    // Prepare
    const pkcs1 = createPrivateKey(secretFor('RS256')).export({ type: 'pkcs1', format: 'pem' }).toString()
    expect(pkcs1).toContain('BEGIN RSA PRIVATE KEY')
    // Act
    const config = loadApiKeyConfig({ JWT_ALGORITHM: 'RS256', JWT_SECRET: pkcs1, JWT_VERIFY_KEY: publicPemFor('RS256') }, 'sign')
    // Assess
    expect(config.signingKey?.asymmetricKeyType).toBe('rsa')
  })
})

describe('loadApiKeyConfig: refuses a bad deployment with a ConfigError naming the variable', () => {
  it('refuses a missing JWT_ALGORITHM', () => {
    expectConfigError(() => loadApiKeyConfig({ JWT_SECRET: hmacSecret('HS256') }, 'verify'), 'JWT_ALGORITHM')
  })

  it.each([['none'], ['hs256'], ['RS1'], ['PS512'], ['ES512'], ['Ed25519']])('refuses JWT_ALGORITHM=%s', (alg) => {
    expectConfigError(() => loadApiKeyConfig({ JWT_ALGORITHM: alg, JWT_SECRET: hmacSecret('HS256') }, 'verify'), 'JWT_ALGORITHM')
  })

  it.each(['sign', 'verify'] as const)('refuses a missing JWT_SECRET for role %s', (role) => {
    expectConfigError(() => loadApiKeyConfig({ JWT_ALGORITHM: 'HS256' }, role), 'JWT_SECRET')
    expectConfigError(() => loadApiKeyConfig({ JWT_ALGORITHM: 'HS256', JWT_SECRET: '' }, role), 'JWT_SECRET')
    expectConfigError(() => loadApiKeyConfig({ JWT_ALGORITHM: 'RS256' }, role), 'JWT_SECRET')
  })

  it('refuses an HS256 secret of 31 bytes, without echoing it', () => {
    const secret = randomHmacSecret(31)
    expectConfigError(() => loadApiKeyConfig({ JWT_ALGORITHM: 'HS256', JWT_SECRET: secret }, 'sign'), 'JWT_SECRET', [secret])
    expectConfigError(() => loadApiKeyConfig({ JWT_ALGORITHM: 'HS256', JWT_SECRET: secret }, 'verify'), 'JWT_SECRET', [secret])
  })

  it('accepts an HS256 secret of exactly 32 bytes', () => {
    const config = loadApiKeyConfig({ JWT_ALGORITHM: 'HS256', JWT_SECRET: randomHmacSecret(32) }, 'sign')
    expect(config.signingKey?.symmetricKeySize).toBe(32)
  })

  it('counts bytes, not characters (16 two-byte characters make 32 bytes)', () => {
    const config = loadApiKeyConfig({ JWT_ALGORITHM: 'HS256', JWT_SECRET: 'é'.repeat(16) }, 'sign')
    expect(config.signingKey?.symmetricKeySize).toBe(32)
  })

  it('needs 48 bytes for HS384 and 64 for HS512', () => {
    const s47 = randomHmacSecret(47)
    expectConfigError(() => loadApiKeyConfig({ JWT_ALGORITHM: 'HS384', JWT_SECRET: s47 }, 'sign'), 'JWT_SECRET', [s47])
    expect(loadApiKeyConfig({ JWT_ALGORITHM: 'HS384', JWT_SECRET: randomHmacSecret(48) }, 'sign').algorithm).toBe('HS384')
    const s63 = randomHmacSecret(63)
    expectConfigError(() => loadApiKeyConfig({ JWT_ALGORITHM: 'HS512', JWT_SECRET: s63 }, 'sign'), 'JWT_SECRET', [s63])
    expect(loadApiKeyConfig({ JWT_ALGORITHM: 'HS512', JWT_SECRET: randomHmacSecret(64) }, 'sign').algorithm).toBe('HS512')
  })

  it.each([
    ['a public key', () => publicPemFor('RS256')],
    ['a private key', () => secretFor('RS256')],
    ['a one-line public key', () => publicPemFor('ES256').replace(/\n/g, '\\n')]
  ])('refuses %s PEM as an HMAC secret (the RS256 -> HS256 confusion)', (_name, pem) => {
    const material = pem()
    expectConfigError(() => loadApiKeyConfig({ JWT_ALGORITHM: 'HS256', JWT_SECRET: material }, 'sign'), 'JWT_SECRET', [material])
    expectConfigError(() => loadApiKeyConfig({ JWT_ALGORITHM: 'HS256', JWT_SECRET: material }, 'verify'), 'JWT_SECRET', [material])
  })

  it.each([
    ['an EC P-256 key', 'RS256', () => pemKeyPair('ec-p256')],
    ['an RSA 1024 key', 'RS256', () => pemKeyPair('rsa-1024')],
    ['an Ed25519 key', 'RS256', () => pemKeyPair('ed25519')],
    ['an RSA-PSS key', 'RS256', () => pemKeyPair('rsa-pss-2048')],
    ['an RSA 1024 key', 'PS256', () => pemKeyPair('rsa-1024')],
    ['a P-384 key', 'ES256', () => pemKeyPair('ec-p384')],
    ['an Ed25519 key', 'ES256', () => pemKeyPair('ed25519')],
    ['an RSA key', 'ES256', () => pemKeyPair('rsa-2048')],
    ['a P-256 key', 'ES384', () => pemKeyPair('ec-p256')],
    ['an EC key', 'EdDSA', () => pemKeyPair('ec-p256')]
  ] as const)('refuses %s for %s, as JWT_SECRET and as JWT_VERIFY_KEY', (_name, alg, pair) => {
    const { privateKey, publicKey } = pair()
    expectConfigError(() => loadApiKeyConfig({ JWT_ALGORITHM: alg, JWT_SECRET: privateKey }, 'sign'), 'JWT_SECRET', [privateKey])
    expectConfigError(() => loadApiKeyConfig({ JWT_ALGORITHM: alg, JWT_SECRET: privateKey }, 'verify'), 'JWT_SECRET', [privateKey])
    expectConfigError(() => loadApiKeyConfig({ JWT_ALGORITHM: alg, JWT_VERIFY_KEY: publicKey }, 'verify'), 'JWT_VERIFY_KEY')
  })

  it.each([
    ['not a PEM', 'this-is-not-a-key-but-a-long-secret-value-0123456789'],
    ['a truncated PEM', () => secretFor('RS256').slice(0, 200)],
    [
      'a PEM with a corrupted body',
      () =>
        secretFor('RS256')
          .split('\n')
          .map((line, i) => (i === 3 ? line.replace(/./g, '!') : line))
          .join('\n')
    ],
    ['a public key where a private key is needed', () => publicPemFor('RS256')]
  ] as const)('refuses %s as the RS256 JWT_SECRET without echoing it', (_name, value) => {
    const material = typeof value === 'function' ? value() : value
    expectConfigError(() => loadApiKeyConfig({ JWT_ALGORITHM: 'RS256', JWT_SECRET: material }, 'sign'), 'JWT_SECRET', [material])
  })

  it('refuses a private key as JWT_VERIFY_KEY (it travels in the template), without echoing it', () => {
    const { privateKey } = pemKeyPair('ec-p256')
    expectConfigError(() => loadApiKeyConfig({ JWT_ALGORITHM: 'ES256', JWT_VERIFY_KEY: privateKey }, 'verify'), 'JWT_VERIFY_KEY', [privateKey])
  })

  it('refuses a garbage JWT_VERIFY_KEY', () => {
    const garbage = '-----BEGIN PUBLIC KEY-----\nnot-base64-at-all!!\n-----END PUBLIC KEY-----'
    expectConfigError(() => loadApiKeyConfig({ JWT_ALGORITHM: 'ES256', JWT_VERIFY_KEY: garbage }, 'verify'), 'JWT_VERIFY_KEY', [garbage])
  })

  it.each(['sign', 'verify', 'publish'] as const)('refuses a JWT_VERIFY_KEY that is not the public half of JWT_SECRET (role %s)', (role) => {
    const env = envFor('RS256', { JWT_VERIFY_KEY: pemKeyPair('rsa-2048', 'other').publicKey })
    expectConfigError(() => loadApiKeyConfig(env, role), 'JWT_VERIFY_KEY', [secretFor('RS256')])
  })

  it.each(['sign', 'verify', 'publish'] as const)('refuses JWT_VERIFY_KEY with an HMAC algorithm (role %s)', (role) => {
    const env = envFor('HS256', { JWT_VERIFY_KEY: hmacSecret('HS256') })
    expectConfigError(() => loadApiKeyConfig(env, role), 'JWT_VERIFY_KEY', [hmacSecret('HS256')])
  })

  it.each([['soon'], ['1.5h'], ['-1d'], ['0'], ['30 dayz']])('refuses JWT_EXPIRES_IN=%j', (value) => {
    expectConfigError(() => loadApiKeyConfig(envFor('HS256', { JWT_EXPIRES_IN: value }), 'sign'), 'JWT_EXPIRES_IN')
  })

  it.each([['soon'], ['-5']])('refuses JWT_CLOCK_TOLERANCE=%j', (value) => {
    expectConfigError(() => loadApiKeyConfig(envFor('HS256', { JWT_CLOCK_TOLERANCE: value }), 'verify'), 'JWT_CLOCK_TOLERANCE')
  })

  it.each([['has space'], ['é'], ['x'.repeat(129)], ['kid\u0000']])('refuses JWT_KID=%j', (kid) => {
    expectConfigError(() => loadApiKeyConfig(envFor('HS256', { JWT_KID: kid }), 'verify'), 'JWT_KID')
  })

  it.each([['exp'], ['iat'], ['nbf'], ['jti'], ['iss'], ['aud'], ['__proto__'], ['constructor'], ['prototype'], ['has space'], ['x'.repeat(129)]])(
    'refuses the claim name %j for the user and the company field',
    (name) => {
      expectConfigError(() => loadApiKeyConfig(envFor('HS256', { JWT_USER_ID_FIELD: name }), 'sign'), 'JWT_USER_ID_FIELD')
      expectConfigError(() => loadApiKeyConfig(envFor('HS256', { JWT_COMPANY_ID_FIELD: name }), 'sign'), 'JWT_COMPANY_ID_FIELD')
    }
  )
})

describe('loadApiKeyConfig: previous keys after a rotation (JWT_PREVIOUS_KEYS)', () => {
  const publicJwkOf = (pem: string, alg: string, kid: string): Record<string, unknown> => ({
    ...createPublicKey(pem).export({ format: 'jwk' }),
    alg,
    kid
  })
  const previousKeys = (...keys: Record<string, unknown>[]): string => JSON.stringify({ keys })

  it('adds each previous key after the current one, pinned to its own kid and alg', () => {
    // Prepare
    const old = publicJwkOf(pemKeyPair('rsa-2048', 'previous').publicKey, 'RS256', 'k-0')
    const env = envFor('ES256', { JWT_KID: 'k-1', JWT_PREVIOUS_KEYS: previousKeys(old) })
    // Act
    const config = loadApiKeyConfig(env, 'verify')
    // Assess
    expect(config.verifyingKeys.map((k) => [k.kid, k.alg, k.key.type])).toEqual([
      ['k-1', 'ES256', 'public'],
      ['k-0', 'RS256', 'public']
    ])
    expect(Object.isFrozen(config.verifyingKeys[1])).toBe(true)
  })

  it('keeps only the public half of a private JWK', () => {
    const privateJwk = { ...createPrivateKey(pemKeyPair('ec-p256', 'previous').privateKey).export({ format: 'jwk' }), alg: 'ES256', kid: 'k-0' }
    const config = loadApiKeyConfig(envFor('ES256', { JWT_KID: 'k-1', JWT_PREVIOUS_KEYS: previousKeys(privateJwk) }), 'verify')
    expect(config.verifyingKeys[1]?.key.type).toBe('public')
  })

  it('loads a previous HMAC key for verify, and leaves it out for publish', () => {
    // Prepare
    const k = Buffer.from(randomHmacSecret(32)).toString('base64url')
    const env = envFor('HS256', { JWT_KID: 'k-1', JWT_PREVIOUS_KEYS: previousKeys({ kty: 'oct', k, alg: 'HS256', kid: 'k-0' }) })
    // Act / Assess
    expect(loadApiKeyConfig(env, 'verify').verifyingKeys.map((key) => key.kid)).toEqual(['k-1', 'k-0'])
    expect(loadApiKeyConfig(env, 'publish').verifyingKeys).toEqual([])
  })

  const rsaJwk = (): Record<string, unknown> => publicJwkOf(pemKeyPair('rsa-2048', 'previous').publicKey, 'RS256', 'k-0')

  it.each([
    ['not JSON', () => '{keys:'],
    ['not a key set', () => JSON.stringify([rsaJwk()])],
    ['a key without kid', () => previousKeys({ ...rsaJwk(), kid: undefined })],
    ['a key with the current kid', () => previousKeys({ ...rsaJwk(), kid: 'k-1' })],
    ['two keys with the same kid', () => previousKeys(rsaJwk(), rsaJwk())],
    ['a key without alg', () => previousKeys({ ...rsaJwk(), alg: undefined })],
    ['a key with alg none', () => previousKeys({ ...rsaJwk(), alg: 'none' })],
    ['an RSA key labelled HS256 (key confusion)', () => previousKeys({ ...rsaJwk(), alg: 'HS256' })],
    ['an RSA key labelled ES256', () => previousKeys({ ...rsaJwk(), alg: 'ES256' })],
    ['an RSA 1024 key', () => previousKeys(publicJwkOf(pemKeyPair('rsa-1024').publicKey, 'RS256', 'k-0'))],
    ['a broken RSA key', () => previousKeys({ ...rsaJwk(), n: 'AQAB', e: undefined })],
    ['more than 10 keys', () => previousKeys(...Array.from({ length: 11 }, (_, i) => ({ ...rsaJwk(), kid: `k-old-${i}` })))]
  ])('refuses %s', (_name, value) => {
    expectConfigError(() => loadApiKeyConfig(envFor('ES256', { JWT_KID: 'k-1', JWT_PREVIOUS_KEYS: value() }), 'verify'), 'JWT_PREVIOUS_KEYS')
  })

  it('refuses a previous HMAC key that is too short, without echoing it', () => {
    const k = Buffer.from(randomHmacSecret(31)).toString('base64url')
    const env = envFor('HS256', { JWT_KID: 'k-1', JWT_PREVIOUS_KEYS: previousKeys({ kty: 'oct', k, alg: 'HS256', kid: 'k-0' }) })
    expectConfigError(() => loadApiKeyConfig(env, 'verify'), 'JWT_PREVIOUS_KEYS', [k])
  })
})
