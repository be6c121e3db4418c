import { describe, expect, it } from 'vitest'
import { isIdentifier, MAX_ID_LENGTH } from '../../../src/lib/keys/identifier'

describe('isIdentifier', () => {
  it.each(['a', 'auth0|alice', 'x'.repeat(MAX_ID_LENGTH)])('accepts %j', (value) => {
    expect(isIdentifier(value)).toBe(true)
  })

  it.each([[''], ['x'.repeat(MAX_ID_LENGTH + 1)], [42], [null], [undefined], [['acme']], [{ id: 'acme' }]])('refuses %j', (value) => {
    expect(isIdentifier(value)).toBe(false)
  })
})
