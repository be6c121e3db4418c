/**
 * verifyApiKey's short cuts decide nothing on their own: the canonical-spelling
 * test without re-encoding, the memo of the last header that selected a key,
 * and the shape check a caller has already run. Each must give exactly the
 * answers the long way gives, whatever came before.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { loadApiKeyConfig, type ApiKeyConfig } from '../../../src/lib/keys/api-key-config'
import { isCanonicalBase64url, isCompactJws, verifyApiKey, type ApiKeyVerification } from '../../../src/lib/keys/verify-api-key'
import { b64url, segmentsOf, signRawJws } from '../../support/jws'
import { envFor, hmacSecret, randomHmacSecret } from '../../support/keys'

const NOW = 1_700_000_000
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

const outcome = (result: ApiKeyVerification): string => (result.valid ? `VALID ${result.identity.keyId} ${result.identity.kid}` : result.reason)
const claims = (jti: string): Record<string, unknown> => ({ sub: 'auth0|alice', org_id: 'acme', jti, iat: NOW, exp: NOW + 3600 })

describe('isCanonicalBase64url', () => {
  it('agrees with decoding and re-encoding, for any string of base64url characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: 1, maxLength: 90 }), (segment) => {
        expect(isCanonicalBase64url(segment)).toBe(Buffer.from(segment, 'base64url').toString('base64url') === segment)
      }),
      { numRuns: 2000 }
    )
  })

  it('agrees for every last character of every length class', () => {
    for (const prefix of ['', 'A', 'AB', 'ABC', 'ABCD', 'ABCDE', 'ABCDEF', 'ABCDEFG']) {
      for (const last of BASE64URL) {
        const segment = prefix + last
        expect(isCanonicalBase64url(segment), segment).toBe(Buffer.from(segment, 'base64url').toString('base64url') === segment)
      }
    }
  })
})

describe('verifyApiKey: the memo of the last header changes no answer', () => {
  const secret = hmacSecret('HS256')
  const otherSecret = randomHmacSecret(32)
  const configs: Record<string, ApiKeyConfig> = {
    'k-1': loadApiKeyConfig(envFor('HS256', { JWT_KID: 'k-1' }), 'verify'),
    // The same kid and header text, another secret: a token one accepts, the other must refuse.
    'k-1 other secret': loadApiKeyConfig({ ...envFor('HS256', { JWT_KID: 'k-1' }), JWT_SECRET: otherSecret }, 'verify'),
    'no kid': loadApiKeyConfig(envFor('HS256'), 'verify'),
    'k-2': loadApiKeyConfig(envFor('HS256', { JWT_KID: 'k-2' }), 'verify')
  }
  const headers: Array<Record<string, unknown>> = [
    { alg: 'HS256', typ: 'JWT', kid: 'k-1' },
    { alg: 'HS256', kid: 'k-1' },
    { alg: 'HS256', typ: 'jwt', kid: 'k-1' },
    { alg: 'HS256', typ: 'JWT' },
    { alg: 'HS256', typ: 'JWT', kid: 'k-2' },
    { alg: 'HS384', typ: 'JWT', kid: 'k-1' },
    { alg: 'HS256', typ: 'JOSE', kid: 'k-1' },
    { alg: 'HS256', typ: 'JWT', kid: 'k-1', crit: ['exp'] },
    { alg: 'none', typ: 'JWT', kid: 'k-1' },
    { alg: 'HS256', typ: 'JWT', kid: 7 },
    { alg: 'HS256', typ: 'JWT', kid: 'k-1', ['__proto__']: { polluted: true } }
  ]
  const tokens: string[] = []
  for (const [i, header] of headers.entries()) {
    tokens.push(signRawJws('HS256', secret, header, claims(`key-${i}`)))
    tokens.push(signRawJws('HS256', otherSecret, header, claims(`other-${i}`)))
  }
  // A header no token in the pool has: verifying it first leaves the memo holding something else.
  const reset = signRawJws('HS256', secret, { alg: 'HS256', typ: 'JWT', kid: 'k-1', reset: true }, claims('reset'))
  const isolated = (token: string, config: ApiKeyConfig): string => {
    verifyApiKey(reset, configs['k-1'] as ApiKeyConfig, NOW)
    verifyApiKey(reset, config, NOW)
    return outcome(verifyApiKey(token, config, NOW))
  }

  it('answers each token in a random sequence as it answers it alone', () => {
    const configNames = Object.keys(configs)
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(tokens.length - 1), fc.nat(configNames.length - 1)), { minLength: 1, maxLength: 30 }), (steps) => {
        const answers = steps.map(([t, c]) => outcome(verifyApiKey(tokens[t] as string, configs[configNames[c] as string] as ApiKeyConfig, NOW)))
        const alone = steps.map(([t, c]) => isolated(tokens[t] as string, configs[configNames[c] as string] as ApiKeyConfig))
        expect(answers).toEqual(alone)
      }),
      { numRuns: 300 }
    )
  })

  it('refuses, under a config whose key differs, a token whose header it has just seen accepted', () => {
    const token = tokens[0] as string
    expect(outcome(verifyApiKey(token, configs['k-1'] as ApiKeyConfig, NOW))).toBe('VALID key-0 k-1')
    expect(outcome(verifyApiKey(token, configs['k-1 other secret'] as ApiKeyConfig, NOW))).toBe('BAD_SIGNATURE')
    expect(outcome(verifyApiKey(token, configs['k-2'] as ApiKeyConfig, NOW))).toBe('UNKNOWN_KID')
    expect(outcome(verifyApiKey(token, configs['k-1'] as ApiKeyConfig, NOW))).toBe('VALID key-0 k-1')
  })

  it('still checks the signature and the claims of every token under a remembered header', () => {
    const config = configs['k-1'] as ApiKeyConfig
    const [header, payload] = segmentsOf(tokens[0] as string)
    verifyApiKey(tokens[0] as string, config, NOW)
    expect(outcome(verifyApiKey(`${header}.${payload}.${b64url('x'.repeat(32))}`, config, NOW))).toBe('BAD_SIGNATURE')
    expect(
      outcome(
        verifyApiKey(
          signRawJws('HS256', secret, JSON.parse(Buffer.from(header, 'base64url').toString()), { ...claims('late'), exp: NOW - 60 }),
          config,
          NOW
        )
      )
    ).toBe('EXPIRED')
  })
})

describe('verifyApiKey: a shape check already run is not run twice, and never wrongly trusted', () => {
  const config = loadApiKeyConfig(envFor('HS256', { JWT_KID: 'k-1' }), 'verify')
  const valid = signRawJws('HS256', hmacSecret('HS256'), { alg: 'HS256', typ: 'JWT', kid: 'k-1' }, claims('key-1'))

  it('isCompactJws passes exactly three non-empty base64url segments', () => {
    expect(isCompactJws(valid)).toBe(true)
    for (const bad of ['', 'a.b', 'a.b.c.d', '.b.c', 'a..c', 'a.b.', `${valid} `, ` ${valid}`, `${valid}=`, valid.replace('.', '+'), 'a.b.c\n']) {
      expect(isCompactJws(bad), JSON.stringify(bad)).toBe(false)
    }
  })

  it('gives verifyApiKey the same answer whatever was checked just before', () => {
    const pool = [valid, `${valid}x`, `${valid} `, 'not.a-valid.token!', 'a.b', valid.replace(/.$/, '+'), '']
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...pool), fc.constantFrom(...pool), fc.boolean()), { maxLength: 20 }), (steps) => {
        for (const [checked, verified, check] of steps) {
          if (check) isCompactJws(checked)
          const answer = outcome(verifyApiKey(verified, config, NOW))
          // The long way: a copy of the string, which no check has seen.
          const copy = Buffer.from(verified, 'utf8').toString('utf8')
          verifyApiKey('reset', config, NOW)
          expect(answer).toBe(outcome(verifyApiKey(copy, config, NOW)))
        }
      }),
      { numRuns: 300 }
    )
  })
})
