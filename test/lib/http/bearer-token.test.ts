import { describe, expect, it } from 'vitest'
import { headerValue, tokenFromAuthorization } from '../../../src/lib/http/bearer-token'

describe('headerValue', () => {
  it('reads the header by its exact name', () => {
    expect(headerValue({ authorization: 'Bearer a' }, 'authorization')).toBe('Bearer a')
  })

  it.each([['Authorization'], ['AUTHORIZATION'], ['aUtHoRiZaTiOn']])('finds %s case-insensitively', (name) => {
    expect(headerValue({ [name]: 'Bearer a', accept: '*/*' }, 'authorization')).toBe('Bearer a')
  })

  it.each([[null], [undefined], [{}], [{ accept: '*/*' }], [{ authorization: undefined }]])('returns undefined for %j', (headers) => {
    expect(headerValue(headers, 'authorization')).toBeUndefined()
  })

  it('skips an undefined exact match and finds another casing', () => {
    expect(headerValue({ authorization: undefined, Authorization: 'Bearer b' }, 'authorization')).toBe('Bearer b')
  })
})

describe('tokenFromAuthorization', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc.def.ghi', 'abc.def.ghi'],
    ['BEARER abc.def.ghi', 'abc.def.ghi'],
    ['Bearer    abc.def.ghi   ', 'abc.def.ghi'],
    ['Bearer\tabc.def.ghi', 'abc.def.ghi'],
    ['  Bearer abc.def.ghi', 'abc.def.ghi'],
    // The reference authorizer also takes the bare token.
    ['abc.def.ghi', 'abc.def.ghi'],
    [' abc.def.ghi ', 'abc.def.ghi']
  ])('takes the token out of %j', (value, expected) => {
    expect(tokenFromAuthorization(value)).toBe(expected)
  })

  it.each([[undefined], [''], ['   '], ['Bearer'], ['bearer '], ['Bearer a b'], ['Basic dXNlcjpwYXNz'], ['Token abc'], ['abc def']])(
    'returns undefined for %j',
    (value) => {
      expect(tokenFromAuthorization(value)).toBeUndefined()
    }
  )
})
