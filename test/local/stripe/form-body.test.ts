/** Stripe's bracket form encoding, as the SDK produces it. */
import { describe, expect, it } from 'vitest'
import { parseStripeForm } from '../../../src/local/stripe/form-body'

describe('parseStripeForm', () => {
  it('decodes nested hashes, numbered lists and [] lists', () => {
    const parsed = parseStripeForm(
      'email=a%2Bb%40acme.test&metadata[authUserId]=auth0%7Calice&line_items[0][price]=price_basic&line_items[0][quantity]=2&line_items[1][price]=price_metered&expand[]=customer&expand[]=subscription'
    )
    expect(parsed).toEqual({
      ok: true,
      params: {
        email: 'a+b@acme.test',
        metadata: { authUserId: 'auth0|alice' },
        line_items: [{ price: 'price_basic', quantity: '2' }, { price: 'price_metered' }],
        expand: ['customer', 'subscription']
      }
    })
  })

  it('keeps numeric metadata keys as keys, and gives no key a special meaning', () => {
    const parsed = parseStripeForm('metadata[0]=zero&__proto__[polluted]=yes')
    expect(parsed.ok && parsed.params.metadata).toEqual({ 0: 'zero' })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('refuses a key used as a value and as a hash, and malformed brackets', () => {
    expect(parseStripeForm('metadata=x&metadata[a]=b').ok).toBe(false)
    expect(parseStripeForm('metadata[a=b').ok).toBe(false)
  })
})
