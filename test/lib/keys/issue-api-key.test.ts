import { createPublicKey, createSecretKey } from 'node:crypto'
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { JWT_ALGORITHMS, isHmac } from '../../../src/lib/keys/algorithms'
import { loadApiKeyConfig } from '../../../src/lib/keys/api-key-config'
import { issueApiKey } from '../../../src/lib/keys/issue-api-key'
import { verifyApiKey } from '../../../src/lib/keys/verify-api-key'
import { envFor, hmacSecret, secretFor } from '../../support/keys'

const NOW = 1_700_000_000
const OWNER = { userId: 'auth0|alice', companyId: 'acme' } as const
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('issueApiKey', () => {
  it.each(JWT_ALGORITHMS)('%s: signs a standard JWT that jose verifies with the public key or secret', async (alg) => {
    // Prepare
    const config = loadApiKeyConfig(envFor(alg), 'sign')
    const verificationKey = isHmac(alg) ? createSecretKey(Buffer.from(hmacSecret(alg))) : createPublicKey(secretFor(alg))
    // Act
    const issued = await issueApiKey(config, OWNER, { nowSeconds: NOW })
    // Assess: an independent verifier, pinned to the algorithm, at the issuing instant
    const { payload, protectedHeader } = await jwtVerify(issued.apikey, verificationKey, { algorithms: [alg], currentDate: new Date(NOW * 1000) })
    expect(protectedHeader.alg).toBe(alg)
    expect(payload).toEqual({ sub: 'auth0|alice', org_id: 'acme', jti: issued.keyId, iat: NOW, exp: NOW + 2_592_000 })
  })

  it('sets the header to exactly { alg, typ: "JWT", kid } when a kid is configured', async () => {
    const issued = await issueApiKey(loadApiKeyConfig(envFor('ES256', { JWT_KID: 'k-2025' }), 'sign'), OWNER, { nowSeconds: NOW })
    expect(decodeProtectedHeader(issued.apikey)).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'k-2025' })
    expect(issued.kid).toBe('k-2025')
  })

  it('leaves kid out of the header when none is configured', async () => {
    const issued = await issueApiKey(loadApiKeyConfig(envFor('HS256'), 'sign'), OWNER, { nowSeconds: NOW })
    expect(decodeProtectedHeader(issued.apikey)).toEqual({ alg: 'HS256', typ: 'JWT' })
    expect(issued.kid).toBeUndefined()
  })

  it('returns metadata that matches the token', async () => {
    // Act
    const issued = await issueApiKey(loadApiKeyConfig(envFor('HS256'), 'sign'), OWNER, { nowSeconds: NOW + 0.75 })
    // Assess
    const claims = decodeJwt(issued.apikey)
    expect(issued.keyId).toMatch(UUID)
    expect(claims.jti).toBe(issued.keyId)
    expect(issued.issuedAt).toBe(NOW)
    expect(claims.iat).toBe(NOW)
    expect(issued.expiresAt).toBe(NOW + 2_592_000)
    expect(claims.exp).toBe(issued.expiresAt)
  })

  it('gives every key a new id', async () => {
    const config = loadApiKeyConfig(envFor('HS256'), 'sign')
    const ids = await Promise.all([1, 2, 3].map(async () => (await issueApiKey(config, OWNER, { nowSeconds: NOW })).keyId))
    expect(new Set(ids).size).toBe(3)
  })

  it('uses the configured claim names, issuer and audience', async () => {
    // Prepare
    const env = envFor('HS256', {
      JWT_USER_ID_FIELD: 'user_id',
      JWT_COMPANY_ID_FIELD: 'https://portal.example/company',
      JWT_ISSUER: 'https://keys.example/',
      JWT_AUDIENCE: 'https://api.example'
    })
    // Act
    const issued = await issueApiKey(loadApiKeyConfig(env, 'sign'), OWNER, { nowSeconds: NOW })
    // Assess
    const claims = decodeJwt(issued.apikey)
    expect(claims).toEqual({
      user_id: 'auth0|alice',
      'https://portal.example/company': 'acme',
      iss: 'https://keys.example/',
      aud: 'https://api.example',
      jti: issued.keyId,
      iat: NOW,
      exp: NOW + 2_592_000
    })
    expect(verifyApiKey(issued.apikey, loadApiKeyConfig(env, 'verify'), NOW).valid).toBe(true)
  })

  it('uses the configured lifetime', async () => {
    const issued = await issueApiKey(loadApiKeyConfig(envFor('HS256', { JWT_EXPIRES_IN: '15m' }), 'sign'), OWNER, { nowSeconds: NOW })
    expect(issued.expiresAt).toBe(NOW + 900)
  })

  it.each([
    ['shortens to a requested 1 h', 3600, NOW + 3600],
    ['keeps the configured 1 d when asked for a year', 31_557_600, NOW + 86_400],
    ['keeps the configured 1 d when asked for exactly that', 86_400, NOW + 86_400],
    ['keeps the configured 1 d when asked for nothing', undefined, NOW + 86_400]
  ] as const)('%s (a requested lifetime only shortens)', async (_name, lifetimeSeconds, expected) => {
    // Prepare
    const env = envFor('HS256', { JWT_EXPIRES_IN: '1d' })
    // Act
    const issued = await issueApiKey(loadApiKeyConfig(env, 'sign'), OWNER, { nowSeconds: NOW, lifetimeSeconds })
    // Assess
    expect(issued.expiresAt).toBe(expected)
    expect(decodeJwt(issued.apikey).exp).toBe(expected)
  })

  it.each(['verify', 'publish'] as const)('throws a TypeError for a config loaded with role %s (no signing key)', async (role) => {
    const config = loadApiKeyConfig(envFor('RS256'), role)
    await expect(issueApiKey(config, OWNER, { nowSeconds: NOW })).rejects.toThrow(TypeError)
  })

  it('never puts the signing secret in the token', async () => {
    const issued = await issueApiKey(loadApiKeyConfig(envFor('HS256'), 'sign'), OWNER, { nowSeconds: NOW })
    const decoded = Buffer.from(issued.apikey.split('.').slice(0, 2).join(''), 'base64url').toString('latin1')
    expect(issued.apikey).not.toContain(hmacSecret('HS256'))
    expect(decoded).not.toContain(hmacSecret('HS256'))
  })
})

describe('issueApiKey: never signs a key the authorizer would refuse', () => {
  it.each([
    ['a control character in the company', { userId: 'auth0|alice', companyId: 'acme\n' }],
    ['an empty user', { userId: '', companyId: 'acme' }],
    ['an over-long company', { userId: 'u', companyId: 'x'.repeat(257) }]
  ])('throws a TypeError for %s', async (_name, owner) => {
    const config = loadApiKeyConfig(envFor('HS256'), 'sign')
    await expect(issueApiKey(config, owner, { nowSeconds: 1_700_000_000 })).rejects.toThrow(TypeError)
  })
})
