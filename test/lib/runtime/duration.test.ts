import { describe, expect, it } from 'vitest'
import { parseDurationSeconds } from '../../../src/lib/runtime/duration'

describe('parseDurationSeconds', () => {
  it.each([
    ['3600', 3600],
    ['0', 0],
    ['30d', 2_592_000],
    ['12h', 43_200],
    ['15m', 900],
    ['45s', 45],
    ['2 weeks', 1_209_600],
    ['1w', 604_800],
    ['1y', 31_557_600],
    ['3 days', 259_200],
    ['90 min', 5400]
  ])('parses %j as %i seconds', (input, expected) => {
    expect(parseDurationSeconds(input)).toBe(expected)
  })

  it('ignores case and surrounding blanks', () => {
    expect(parseDurationSeconds('  30D ')).toBe(2_592_000)
    expect(parseDurationSeconds('12 Hours')).toBe(43_200)
  })

  it.each([[0], [1], [86_400]])('accepts the whole number %i as seconds', (input) => {
    expect(parseDurationSeconds(input)).toBe(input)
  })

  it.each([[-1], [1.5], [Number.NaN], [Number.POSITIVE_INFINITY], [2 ** 53]])('refuses the number %d', (input) => {
    expect(parseDurationSeconds(input)).toBeUndefined()
  })

  it.each([
    [''],
    ['   '],
    ['soon'],
    ['d'],
    ['1.5h'],
    ['-1'],
    ['-1d'],
    ['+5'],
    ['30 dayz'],
    ['10ms'],
    ['1h30m'],
    ['1e3'],
    ['0x10'],
    // 13 digits: beyond the 12 the parser reads
    ['1234567890123'],
    // parses, but the product is not a safe integer
    ['999999999999y']
  ])('refuses %j', (input) => {
    expect(parseDurationSeconds(input)).toBeUndefined()
  })
})
