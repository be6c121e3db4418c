import fc from 'fast-check'
import { SignJWT, exportJWK } from 'jose'
import { createPrivateKey, createPublicKey, createSecretKey, sign } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { JWT_ALGORITHMS, isHmac, type JwtAlgorithm } from '../../../src/lib/keys/algorithms'
import { loadApiKeyConfig, type ApiKeyConfig } from '../../../src/lib/keys/api-key-config'
import { issueApiKey } from '../../../src/lib/keys/issue-api-key'
import { MAX_TOKEN_BYTES, verifyApiKey, type ApiKeyVerification, type VerificationDenyReason } from '../../../src/lib/keys/verify-api-key'
import { b64url, flipMiddleChar, segmentsOf, signRawJws } from '../../support/jws'
import { envFor, hmacSecret, pemKeyPair, publicPemFor, secretFor } from '../../support/keys'
import { describeApiKeySecuritySuite } from '../../support/security-suite'

const NOW = 1_700_000_000
const HS_HEADER = { alg: 'HS256', typ: 'JWT' } as const
const DENY_REASONS: readonly VerificationDenyReason[] = [
  'MISSING_TOKEN',
  'TOKEN_TOO_LARGE',
  'MALFORMED',
  'UNSUPPORTED_HEADER',
  'ALG_MISMATCH',
  'UNKNOWN_KID',
  'BAD_SIGNATURE',
  'MISSING_EXP',
  'EXPIRED',
  'NOT_YET_VALID',
  'BAD_ISSUER',
  'BAD_AUDIENCE',
  'BAD_COMPANY',
  'BAD_USER'
]

/** 'VALID' or the deny reason: one value to assert on. */
function outcome(result: ApiKeyVerification): VerificationDenyReason | 'VALID' {
  return result.valid ? 'VALID' : result.reason
}

const hs256 = (extra: Record<string, string> = {}): ApiKeyConfig => loadApiKeyConfig(envFor('HS256', extra), 'verify')

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: 'auth0|alice', org_id: 'acme', jti: 'key-1', iat: NOW, exp: NOW + 3600, ...overrides }
}

function without(record: Record<string, unknown>, name: string): Record<string, unknown> {
  const copy = { ...record }
  delete copy[name]
  return copy
}

/** An HS256 token signed with the configured secret, over exactly these header and payload. */
function hsToken(payload: Parameters<typeof signRawJws>[3] = claims(), header: Parameters<typeof signRawJws>[2] = HS_HEADER): string {
  return signRawJws('HS256', hmacSecret('HS256'), header, payload)
}

