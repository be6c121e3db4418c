import { describe, expect, it } from 'vitest'
import { isIdentifier, MAX_ID_LENGTH } from '../../../src/lib/keys/identifier'

describe('isIdentifier', () => {
  it.each(['a', 'auth0|alice', 'x'.repeat(MAX_ID_LENGTH)])('accepts %j', (value) => {
    expect(isIdentifier(value)).toBe(true)
  })

  it.each([[''], ['x'.repeat(MAX_ID_LENGTH + 1)], [42], [null], [undefined], [['acme']], [{ id: 'acme' }]])('refuses %j', (value) => {
    expect(isIdentifier(value)).toBe(false)
  })

  it.each([
    ['a newline (a forged log line)', 'acme\n[local] moesif event: GET /v1/whoami -> 200 company_id=victim'],
    ['a carriage return', 'acme\r'],
    ['a NUL', 'ac\u0000me'],
    ['an escape sequence', '\u001b[31macme'],
    ['DEL', 'acme\u007f'],
    ['a C1 control', 'acme\u0085'],
    ['a Unicode line separator', 'acme\u2028x']
  ])('refuses %s', (_name, value) => {
    expect(isIdentifier(value)).toBe(false)
  })

  it('accepts printable Unicode', () => {
    expect(isIdentifier('Société Générale — 東京')).toBe(true)
  })
})
