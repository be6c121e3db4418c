/** moesifSettingsFromEnv: the MOESIF_* variables, parsed and validated. */
import { describe, expect, it } from 'vitest'
import { moesifSettingsFromEnv, type MoesifSettings } from '../../../src/lib/moesif/settings'
import { ConfigError } from '../../../src/lib/runtime/errors'

function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

describe('moesifSettingsFromEnv', () => {
  it('applies defaults, treating empty values as unset', () => {
    // Act
    const settings = moesifSettingsFromEnv({
      MOESIF_APPLICATION_ID: '',
      MOESIF_BASE_URI: '',
      MOESIF_MAX_WAIT_MS: ' ',
      MOESIF_LOG_BODY: '',
      MOESIF_RULES_TTL: ''
    })

    // Assess
    expect(settings).toEqual({
      applicationId: undefined,
      baseUri: 'https://api.moesif.net',
      maxWaitMs: 100,
      logBody: true,
      maskFields: [],
      rulesTtlMs: 60_000
    })
    expect(Object.isFrozen(settings)).toBe(true)
  })

  it('reads every variable', () => {
    // Act
    const settings = moesifSettingsFromEnv({
      MOESIF_APPLICATION_ID: 'app-id',
      MOESIF_BASE_URI: 'http://127.0.0.1:9999/',
      MOESIF_MAX_WAIT_MS: '0',
      MOESIF_LOG_BODY: 'FALSE',
      MOESIF_MASK_FIELDS: 'password, secret,,token ',
      MOESIF_RULES_TTL: '2'
    })

    // Assess
    expect(settings).toEqual({
      applicationId: 'app-id',
      baseUri: 'http://127.0.0.1:9999',
      maxWaitMs: 0,
      logBody: false,
      maskFields: ['password', 'secret', 'token'],
      rulesTtlMs: 2_000
    })
  })

  it.each([
    ['1', true],
    ['0', false],
    ['true', true],
    ['false', false]
  ])('accepts MOESIF_LOG_BODY=%s', (value, expected) => {
    expect(moesifSettingsFromEnv({ MOESIF_LOG_BODY: value }).logBody).toBe(expected)
  })

  it.each([
    ['1', 1_000],
    [' 60 ', 60_000],
    ['86400', 86_400_000]
  ])('accepts MOESIF_RULES_TTL=%s (seconds)', (value, expectedMs) => {
    expect(moesifSettingsFromEnv({ MOESIF_RULES_TTL: value }).rulesTtlMs).toBe(expectedMs)
  })

  it('rejects MOESIF_RULES_TTL=0: rules are never refetched on every call', () => {
    expect(() => moesifSettingsFromEnv({ MOESIF_RULES_TTL: '0' })).toThrow(
      new ConfigError('MOESIF_RULES_TTL', 'a whole number of seconds from 1 to 86400')
    )
  })

  it.each([
    ['MOESIF_MAX_WAIT_MS', '-1'],
    ['MOESIF_MAX_WAIT_MS', '1.5'],
    ['MOESIF_MAX_WAIT_MS', '1e3'],
    ['MOESIF_MAX_WAIT_MS', 'soon'],
    ['MOESIF_MAX_WAIT_MS', '99999999999999999999'],
    ['MOESIF_LOG_BODY', 'yes'],
    ['MOESIF_LOG_BODY', '2'],
    ['MOESIF_BASE_URI', 'not a url'],
    ['MOESIF_BASE_URI', 'ftp://api.moesif.net'],
    ['MOESIF_RULES_TTL', '-5'],
    ['MOESIF_RULES_TTL', '1.5'],
    ['MOESIF_RULES_TTL', '2s'],
    ['MOESIF_RULES_TTL', '86401'],
    ['MOESIF_RULES_TTL', 'hourly']
  ])('rejects %s=%s with a ConfigError naming the variable', (variable, value) => {
    // Act
    const read = (): MoesifSettings => moesifSettingsFromEnv({ MOESIF_APPLICATION_ID: 'app-id', [variable]: value })

    // Assess
    expect(read).toThrow(ConfigError)
    expect(read).toThrow(new RegExp(`^Invalid configuration: ${variable} must be `))
    const error = catchError(read)
    expect(error).toMatchObject({ variable, code: 'ERR_CONFIG', statusCode: 500, expose: false })
    expect((error as Error).message).not.toContain(value) // the value may be a credential
  })
})