describe('verifyApiKey: round trip with issueApiKey', () => {
  it.each(JWT_ALGORITHMS)('%s: a key issued with JWT_SECRET verifies with the verify-role config', async (alg) => {
    // Prepare
    const env = envFor(alg, { JWT_KID: 'k-1' })
    const issued = await issueApiKey(loadApiKeyConfig(env, 'sign'), { userId: 'auth0|alice', companyId: 'acme' }, { nowSeconds: NOW })
    // Act
    const result = verifyApiKey(issued.apikey, loadApiKeyConfig(env, 'verify'), NOW + 1)
    // Assess
    expect(result).toEqual({
      valid: true,
      identity: { orgId: 'acme', userId: 'auth0|alice', keyId: issued.keyId, issuedAt: NOW, expiresAt: NOW + 2_592_000, kid: 'k-1' }
    })
  })

  it.each(JWT_ALGORITHMS.filter((alg) => !isHmac(alg)))('%s: verifies with only the public key (JWT_VERIFY_KEY)', async (alg) => {
    // Prepare
    const issued = await issueApiKey(loadApiKeyConfig(envFor(alg), 'sign'), { userId: 'u-1', companyId: 'c-1' }, { nowSeconds: NOW })
    const verifyOnly = loadApiKeyConfig(
      { JWT_ALGORITHM: alg, JWT_VERIFY_KEY: publicPemFor(alg as Exclude<JwtAlgorithm, 'HS256' | 'HS384' | 'HS512'>) },
      'verify'
    )
    // Act
    const result = verifyApiKey(issued.apikey, verifyOnly, NOW)
    // Assess
    expect(outcome(result)).toBe('VALID')
  })

  it.each(JWT_ALGORITHMS)('%s: a key signed with other key material of the same algorithm is BAD_SIGNATURE', async (alg) => {
    // Prepare
    const other = loadApiKeyConfig({ JWT_ALGORITHM: alg, JWT_SECRET: secretFor(alg, 'other') }, 'sign')
    const forged = await issueApiKey(other, { userId: 'u-1', companyId: 'c-1' }, { nowSeconds: NOW })
    // Act
    const result = verifyApiKey(forged.apikey, loadApiKeyConfig(envFor(alg), 'verify'), NOW)
    // Assess
    expect(outcome(result)).toBe('BAD_SIGNATURE')
  })

  // Regression test, fixed since (src/lib/keys/key-material.ts:40 accepts an 'rsa-pss' key for PS256 at cold start, but
  // jose cannot sign with an RSA-PSS KeyObject on Node 20: issueApiKey throws "Unsupported
  // JWK Key Type" on every request). Either fix satisfies this test: refuse the key at load
  // (ConfigError on JWT_SECRET), or make keys signed with it work.
  it('PS256 with an RSA-PSS key is refused at cold start or issues keys that verify', async () => {
    const env = { JWT_ALGORITHM: 'PS256', JWT_SECRET: pemKeyPair('rsa-pss-2048').privateKey }
    let signConfig: ApiKeyConfig
    try {
      signConfig = loadApiKeyConfig(env, 'sign')
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_CONFIG', variable: 'JWT_SECRET' })
      return
    }
    const issued = await issueApiKey(signConfig, { userId: 'u-1', companyId: 'c-1' }, { nowSeconds: NOW })
    expect(outcome(verifyApiKey(issued.apikey, loadApiKeyConfig(env, 'verify'), NOW))).toBe('VALID')
  })
})

