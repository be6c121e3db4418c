/**
 * Reading LOG_ALLOW_SAMPLE_RATE, and the draw that decides whether an allow
 * is logged.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DEFAULT_LOG_ALLOW_SAMPLE_RATE, readAllowSampleRate, sampled } from '../../../src/lib/authorizer/decision-log'
import { ConfigError } from '../../../src/lib/runtime/errors'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('readAllowSampleRate', () => {
  it('defaults to 0.01 when unset or blank', () => {
    expect(DEFAULT_LOG_ALLOW_SAMPLE_RATE).toBe(0.01)
    expect(readAllowSampleRate({})).toBe(0.01)
    expect(readAllowSampleRate({ LOG_ALLOW_SAMPLE_RATE: '' })).toBe(0.01)
    expect(readAllowSampleRate({ LOG_ALLOW_SAMPLE_RATE: '   ' })).toBe(0.01)
  })

  it.each([
    ['0', 0],
    ['1', 1],
    ['1.0', 1],
    ['0.05', 0.05],
    ['.5', 0.5],
    [' 0.25 ', 0.25],
    ['0.000001', 0.000001]
  ])('reads %j as %d', (raw, rate) => {
    expect(readAllowSampleRate({ LOG_ALLOW_SAMPLE_RATE: raw })).toBe(rate)
  })

  it.each([['abc'], ['1.5'], ['1.01'], ['-0'], ['-0.1'], ['+0.5'], ['10%'], ['1e-3'], ['NaN'], ['Infinity'], ['0x1'], ['2'], ['0.'], ['0,5']])(
    'refuses %j with a ConfigError naming the variable, never its value',
    (raw) => {
      let error: unknown
      try {
        readAllowSampleRate({ LOG_ALLOW_SAMPLE_RATE: raw })
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(ConfigError)
      expect(error).toMatchObject({ code: 'ERR_CONFIG', variable: 'LOG_ALLOW_SAMPLE_RATE' })
      expect((error as Error).message).toBe(
        'Invalid configuration: LOG_ALLOW_SAMPLE_RATE must be a number from 0 to 1 (the share of allow decisions logged)'
      )
    }
  )
})

describe('sampled', () => {
  it('is true exactly when Math.random() falls below the rate', () => {
    const random = vi.spyOn(Math, 'random')
    const draws: Array<[number, number, boolean]> = [
      [0.1, 0.0999, true],
      [0.1, 0.1, false],
      [0.1, 0.5, false],
      [0, 0, false],
      [1, 0.999_999_999, true],
      [0.5, 0.25, true]
    ]
    for (const [rate, draw, expected] of draws) {
      random.mockReturnValueOnce(draw)
      expect(sampled(rate), `rate ${rate}, draw ${draw}`).toBe(expected)
    }
  })

  it('logs about the configured share of calls (binomial bounds at six sigma)', () => {
    const calls = 20_000
    const rate = 0.1
    let logged = 0
    for (let i = 0; i < calls; i++) if (sampled(rate)) logged++
    const sigma = Math.sqrt(calls * rate * (1 - rate))
    expect(Math.abs(logged - calls * rate)).toBeLessThan(6 * sigma)
  })
})
