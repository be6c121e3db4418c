/**
 * What `npm start` decides about Stripe before anything starts
 * (src/local/local-stripe-settings.ts): off by default, the local stand-in
 * without STRIPE_API_BASE, that Stripe (with its key and webhook secret) with it.
 */
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/lib/runtime/errors'
import { planLocalStripe, sellablePrices, stripeStatePath } from '../../src/local/local-stripe-settings'

const WHSEC = 'whsec_0123456789abcdef'
const KEY = 'sk_test_0123456789abcdef'

function refusal(env: Record<string, string>): ConfigError {
  try {
    planLocalStripe(env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  return expect.unreachable('expected a ConfigError') as never
}

describe('planLocalStripe', () => {
  it('is off without APP_PAYMENT_PROVIDER, or with none in any case, whatever else is set', () => {
    expect(planLocalStripe({})).toEqual({ kind: 'off' })
    expect(planLocalStripe({ APP_PAYMENT_PROVIDER: ' NONE ', STRIPE_API_BASE: 'not a url', STRIPE_ALLOWED_STATUSES: 'nope' })).toEqual({
      kind: 'off'
    })
  })

  it('is off for another provider the functions know, such as custom, which needs no Stripe', () => {
    expect(planLocalStripe({ APP_PAYMENT_PROVIDER: 'custom', STRIPE_API_BASE: 'http://stripe.example' })).toEqual({ kind: 'off' })
  })

  it('uses the local stand-in in stripe mode without STRIPE_API_BASE', () => {
    expect(planLocalStripe({ APP_PAYMENT_PROVIDER: 'Stripe' })).toEqual({ kind: 'stand-in', ignored: [] })
  })

  it('names the Stripe secrets the stand-in replaces, secret-store names included', () => {
    const plan = planLocalStripe({
      APP_PAYMENT_PROVIDER: 'stripe',
      STRIPE_API_KEY: KEY,
      STRIPE_WEBHOOK_SECRET_SSM_PARAMETER: '/portal/stripe-webhook-secret',
      STRIPE_WEBHOOK_SECRET: ' '
    })
    expect(plan).toEqual({ kind: 'stand-in', ignored: ['STRIPE_API_KEY', 'STRIPE_WEBHOOK_SECRET_SSM_PARAMETER'] })
  })

  it('judges the other Stripe settings even with the stand-in', () => {
    expect(refusal({ APP_PAYMENT_PROVIDER: 'stripe', STRIPE_ALLOWED_STATUSES: 'active,paid' }).variable).toBe('STRIPE_ALLOWED_STATUSES')
    expect(refusal({ APP_PAYMENT_PROVIDER: 'stripe', STRIPE_TIMEOUT_MS: '10' }).variable).toBe('STRIPE_TIMEOUT_MS')
  })

  it('refuses an unknown provider, naming APP_PAYMENT_PROVIDER', () => {
    const error = refusal({ APP_PAYMENT_PROVIDER: 'paypal' })
    expect(error.variable).toBe('APP_PAYMENT_PROVIDER')
    expect(error.message).toMatch(/stripe or none/)
  })

  it('uses STRIPE_API_BASE when set, with the key and webhook secret from the environment', () => {
    const env = { APP_PAYMENT_PROVIDER: 'stripe', STRIPE_API_BASE: 'https://api.stripe.com', STRIPE_API_KEY: KEY, STRIPE_WEBHOOK_SECRET: WHSEC }
    expect(planLocalStripe(env)).toEqual({ kind: 'external', apiBase: 'https://api.stripe.com' })
  })

  it('with STRIPE_API_BASE, refuses a missing or malformed key or webhook secret, and a base that is neither https nor loopback', () => {
    const base = { APP_PAYMENT_PROVIDER: 'stripe', STRIPE_API_BASE: 'http://127.0.0.1:12111' }
    const missingKey = refusal({ ...base, STRIPE_WEBHOOK_SECRET: WHSEC })
    expect(missingKey.variable).toBe('STRIPE_API_KEY')
    expect(missingKey.message).toMatch(/unset STRIPE_API_BASE to use the local stand-in/)
    expect(refusal({ ...base, STRIPE_API_KEY: 'pk_test_0123456789', STRIPE_WEBHOOK_SECRET: WHSEC }).variable).toBe('STRIPE_API_KEY')
    expect(refusal({ ...base, STRIPE_API_KEY: KEY }).variable).toBe('STRIPE_WEBHOOK_SECRET')
    expect(refusal({ ...base, STRIPE_API_KEY: KEY, STRIPE_WEBHOOK_SECRET: 'secret' }).variable).toBe('STRIPE_WEBHOOK_SECRET')
    expect(refusal({ ...base, STRIPE_API_BASE: 'http://stripe.example', STRIPE_API_KEY: KEY, STRIPE_WEBHOOK_SECRET: WHSEC }).variable).toBe(
      'STRIPE_API_BASE'
    )
  })

  it('never quotes a secret in its refusal', () => {
    const error = refusal({
      APP_PAYMENT_PROVIDER: 'stripe',
      STRIPE_API_BASE: 'https://api.stripe.com',
      STRIPE_API_KEY: 'sk_oops!',
      STRIPE_WEBHOOK_SECRET: WHSEC
    })
    expect(error.message).not.toContain('sk_oops!')
  })
})

describe('sellablePrices and stripeStatePath', () => {
  it('offers the active recurring prices of the default catalog, labelled for people', () => {
    expect(sellablePrices()).toEqual([
      { id: 'price_basic', label: 'Basic monthly: $19.00 a month' },
      { id: 'price_basic_yearly', label: 'Basic yearly: $190.00 a year' },
      { id: 'price_metered', label: 'Per API call: $0.01 per unit a month' }
    ])
  })

  it('keeps the stand-in state in the state folder', () => {
    expect(stripeStatePath('.local-2')).toBe('.local-2/stripe.json')
  })
})
