import { describe, expect, it } from 'vitest'
import { printable } from '../../src/local/printable'

describe('printable', () => {
  it('turns a value with a newline into one line, so it cannot print a line of its own', () => {
    const forged = 'acme\n[local] moesif event: GET /forged -> 200'
    expect(printable(forged)).toBe('acme\\n[local] moesif event: GET /forged -> 200')
    expect(printable(forged).split('\n')).toHaveLength(1)
  })

  it.each([
    ['\r', '\\r'],
    ['\t', '\\t'],
    ['\u0000', '\\x00'],
    ['\u001b[31m', '\\x1B[31m'],
    ['\u007f', '\\x7F'],
    ['\u0085', '\\x85'],
    ['\u009b', '\\x9B'],
    ['\u00ad', '\\xAD'],
    ['\u200b', '\\u200B'],
    ['\u2028', '\\u2028'],
    ['\u2029', '\\u2029'],
    ['\u202e', '\\u202E'],
    ['\u2066', '\\u2066'],
    ['\ufeff', '\\uFEFF'],
    ['\ud800', '\\uD800'],
    ['\ue000', '\\uE000'],
    ['\u{e0041}', '\\u{E0041}']
  ])('escapes %j as %s', (input, escaped) => {
    expect(printable(`a${input}b`)).toBe(`a${escaped}b`)
  })

  it('leaves printable text alone: letters of any script, emoji, spaces, quotes and backslashes', () => {
    const text = 'auth0|alice Ünïcødé 日本語 😀 "quoted" C:\\path\\x41 http://127.0.0.1:3000/'
    expect(printable(text)).toBe(text)
  })

  it('converts what is not a string', () => {
    expect(printable(42)).toBe('42')
    expect(printable(undefined)).toBe('undefined')
  })
})