describe('verifyApiKey: keys from the reference plugin', () => {
  async function referencePluginKey(): Promise<string> {
    // What jsonwebtoken's jwt.sign({ sub, org_id }, secret, { expiresIn }) produces: HS256, typ JWT, no kid, no jti.
    return new SignJWT({ sub: 'auth0|bob', org_id: 'globex' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(NOW)
      .setExpirationTime(NOW + 3600)
      .sign(createSecretKey(Buffer.from(hmacSecret('HS256'))))
  }

  it('verifies, with an empty keyId', async () => {
    // Prepare
    const token = await referencePluginKey()
    // Act
    const result = verifyApiKey(token, hs256(), NOW + 10)
    // Assess
    expect(result).toEqual({
      valid: true,
      identity: { orgId: 'globex', userId: 'auth0|bob', keyId: '', issuedAt: NOW, expiresAt: NOW + 3600, kid: undefined }
    })
  })

  it('still verifies after a kid is configured (a key without kid uses the current key)', async () => {
    const result = verifyApiKey(await referencePluginKey(), hs256({ JWT_KID: 'k-2025' }), NOW)
    expect(result.valid && result.identity.kid).toBe('k-2025')
  })

  it('verifies a key without iat, reporting issuedAt undefined', () => {
    const result = verifyApiKey(hsToken(without(claims(), 'iat')), hs256(), NOW)
    expect(result.valid && result.identity.issuedAt).toBeUndefined()
    expect(outcome(result)).toBe('VALID')
  })

  it('verifies a key without user claim, reporting an empty userId', () => {
    const result = verifyApiKey(hsToken(without(claims(), 'sub')), hs256(), NOW)
    expect(result.valid && result.identity.userId).toBe('')
  })
})

describe('verifyApiKey: time claims', () => {
  it.each([
    ['expired 30 s ago (at the tolerance)', NOW - 30, 'EXPIRED'],
    ['expired 29 s ago (inside the tolerance)', NOW - 29, 'VALID'],
    ['expired an hour ago', NOW - 3600, 'EXPIRED'],
    ['expiring in a second', NOW + 1, 'VALID']
  ] as const)('with the default 30 s tolerance, a key %s is %s', (_name, exp, expected) => {
    expect(outcome(verifyApiKey(hsToken(claims({ iat: NOW - 7200, exp })), hs256(), NOW))).toBe(expected)
  })

  it.each([
    [NOW, 'EXPIRED'],
    [NOW + 1, 'VALID']
  ] as const)('with no tolerance, exp=NOW%s is %s', (exp, expected) => {
    const config = hs256({ JWT_CLOCK_TOLERANCE: '0' })
    expect(outcome(verifyApiKey(hsToken(claims({ iat: NOW - 60, exp })), config, NOW))).toBe(expected)
  })

  it('compares fractional seconds: exp is exclusive', () => {
    const config = hs256({ JWT_CLOCK_TOLERANCE: '0' })
    const token = hsToken(claims({ iat: NOW - 60, exp: NOW + 1 }))
    expect(outcome(verifyApiKey(token, config, NOW + 0.999))).toBe('VALID')
    expect(outcome(verifyApiKey(token, config, NOW + 1))).toBe('EXPIRED')
  })

  it.each([
    ['missing', undefined],
    ['a string', String(NOW + 3600)],
    ['null', null],
    ['an object', { value: NOW + 3600 }]
  ] as const)('denies exp %s as MISSING_EXP', (_name, exp) => {
    const payload = exp === undefined ? without(claims(), 'exp') : claims({ exp })
    expect(outcome(verifyApiKey(hsToken(payload), hs256(), NOW))).toBe('MISSING_EXP')
  })

  it('denies an exp that overflows to Infinity as MISSING_EXP', () => {
    const payload = JSON.stringify(claims()).replace(`"exp":${NOW + 3600}`, '"exp":1e400')
    expect(outcome(verifyApiKey(hsToken(payload), hs256(), NOW))).toBe('MISSING_EXP')
  })

  it.each([
    [NOW + 30, 'VALID'],
    [NOW + 31, 'NOT_YET_VALID'],
    [String(NOW), 'NOT_YET_VALID']
  ] as const)('nbf=%s is %s', (nbf, expected) => {
    expect(outcome(verifyApiKey(hsToken(claims({ nbf })), hs256(), NOW))).toBe(expected)
  })

  it.each([
    [NOW + 30, 'VALID'],
    [NOW + 31, 'NOT_YET_VALID'],
    ['yesterday', 'NOT_YET_VALID']
  ] as const)('iat=%s is %s (a future iat would dodge a revoked-before instant)', (iat, expected) => {
    expect(outcome(verifyApiKey(hsToken(claims({ iat })), hs256(), NOW))).toBe(expected)
  })
})

describe('verifyApiKey: issuer, audience and identity claims', () => {
  const pinned = (): ApiKeyConfig => hs256({ JWT_ISSUER: 'https://keys.example/', JWT_AUDIENCE: 'https://api.example' })
  const good = { iss: 'https://keys.example/', aud: 'https://api.example' }

  it('accepts the configured issuer and audience', () => {
    expect(outcome(verifyApiKey(hsToken(claims(good)), pinned(), NOW))).toBe('VALID')
  })

  it('accepts an audience array that contains the configured audience', () => {
    expect(outcome(verifyApiKey(hsToken(claims({ ...good, aud: ['other', 'https://api.example'] })), pinned(), NOW))).toBe('VALID')
  })

  it.each([
    ['another issuer', claims({ ...good, iss: 'https://evil.example/' }), 'BAD_ISSUER'],
    ['no issuer', without(claims(good), 'iss'), 'BAD_ISSUER'],
    ['a trailing-slash variant of the issuer', claims({ ...good, iss: 'https://keys.example' }), 'BAD_ISSUER'],
    ['another audience', claims({ ...good, aud: 'https://other.example' }), 'BAD_AUDIENCE'],
    ['no audience', without(claims(good), 'aud'), 'BAD_AUDIENCE'],
    ['an audience array without ours', claims({ ...good, aud: ['a', 'b'] }), 'BAD_AUDIENCE']
  ] as const)('denies %s as %s', (_name, payload, expected) => {
    expect(outcome(verifyApiKey(hsToken(payload), pinned(), NOW))).toBe(expected)
  })

  it('checks neither issuer nor audience when they are not configured', () => {
    expect(outcome(verifyApiKey(hsToken(claims({ iss: 'anyone', aud: 'anything' })), hs256(), NOW))).toBe('VALID')
  })

  it.each([
    ['missing', undefined],
    ['a number', 42],
    ['empty', ''],
    ['an array', ['acme']],
    ['null', null],
    ['257 characters long', 'x'.repeat(257)]
  ] as const)('denies a company claim that is %s as BAD_COMPANY', (_name, org) => {
    const payload = org === undefined ? without(claims(), 'org_id') : claims({ org_id: org })
    expect(outcome(verifyApiKey(hsToken(payload), hs256(), NOW))).toBe('BAD_COMPANY')
  })

  it.each([
    ['a number', 7],
    ['empty', ''],
    ['an object', { id: 'u' }]
  ] as const)('denies a user claim that is %s as BAD_USER', (_name, sub) => {
    expect(outcome(verifyApiKey(hsToken(claims({ sub })), hs256(), NOW))).toBe('BAD_USER')
  })

  it('denies a non-string jti as MALFORMED', () => {
    expect(outcome(verifyApiKey(hsToken(claims({ jti: 12 })), hs256(), NOW))).toBe('MALFORMED')
  })

  it('reads the configured claim names', () => {
    // Prepare
    const config = hs256({ JWT_USER_ID_FIELD: 'user_id', JWT_COMPANY_ID_FIELD: 'https://portal.example/company' })
    const payload = { user_id: 'u-9', 'https://portal.example/company': 'initech', org_id: 'not-this-one', exp: NOW + 60 }
    // Act
    const result = verifyApiKey(hsToken(payload), config, NOW)
    // Assess
    expect(result.valid && [result.identity.orgId, result.identity.userId]).toEqual(['initech', 'u-9'])
    expect(outcome(verifyApiKey(hsToken(claims()), config, NOW))).toBe('BAD_COMPANY')
  })
})

describe('verifyApiKey: algorithm and key pinning', () => {
  it('denies HS256 signed with the RS256 public key PEM as the HMAC secret (ALG_MISMATCH)', () => {
    // Prepare: the classic confusion attack: the public key is public, so anyone can compute this HMAC.
    const publicPem = publicPemFor('RS256')
    const config = loadApiKeyConfig({ JWT_ALGORITHM: 'RS256', JWT_VERIFY_KEY: publicPem, JWT_KID: 'k-1' }, 'verify')
    const attack = signRawJws('HS256', publicPem, HS_HEADER, claims())
    const attackWithKid = signRawJws('HS256', publicPem, { ...HS_HEADER, kid: 'k-1' }, claims())
    const attackWithDer = signRawJws(
      'HS256',
      createSecretKey(createPublicKey(publicPem).export({ type: 'spki', format: 'der' })),
      HS_HEADER,
      claims()
    )
    // Act / Assess
    expect(outcome(verifyApiKey(attack, config, NOW))).toBe('ALG_MISMATCH')
    expect(outcome(verifyApiKey(attackWithKid, config, NOW))).toBe('ALG_MISMATCH')
    expect(outcome(verifyApiKey(attackWithDer, config, NOW))).toBe('ALG_MISMATCH')
  })

  it('denies a token whose alg is another asymmetric algorithm (RS256 header, PS256 key)', () => {
    const { privateKey } = pemKeyPair('rsa-2048')
    const config = loadApiKeyConfig({ JWT_ALGORITHM: 'PS256', JWT_SECRET: privateKey }, 'verify')
    const token = signRawJws('RS256', privateKey, { alg: 'RS256', typ: 'JWT' }, claims())
    expect(outcome(verifyApiKey(token, config, NOW))).toBe('ALG_MISMATCH')
  })

  it.each([['none'], ['None'], ['NONE'], ['hs256'], ['']])('denies alg %j (with a signature segment) as ALG_MISMATCH', (alg) => {
    const [, payload] = segmentsOf(hsToken())
    const token = `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${payload}.AAAA`
    expect(outcome(verifyApiKey(token, hs256(), NOW))).toBe('ALG_MISMATCH')
  })

  it('denies an unsecured JWT (alg none, empty signature) as MALFORMED', () => {
    const [, payload] = segmentsOf(hsToken())
    expect(outcome(verifyApiKey(`${b64url('{"alg":"none"}')}.${payload}.`, hs256(), NOW))).toBe('MALFORMED')
  })

  it('denies a header without alg as ALG_MISMATCH', () => {
    expect(outcome(verifyApiKey(hsToken(claims(), { typ: 'JWT' }), hs256(), NOW))).toBe('ALG_MISMATCH')
  })

  it.each([
    ['another kid', { kid: 'k-2' }],
    ['a numeric kid', { kid: 1 }],
    ['a null kid', { kid: null }]
  ] as const)('denies %s as UNKNOWN_KID', (_name, kid) => {
    const config = hs256({ JWT_KID: 'k-1' })
    expect(outcome(verifyApiKey(hsToken(claims(), { ...HS_HEADER, ...kid }), config, NOW))).toBe('UNKNOWN_KID')
  })

  it('accepts the configured kid', () => {
    expect(outcome(verifyApiKey(hsToken(claims(), { ...HS_HEADER, kid: 'k-1' }), hs256({ JWT_KID: 'k-1' }), NOW))).toBe('VALID')
  })

  it('denies a kid when none is configured (no fallback to the current key)', () => {
    expect(outcome(verifyApiKey(hsToken(claims(), { ...HS_HEADER, kid: 'k-1' }), hs256(), NOW))).toBe('UNKNOWN_KID')
  })

  it('never takes a key from the header (jwk, jku, x5u, x5c are ignored)', async () => {
    // Prepare: the attacker signs with their own key and ships it in the header.
    const attacker = pemKeyPair('ec-p256', 'attacker')
    const jwk = await exportJWK(createPublicKey(attacker.publicKey))
    const header = { alg: 'ES256', typ: 'JWT', jwk, jku: 'https://evil.example/jwks.json', x5u: 'https://evil.example/cert.pem' }
    const token = signRawJws('ES256', attacker.privateKey, header, claims())
    // Act
    const result = verifyApiKey(token, loadApiKeyConfig(envFor('ES256'), 'verify'), NOW)
    // Assess
    expect(outcome(result)).toBe('BAD_SIGNATURE')
  })

  it('denies an ES256 signature in DER form (JWS needs the raw r||s form)', () => {
    const { privateKey } = pemKeyPair('ec-p256')
    const input = `${b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims()))}`
    const der = sign('sha256', Buffer.from(input), createPrivateKey(privateKey))
    expect(outcome(verifyApiKey(`${input}.${b64url(der)}`, loadApiKeyConfig(envFor('ES256'), 'verify'), NOW))).toBe('BAD_SIGNATURE')
  })
})

describe('verifyApiKey: tampering', () => {
  it('denies a changed payload as BAD_SIGNATURE', () => {
    const [header, , signature] = segmentsOf(hsToken())
    const tampered = `${header}.${b64url(JSON.stringify(claims({ org_id: 'globex' })))}.${signature}`
    expect(outcome(verifyApiKey(tampered, hs256(), NOW))).toBe('BAD_SIGNATURE')
  })

  it('denies a changed header as BAD_SIGNATURE', () => {
    const [, payload, signature] = segmentsOf(hsToken())
    const tampered = `${b64url(JSON.stringify({ alg: 'HS256' }))}.${payload}.${signature}`
    expect(outcome(verifyApiKey(tampered, hs256(), NOW))).toBe('BAD_SIGNATURE')
  })

  it.each([
    ['one character changed', (s: string) => flipMiddleChar(s)],
    ['truncated', (s: string) => s.slice(0, 20)],
    ['from another secret', () => segmentsOf(signRawJws('HS256', hmacSecret('HS256', 'other'), HS_HEADER, claims()))[2]]
  ])('denies a signature %s as BAD_SIGNATURE', (_name, change) => {
    const [header, payload, signature] = segmentsOf(hsToken())
    expect(outcome(verifyApiKey(`${header}.${payload}.${change(signature)}`, hs256(), NOW))).toBe('BAD_SIGNATURE')
  })

  it('denies a doubled signature: MALFORMED when its spelling is not canonical, else BAD_SIGNATURE', () => {
    const [header, payload, signature] = segmentsOf(hsToken())
    const doubled = `${signature}${signature}`
    const canonical = Buffer.from(doubled, 'base64url').toString('base64url') === doubled
    expect(outcome(verifyApiKey(`${header}.${payload}.${doubled}`, hs256(), NOW))).toBe(canonical ? 'BAD_SIGNATURE' : 'MALFORMED')
  })

  it('denies a changed RS256 signature as BAD_SIGNATURE', async () => {
    const env = envFor('RS256')
    const { apikey } = await issueApiKey(loadApiKeyConfig(env, 'sign'), { userId: 'u', companyId: 'c' }, { nowSeconds: NOW })
    const [header, payload, signature] = segmentsOf(apikey)
    expect(outcome(verifyApiKey(`${header}.${payload}.${flipMiddleChar(signature)}`, loadApiKeyConfig(env, 'verify'), NOW))).toBe('BAD_SIGNATURE')
  })
})

describe('verifyApiKey: shape and size', () => {
  it('denies an empty token as MISSING_TOKEN', () => {
    expect(outcome(verifyApiKey('', hs256(), NOW))).toBe('MISSING_TOKEN')
  })

  it.each([
    ['2 segments', (t: string) => t.split('.').slice(0, 2).join('.')],
    ['4 segments', (t: string) => `${t}.AAAA`],
    ['5 segments', (t: string) => `${t}.AAAA.AAAA`],
    ['an empty header', (t: string) => `.${t.split('.').slice(1).join('.')}`],
    ['no dots', (t: string) => t.replace(/\./g, '')]
  ])('denies %s as MALFORMED', (_name, change) => {
    expect(outcome(verifyApiKey(change(hsToken()), hs256(), NOW))).toBe('MALFORMED')
  })

  it.each([['+'], ['/'], ['='], [' '], ['%'], ['\u00e9']])('denies the character %j in any segment as MALFORMED', (bad) => {
    // Buffer would silently skip these; the verifier must not.
    const [header, payload, signature] = segmentsOf(hsToken())
    for (const token of [
      `${header}${bad}.${payload}.${signature}`,
      `${header}.${payload}${bad}.${signature}`,
      `${header}.${payload}.${signature}${bad}`
    ]) {
      expect(outcome(verifyApiKey(token, hs256(), NOW))).toBe('MALFORMED')
    }
  })

  it.each([
    ['an array', '["HS256"]'],
    ['an array holding the header', '[{"alg":"HS256","typ":"JWT"}]'],
    ['a string', '"HS256"'],
    ['null', 'null'],
    ['a number', '256'],
    ['not JSON', '{"alg":"HS256"'],
    ['not UTF-8 JSON at all', '\u0000\u0001']
  ])('denies a header that is %s as MALFORMED', (_name, header) => {
    expect(outcome(verifyApiKey(hsToken(claims(), header), hs256(), NOW))).toBe('MALFORMED')
  })

  it.each([
    ['__proto__', '{"alg":"HS256","typ":"JWT","__proto__":{"kid":"k-1"}}'],
    ['constructor', '{"alg":"HS256","typ":"JWT","constructor":{"prototype":{}}}'],
    ['prototype', '{"alg":"HS256","typ":"JWT","x":{"prototype":1}}']
  ])('denies a header with a %s key as MALFORMED', (_name, header) => {
    expect(outcome(verifyApiKey(hsToken(claims(), header), hs256(), NOW))).toBe('MALFORMED')
  })

  it.each([
    ['a top-level __proto__ key', `{"sub":"u","org_id":"acme","exp":${NOW + 60},"__proto__":{"org_id":"admin"}}`],
    ['a nested __proto__ key', `{"sub":"u","org_id":"acme","exp":${NOW + 60},"meta":{"__proto__":{"x":1}}}`],
    ['a nested constructor key', `{"sub":"u","org_id":"acme","exp":${NOW + 60},"meta":{"constructor":{"prototype":{"x":1}}}}`]
  ])('denies a correctly signed payload with %s as MALFORMED', (_name, payload) => {
    expect(outcome(verifyApiKey(hsToken(payload), hs256(), NOW))).toBe('MALFORMED')
  })

  it.each([
    ['an array', '[1,2]'],
    ['null', 'null'],
    ['a string', '"acme"'],
    ['not JSON', '{"org_id":']
  ])('denies a correctly signed payload that is %s as MALFORMED', (_name, payload) => {
    expect(outcome(verifyApiKey(hsToken(payload), hs256(), NOW))).toBe('MALFORMED')
  })

  it.each([
    ['crit', { crit: ['exp'], exp: NOW }],
    ['crit (empty list)', { crit: [] }],
    ['b64', { b64: false }],
    ['enc', { enc: 'A256GCM' }],
    ['zip', { zip: 'DEF' }],
    ['typ JOSE', { typ: 'JOSE' }],
    ['typ at+jwt', { typ: 'at+jwt' }],
    ['a non-string typ', { typ: 1 }]
  ])('denies a correctly signed header with %s as UNSUPPORTED_HEADER', (_name, extra) => {
    expect(outcome(verifyApiKey(hsToken(claims(), { ...HS_HEADER, ...extra }), hs256(), NOW))).toBe('UNSUPPORTED_HEADER')
  })

  it('accepts typ in any case and no typ at all', () => {
    expect(outcome(verifyApiKey(hsToken(claims(), { alg: 'HS256', typ: 'jwt' }), hs256(), NOW))).toBe('VALID')
    expect(outcome(verifyApiKey(hsToken(claims(), { alg: 'HS256' }), hs256(), NOW))).toBe('VALID')
  })

  /** A correctly signed token of exactly `length` characters, padded with a filler claim. */
  function signedTokenOfLength(length: number): string | undefined {
    for (let pad = Math.floor(length * 0.7); pad < length; pad++) {
      const token = hsToken(claims({ pad: 'x'.repeat(pad) }))
      if (token.length === length) return token
      if (token.length > length) return undefined
    }
    return undefined
  }

  it(`accepts a valid token of exactly ${MAX_TOKEN_BYTES} characters`, () => {
    const token = signedTokenOfLength(MAX_TOKEN_BYTES)
    expect(token?.length).toBe(MAX_TOKEN_BYTES)
    expect(outcome(verifyApiKey(token ?? '', hs256(), NOW))).toBe('VALID')
  })

  it(`denies an otherwise valid token of ${MAX_TOKEN_BYTES + 1}+ characters as TOKEN_TOO_LARGE`, () => {
    const token = signedTokenOfLength(MAX_TOKEN_BYTES + 2) ?? signedTokenOfLength(MAX_TOKEN_BYTES + 3)
    expect(token?.length).toBeGreaterThan(MAX_TOKEN_BYTES)
    expect(outcome(verifyApiKey(token ?? '', hs256(), NOW))).toBe('TOKEN_TOO_LARGE')
    expect(outcome(verifyApiKey('A'.repeat(1_000_000), hs256(), NOW))).toBe('TOKEN_TOO_LARGE')
  })

  it('never throws and always gives a known reason for arbitrary input', () => {
    const config = hs256()
    const segment = fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/)
    const jsonSegment = fc.jsonValue().map((v) => b64url(JSON.stringify(v) ?? 'null'))
    const token = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.tuple(fc.oneof(segment, jsonSegment), fc.oneof(segment, jsonSegment), segment).map((parts) => parts.join('.'))
    )
    fc.assert(
      fc.property(token, (candidate) => {
        const result = verifyApiKey(candidate, config, NOW)
        return !result.valid && DENY_REASONS.includes(result.reason)
      }),
      { numRuns: 300, seed: 20_240_601 }
    )
  })
})

