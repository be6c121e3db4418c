/**
 * readAuthorizerEvent reads `Bearer <compact JWS>` without tokenFromAuthorization's
 * regex: for any Authorization value, the token it reads must be the one
 * tokenFromAuthorization reads.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readAuthorizerEvent } from '../../../src/lib/authorizer/authorizer-event'
import { tokenFromAuthorization } from '../../../src/lib/http/bearer-token'
import { authorizerEvent } from '../../support/events'
import { requestAuthorizerEvent, tokenAuthorizerEvent } from '../../support/rest-api-events'

const JWS = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl'

/** Values near the short cut's edge: the prefix's case and spacing, whitespace of every kind, extra segments. */
const authorization = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('Bearer ', 'bearer ', 'BEARER ', 'Bearer  ', 'Bearer\t', 'Bearer', '', ' Bearer ', 'Basic '),
      fc.constantFrom(JWS, `${JWS}.extra`, 'a.b', 'a..b', '.a.b', 'a.b.', 'a.b.c', '', 'x'),
      fc.constantFrom('', ' ', '\t', '\n', '\u00a0', '\u2028', '\ufeff', ' x', '=', '+', '/'),
      fc.constantFrom('', ' ', '\u00a0')
    )
    .map(([prefix, token, after, before]) => `${before}${prefix}${token}${after}`),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('a', 'B', '0', '-', '_', '.', ' ', '\t', '+', '='), maxLength: 30 }).map((rest) => `Bearer ${rest}`)
)

describe('readAuthorizerEvent: the Bearer short cut reads what tokenFromAuthorization reads', () => {
  it('for HTTP API (payload 2.0) events', () => {
    fc.assert(
      fc.property(authorization, (value) => {
        expect(readAuthorizerEvent(authorizerEvent({ headers: { authorization: value } })).token).toBe(tokenFromAuthorization(value))
      }),
      { numRuns: 3000 }
    )
  })

  it('for REST API TOKEN and REQUEST events', () => {
    fc.assert(
      fc.property(authorization, (value) => {
        expect(readAuthorizerEvent(tokenAuthorizerEvent(value)).token).toBe(tokenFromAuthorization(value))
        expect(readAuthorizerEvent(requestAuthorizerEvent({ headers: { Authorization: value } })).token).toBe(tokenFromAuthorization(value))
      }),
      { numRuns: 1000 }
    )
  })

  it('takes the short cut for the usual shape, and leaves everything else to tokenFromAuthorization', () => {
    expect(readAuthorizerEvent(authorizerEvent({ headers: { authorization: `Bearer ${JWS}` } })).token).toBe(JWS)
    expect(readAuthorizerEvent(authorizerEvent({ headers: { authorization: `Bearer  ${JWS} ` } })).token).toBe(JWS)
    expect(readAuthorizerEvent(authorizerEvent({ headers: { authorization: `Bearer ${JWS} x` } })).token).toBeUndefined()
    expect(readAuthorizerEvent(authorizerEvent({ headers: { authorization: 'Bearer ' } })).token).toBeUndefined()
  })
})
