import { createLocalJWKSet, jwtVerify, type JWK } from 'jose'
import { describe, expect, it } from 'vitest'
import { loadApiKeyConfig, type ApiKeyConfig } from '../../../src/lib/keys/api-key-config'
import { issueApiKey } from '../../../src/lib/keys/issue-api-key'
import { publicJwks } from '../../../src/lib/keys/jwks'
import { envFor, pemKeyPair } from '../../support/keys'

const NOW = 1_700_000_000
/** Private members of RSA, EC and OKP keys, and the octet value of a secret key. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

function expectPublicOnly(jwk: JWK): void {
  for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member)
}

describe('publicJwks', () => {
  it.each([['HS256'], ['HS384'], ['HS512']] as const)('%s publishes nothing, from a publish-role config', async (alg) => {
    expect(await publicJwks(loadApiKeyConfig({ JWT_ALGORITHM: alg }, 'publish').verifyingKeys)).toEqual({ keys: [] })
  })

  it('never publishes an HMAC secret, even from a verify-role config that holds it', async () => {
    const config = loadApiKeyConfig(envFor('HS256'), 'verify')
    expect(config.verifyingKeys).toHaveLength(1)
    expect(await publicJwks(config.verifyingKeys)).toEqual({ keys: [] })
  })

  it.each([
    ['RS256', 'RSA', {}],
    ['RS512', 'RSA', {}],
    ['PS256', 'RSA', {}],
    ['ES256', 'EC', { crv: 'P-256' }],
    ['ES384', 'EC', { crv: 'P-384' }],
    ['EdDSA', 'OKP', { crv: 'Ed25519' }]
  ] as const)('%s publishes one %s key with kid, alg and use "sig", and no private member', async (alg, kty, extra) => {
    // Prepare: the signing role holds the private key; only its public half may come out.
    const config = loadApiKeyConfig(envFor(alg, { JWT_KID: 'k-2025' }), 'sign')
    // Act
    const jwks = await publicJwks(config.verifyingKeys)
    // Assess
    expect(jwks.keys).toHaveLength(1)
    const [jwk] = jwks.keys
    expect(jwk).toMatchObject({ kty, kid: 'k-2025', alg, use: 'sig', ...extra })
    expectPublicOnly(jwk ?? {})
  })

  it('leaves kid out when none is configured', async () => {
    const [jwk] = (await publicJwks(loadApiKeyConfig(envFor('ES256'), 'publish').verifyingKeys)).keys
    expect(jwk).toBeDefined()
    expect(jwk).not.toHaveProperty('kid')
  })

  it.each([['RS256'], ['ES256'], ['EdDSA']] as const)('%s: a third party verifies an issued key with the published JWKS', async (alg) => {
    // Prepare
    const env = envFor(alg, { JWT_KID: 'k-1' })
    const issued = await issueApiKey(loadApiKeyConfig(env, 'sign'), { userId: 'u-1', companyId: 'acme' }, { nowSeconds: NOW })
    const jwks = await publicJwks(loadApiKeyConfig(env, 'publish').verifyingKeys)
    // Act
    const { payload } = await jwtVerify(issued.apikey, createLocalJWKSet({ keys: [...jwks.keys] }), { currentDate: new Date(NOW * 1000) })
    // Assess
    expect(payload.org_id).toBe('acme')
  })

  // Regression test, fixed since (src/lib/keys/key-material.ts:40 accepts an 'rsa-pss' key for PS256, but jose's exportJWK
  // cannot export an RSA-PSS KeyObject on Node 20: "Unsupported JWK Key Type", so the JWKS
  // endpoint fails on every request). Either fix satisfies this test: refuse the key at
  // load, or publish it.
  it('PS256 with an RSA-PSS key is refused at cold start or published', async () => {
    const env = { JWT_ALGORITHM: 'PS256', JWT_VERIFY_KEY: pemKeyPair('rsa-pss-2048').publicKey }
    let config: ApiKeyConfig
    try {
      config = loadApiKeyConfig(env, 'publish')
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_CONFIG', variable: 'JWT_VERIFY_KEY' })
      return
    }
    expect((await publicJwks(config.verifyingKeys)).keys).toMatchObject([{ kty: 'RSA', alg: 'PS256', use: 'sig' }])
  })
})