// The same shared suite, for one asymmetric and one HMAC configuration.
for (const [alg, extra] of [
  ['ES256', { JWT_KID: 'k-1' }],
  ['HS256', {}]
] as const) {
  describeApiKeySecuritySuite(`verifyApiKey (${alg})`, () => {
    const env = envFor(alg, extra)
    const verifyConfig = loadApiKeyConfig(env, 'verify')
    return {
      companyIdField: 'org_id',
      issue: async (nowSeconds, lifetimeSeconds) =>
        (await issueApiKey(loadApiKeyConfig(env, 'sign'), { userId: 'u-1', companyId: 'acme' }, { nowSeconds, lifetimeSeconds })).apikey,
      forge: async (nowSeconds) =>
        (
          await issueApiKey(
            loadApiKeyConfig({ ...env, JWT_SECRET: secretFor(alg, 'attacker') }, 'sign'),
            { userId: 'u-1', companyId: 'acme' },
            { nowSeconds }
          )
        ).apikey,
      attempt: async (token, nowSeconds) => token !== undefined && verifyApiKey(token, verifyConfig, nowSeconds).valid
    }
  })
}

describe('verifyApiKey: previous keys after a rotation', () => {
  const previous = pemKeyPair('rsa-2048', 'previous')
  const env = () =>
    envFor('ES256', {
      JWT_KID: 'k-1',
      JWT_PREVIOUS_KEYS: JSON.stringify({ keys: [{ ...createPublicKey(previous.publicKey).export({ format: 'jwk' }), alg: 'RS256', kid: 'k-0' }] })
    })

  it('verifies a key signed with the previous key under its kid', () => {
    const token = signRawJws('RS256', previous.privateKey, { alg: 'RS256', typ: 'JWT', kid: 'k-0' }, claims())
    const result = verifyApiKey(token, loadApiKeyConfig(env(), 'verify'), NOW)
    expect(result.valid && result.identity.kid).toBe('k-0')
  })

  it('still verifies keys from the current key', async () => {
    const issued = await issueApiKey(loadApiKeyConfig(env(), 'sign'), { userId: 'u', companyId: 'c' }, { nowSeconds: NOW })
    expect(outcome(verifyApiKey(issued.apikey, loadApiKeyConfig(env(), 'verify'), NOW))).toBe('VALID')
  })

  it('tries a previous key only by kid: without kid, the current ES256 key is used (ALG_MISMATCH)', () => {
    const token = signRawJws('RS256', previous.privateKey, { alg: 'RS256', typ: 'JWT' }, claims())
    expect(outcome(verifyApiKey(token, loadApiKeyConfig(env(), 'verify'), NOW))).toBe('ALG_MISMATCH')
  })

  it('pins the previous key to its own alg (HS256 keyed with its public PEM is ALG_MISMATCH)', () => {
    const token = signRawJws('HS256', previous.publicKey, { alg: 'HS256', typ: 'JWT', kid: 'k-0' }, claims())
    expect(outcome(verifyApiKey(token, loadApiKeyConfig(env(), 'verify'), NOW))).toBe('ALG_MISMATCH')
  })
})
