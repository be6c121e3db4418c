/**
 * Billing's items in the key table, on dynalite: first writer wins, the
 * remembered customer bridges Stripe's search lag for an hour only, and no
 * billing item ever shows up as a company's key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBilling } from '../../../src/lib/billing/billing'
import { loadBillingConfig } from '../../../src/lib/billing/billing-config'
import {
  billingRecordsFromEnv,
  DynamoBillingRecords,
  REMEMBERED_CUSTOMER_MS,
  type CustomRegistration
} from '../../../src/lib/billing/billing-records'
import { startStripeStandIn, type StripeStandIn } from '../../../src/local/stripe/stand-in'
import { startKeyDatabase, type KeyDatabase } from '../../support/dynalite'

let db: KeyDatabase
let stripe: StripeStandIn
beforeAll(async () => {
  ;[db, stripe] = await Promise.all([startKeyDatabase(), startStripeStandIn()])
})
afterAll(async () => {
  await db?.close()
  await stripe?.close()
})

async function freshRecords(nowMs: () => number = Date.now) {
  const { store, tableName } = await db.newStore()
  return { store, records: new DynamoBillingRecords(() => db.client, tableName, { nowMs }) }
}

const registration = (fields: Partial<CustomRegistration> = {}): CustomRegistration => ({
  companyId: 'auth0|alice',
  planId: 'prod_basic',
  priceId: 'price_basic',
  subscriptionId: 'sub_custom_1',
  periodStart: '2026-01-01T00:00:00.000Z',
  periodEnd: '2026-02-01T00:00:00.000Z',
  registeredAt: '2026-01-01T00:00:00.000Z',
  syncedAt: undefined,
  ...fields
})

describe('remembered customers', () => {
  it('keeps the first customer remembered for an email (any case), for an hour', async () => {
    let now = 1_800_000_000_000
    const { records } = await freshRecords(() => now)
    expect(await records.customerForEmail('alice@acme.test')).toBeUndefined()
    expect(await records.rememberCustomer('Alice@ACME.test', 'cus_first')).toBe('cus_first')
    expect(await records.rememberCustomer('alice@acme.test', 'cus_second')).toBe('cus_first')
    expect(await records.customerForEmail('alice@acme.test')).toBe('cus_first')
    now += REMEMBERED_CUSTOMER_MS + 1
    // Stripe caught up long ago: a customer it does not show any more was deleted.
    expect(await records.customerForEmail('alice@acme.test')).toBeUndefined()
    expect(await records.rememberCustomer('alice@acme.test', 'cus_third')).toBe('cus_third')
  })
})

describe('registrations', () => {
  it('records a Stripe checkout once', async () => {
    const { records } = await freshRecords()
    const first = {
      sessionId: 'cs_test_1',
      customerId: 'cus_a',
      subscriptionId: 'sub_1',
      status: 'complete',
      customerEmail: 'a@acme.test',
      registeredAt: 'x'
    }
    expect(await records.recordStripeRegistration(first)).toEqual(first)
    expect(await records.recordStripeRegistration({ ...first, customerId: 'cus_b' })).toEqual(first)
    expect(await records.stripeRegistration('cs_test_1')).toEqual(first)
    expect(await records.stripeRegistration('cs_test_2')).toBeUndefined()
  })

  it('claims a custom registration once per company and price, and keeps the latest per company', async () => {
    const { records } = await freshRecords()
    expect(await records.latestCustomRegistration('auth0|alice')).toBeUndefined()
    const claimed = await records.claimCustomRegistration(registration())
    expect(await records.claimCustomRegistration(registration({ subscriptionId: 'sub_custom_other' }))).toEqual(claimed)
    await records.saveCustomRegistration({ ...claimed, syncedAt: '2026-01-01T00:00:01.000Z' })
    expect(await records.customRegistration('auth0|alice', 'price_basic')).toMatchObject({ syncedAt: '2026-01-01T00:00:01.000Z' })
    await records.claimCustomRegistration(registration({ priceId: 'price_metered', planId: 'prod_metered', subscriptionId: 'sub_custom_2' }))
    expect(await records.latestCustomRegistration('auth0|alice')).toMatchObject({ subscriptionId: 'sub_custom_2' })
    // Syncing the older one later does not make it the latest again.
    await records.saveCustomRegistration({ ...claimed, syncedAt: '2026-01-01T00:00:02.000Z' })
    expect(await records.latestCustomRegistration('auth0|alice')).toMatchObject({ subscriptionId: 'sub_custom_2' })
  })

  it("never shows up among a company's keys (no companyId/createdAt on billing items)", async () => {
    const { store, records } = await freshRecords()
    await records.rememberCustomer('auth0|alice', 'cus_a')
    await records.claimCustomRegistration(registration())
    await records.recordStripeRegistration({
      sessionId: 'cs_test_1',
      customerId: 'auth0|alice',
      subscriptionId: 's',
      status: 'complete',
      customerEmail: 'e',
      registeredAt: 'r'
    })
    expect(await store.listKeys('auth0|alice')).toEqual([])
  })
})

describe('billing with records', () => {
  it('stripe mode: a remembered customer is found while Stripe does not show it', async () => {
    const { tableName } = await db.newStore()
    const env = { KEYS_TABLE: tableName, DYNAMODB_ENDPOINT: db.endpoint, AWS_REGION: 'local' }
    const records = billingRecordsFromEnv(env)!
    const billing = await createBilling(
      loadBillingConfig({ APP_PAYMENT_PROVIDER: 'stripe', STRIPE_API_KEY: stripe.apiKey, STRIPE_API_BASE: stripe.url }),
      { records }
    )
    const identity = { userId: 'auth0|lagging', companyId: 'auth0|lagging', email: 'lagging@acme.test', emailVerified: true }
    expect(await billing.companyOf(identity)).toBeUndefined()
    await records.rememberCustomer('lagging@acme.test', 'cus_madeButNotShownYet')
    expect(await billing.companyOf(identity)).toBe('cus_madeButNotShownYet')
  })

  it('custom mode: the company is the sub, and new keys need a registration (402 before)', async () => {
    const { tableName } = await db.newStore()
    const records = billingRecordsFromEnv({ KEYS_TABLE: tableName, DYNAMODB_ENDPOINT: db.endpoint, AWS_REGION: 'local' })!
    const billing = await createBilling(loadBillingConfig({ APP_PAYMENT_PROVIDER: 'custom' }), { records })
    const identity = { userId: 'auth0|alice', companyId: 'acme', email: 'alice@acme.test', emailVerified: undefined }
    expect(billing.provider).toBe('custom')
    expect(await billing.companyOf(identity)).toBe('auth0|alice')
    await expect(billing.holderForNewKey(identity)).rejects.toMatchObject({ statusCode: 402, code: 'ERR_NO_SUBSCRIPTION' })
    await records.claimCustomRegistration(registration())
    expect(await billing.holderForNewKey(identity)).toEqual({
      owner: { userId: 'auth0|alice', companyId: 'auth0|alice' },
      portalUserId: 'auth0|alice',
      email: 'alice@acme.test',
      plan: { subscriptionId: 'sub_custom_1', status: 'active', priceIds: ['price_basic'], productIds: ['prod_basic'] }
    })
    const withoutTable = await createBilling(loadBillingConfig({ APP_PAYMENT_PROVIDER: 'custom' }))
    await expect(withoutTable.holderForNewKey(identity)).rejects.toMatchObject({ code: 'ERR_CONFIG', variable: 'KEYS_TABLE' })
  })
})
