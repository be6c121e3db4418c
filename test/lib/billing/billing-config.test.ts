import { describe, expect, it } from 'vitest'
import { billingSecrets, loadBillingConfig } from '../../../src/lib/billing/billing-config'
import { ConfigError } from '../../../src/lib/runtime/errors'

const STRIPE = { APP_PAYMENT_PROVIDER: 'stripe', STRIPE_API_KEY: 'sk_test_0123456789abcdef' }

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadBillingConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  return expect.unreachable('expected a ConfigError')
}

describe('loadBillingConfig', () => {
  it('is off (none) when APP_PAYMENT_PROVIDER is unset, empty or none, and reads nothing Stripe then', () => {
    for (const env of [
      {},
      { APP_PAYMENT_PROVIDER: '' },
      { APP_PAYMENT_PROVIDER: 'None' },
      { APP_PAYMENT_PROVIDER: 'none', STRIPE_API_BASE: 'garbage' }
    ]) {
      expect(loadBillingConfig(env)).toEqual({ provider: 'none', stripe: undefined })
    }
  })

  it('defaults Stripe to its real API, active and trialing subscriptions, and a 5 s timeout', () => {
    const config = loadBillingConfig(STRIPE)
    expect(config.provider).toBe('stripe')
    expect(config.stripe?.apiBase.href).toBe('https://api.stripe.com/')
    expect(config.stripe?.allowedStatuses).toEqual(['active', 'trialing'])
    expect(config.stripe?.timeoutMs).toBe(5000)
    expect(Object.isFrozen(config.stripe)).toBe(true)
  })

  it('accepts a loopback stand-in over http and a custom status list', () => {
    const config = loadBillingConfig({ ...STRIPE, STRIPE_API_BASE: 'http://127.0.0.1:12111', STRIPE_ALLOWED_STATUSES: 'active, past_due' })
    expect(config.stripe?.apiBase.port).toBe('12111')
    expect(config.stripe?.allowedStatuses).toEqual(['active', 'past_due'])
  })

  it.each([
    [{ APP_PAYMENT_PROVIDER: 'paypal' }, 'APP_PAYMENT_PROVIDER'],
    [{ APP_PAYMENT_PROVIDER: 'stripe' }, 'STRIPE_API_KEY'],
    [{ ...STRIPE, STRIPE_API_KEY: 'pk_test_publishable0123' }, 'STRIPE_API_KEY'],
    [{ ...STRIPE, STRIPE_API_BASE: 'http://stripe.example.com' }, 'STRIPE_API_BASE'],
    [{ ...STRIPE, STRIPE_API_BASE: 'https://api.stripe.com/v1' }, 'STRIPE_API_BASE'],
    [{ ...STRIPE, STRIPE_API_BASE: 'not a url' }, 'STRIPE_API_BASE'],
    [{ ...STRIPE, STRIPE_ALLOWED_STATUSES: 'active,paid' }, 'STRIPE_ALLOWED_STATUSES'],
    [{ ...STRIPE, STRIPE_TIMEOUT_MS: '5s' }, 'STRIPE_TIMEOUT_MS']
  ])('refuses %j, naming %s and never the key', (env, variable) => {
    const error = refusal(env as Record<string, string>)
    expect(error.variable).toBe(variable)
    expect(error.message).not.toContain('0123456789abcdef')
  })
})

describe('billingSecrets', () => {
  it('asks for the Stripe API key in stripe mode only', () => {
    expect(billingSecrets({ APP_PAYMENT_PROVIDER: 'stripe' })).toEqual(['STRIPE_API_KEY'])
    expect(billingSecrets({ APP_PAYMENT_PROVIDER: 'STRIPE' })).toEqual(['STRIPE_API_KEY'])
    expect(billingSecrets({})).toEqual([])
  })
})

describe('custom billing', () => {
  it('is APP_PAYMENT_PROVIDER=custom, in any case, reads nothing Stripe, and needs no Stripe secret', () => {
    expect(loadBillingConfig({ APP_PAYMENT_PROVIDER: 'Custom', STRIPE_API_BASE: 'garbage' })).toEqual({ provider: 'custom', stripe: undefined })
    expect(billingSecrets({ APP_PAYMENT_PROVIDER: 'custom' })).toEqual([])
  })
})
