/** The customer search query language subset. */
import { describe, expect, it } from 'vitest'
import { customerMatches, parseCustomerSearchQuery } from '../../../src/local/stripe/search-query'
import { newCustomer } from '../../../src/local/stripe/customer'

const alice = newCustomer({ email: 'Alice@Acme.test', name: 'Alice Doe', metadata: { authUserId: 'auth0|alice' }, created: 1_767_225_600 })

function matches(query: string): boolean {
  const parsed = parseCustomerSearchQuery(query)
  if (!parsed.ok) throw new Error(parsed.message)
  return customerMatches(parsed.query, alice)
}

describe('customer search queries', () => {
  it.each([
    ['email:"alice@acme.test"', true],
    ["email:'ALICE@ACME.TEST'", true],
    ['email:"bob@acme.test"', false],
    ['email~"acme"', true],
    ['metadata["authUserId"]:"auth0|alice"', true],
    ["metadata['authUserId']:'auth0|bob'", false],
    ['email:"alice@acme.test" AND name~"doe"', true],
    ['email:"bob@acme.test" OR name:"alice doe"', true],
    ['-email:"alice@acme.test"', false],
    ['phone:null', true],
    ['created>1767225599 AND created<=1767225600', true]
  ])('%s → %s', (query, expected) => {
    expect(matches(query)).toBe(expected)
  })

  it.each(['email=alice', 'email:alice', 'email:"a" AND name:"b" OR phone:"c"', 'shoe_size:"42"', 'email~"ab"', 'created:"yesterday"'])(
    'refuses %s',
    (query) => {
      expect(parseCustomerSearchQuery(query).ok).toBe(false)
    }
  )
})
