import { describe, expect, it } from 'vitest'
import { readEnv, readList, requireEnv } from '../../../src/lib/runtime/env'
import { ConfigError } from '../../../src/lib/runtime/errors'

describe('readEnv', () => {
  it('returns the value, trimmed', () => {
    expect(readEnv({ JWT_ALGORITHM: ' RS256 \n' }, 'JWT_ALGORITHM')).toBe('RS256')
  })

  it.each([[''], ['   '], ['\t\n']])('treats %j as missing', (value) => {
    expect(readEnv({ JWT_ISSUER: value }, 'JWT_ISSUER')).toBeUndefined()
  })

  it('returns undefined for an unset variable', () => {
    expect(readEnv({}, 'JWT_ISSUER')).toBeUndefined()
  })

  it('falls back to the PLUGIN_ prefixed name for JWT_ variables', () => {
    expect(readEnv({ PLUGIN_JWT_ALGORITHM: 'ES256' }, 'JWT_ALGORITHM')).toBe('ES256')
  })

  it('prefers the plain name when both are set', () => {
    expect(readEnv({ JWT_ALGORITHM: 'RS256', PLUGIN_JWT_ALGORITHM: 'ES256' }, 'JWT_ALGORITHM')).toBe('RS256')
  })

  it('falls back to the PLUGIN_ name when the plain one is empty', () => {
    expect(readEnv({ JWT_ALGORITHM: '', PLUGIN_JWT_ALGORITHM: 'ES256' }, 'JWT_ALGORITHM')).toBe('ES256')
  })

  it('treats an empty PLUGIN_ value as missing too', () => {
    expect(readEnv({ PLUGIN_JWT_ALGORITHM: ' ' }, 'JWT_ALGORITHM')).toBeUndefined()
  })

  it('does not apply the PLUGIN_ prefix to other variables', () => {
    expect(readEnv({ PLUGIN_PORTAL_ISSUER: 'https://idp.example/' }, 'PORTAL_ISSUER')).toBeUndefined()
  })
})

describe('requireEnv', () => {
  it('returns a set value', () => {
    expect(requireEnv({ PLUGIN_JWT_SECRET: 'x' }, 'JWT_SECRET', 'the HMAC secret')).toBe('x')
  })

  it.each([[{}], [{ JWT_SECRET: '' }], [{ JWT_SECRET: '  ' }]])('throws a ConfigError naming the variable for %j', (env) => {
    // Act
    const act = (): string => requireEnv(env, 'JWT_SECRET', 'the HMAC secret')
    // Assess
    expect(act).toThrow(ConfigError)
    expect(act).toThrow(expect.objectContaining({ variable: 'JWT_SECRET', code: 'ERR_CONFIG', statusCode: 500, expose: false }))
  })
})

describe('readList', () => {
  it('splits on commas, trims items and drops empty ones', () => {
    expect(readList({ PORTAL_ORIGINS: ' https://a.example , ,https://b.example,' }, 'PORTAL_ORIGINS')).toEqual([
      'https://a.example',
      'https://b.example'
    ])
  })

  it.each([[{}], [{ PORTAL_ORIGINS: '' }], [{ PORTAL_ORIGINS: ' , ,' }]])('returns undefined for %j', (env) => {
    expect(readList(env, 'PORTAL_ORIGINS')).toBeUndefined()
  })
})
