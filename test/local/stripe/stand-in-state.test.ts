/** The stand-in's state file: kept across restarts, owned by one stand-in at a time, found by other processes. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Stripe from 'stripe'
import { afterAll, describe, expect, it } from 'vitest'
import { connectToStripeStandIn, findRunningStripeStandIn, startStripeStandIn, StripeStandInBusyError } from '../../../src/local/stripe/stand-in'

const dir = mkdtempSync(join(tmpdir(), 'stripe-stand-in-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('statePath', () => {
  it('keeps keys, customers, subscriptions and events across a restart', async () => {
    const statePath = join(dir, 'restart', 'stripe.json')
    const first = await startStripeStandIn({ statePath })
    const client = new Stripe(first.apiKey, { ...first.stripeConfig(), maxNetworkRetries: 0 })
    const customer = await client.customers.create({ email: 'olga@acme.test', metadata: { authUserId: 'auth0|olga' } })
    const subscribed = await first.subscribe({ email: 'olga@acme.test', priceId: 'price_basic' })
    if (!subscribed.ok) throw new Error(subscribed.error.body.error.message)
    const { apiKey, webhookSecret } = first
    await first.close()

    expect(statSync(statePath).mode & 0o777).toBe(0o600)
    expect(findRunningStripeStandIn(statePath)).toBeUndefined()

    const second = await startStripeStandIn({ statePath })
    try {
      expect([second.apiKey, second.webhookSecret]).toEqual([apiKey, webhookSecret])
      const again = new Stripe(second.apiKey, { ...second.stripeConfig(), maxNetworkRetries: 0 })
      expect(await again.customers.retrieve(customer.id)).toMatchObject({ email: 'olga@acme.test', metadata: { authUserId: 'auth0|olga' } })
      expect((await again.customers.search({ query: 'email:"olga@acme.test"' })).data).toHaveLength(1)
      const subscriptions = await again.subscriptions.list({ customer: customer.id, status: 'all' })
      expect(subscriptions.data.map((subscription) => subscription.id)).toEqual([subscribed.value.subscription.id])
      expect(second.events.map((event) => event.type)).toEqual(['customer.created', 'customer.subscription.created'])
    } finally {
      await second.close()
    }
  })

  it('lets one stand-in own a state file; another process finds it and drives it over HTTP', async () => {
    const statePath = join(dir, 'shared', 'stripe.json')
    const owner = await startStripeStandIn({ statePath })
    try {
      await expect(startStripeStandIn({ statePath })).rejects.toThrow(StripeStandInBusyError)
      expect(findRunningStripeStandIn(statePath)).toMatchObject({ pid: process.pid, url: owner.url })

      const admin = connectToStripeStandIn(statePath)
      if (admin === undefined) throw new Error('the running stand-in was not found')
      const outcome = await admin.subscribe({ email: 'pat@acme.test', priceId: 'price_metered', metadata: { authUserId: 'auth0|pat' } })
      expect(outcome.ok).toBe(true)
      // The owner saw the change (one writer), and wrote it down.
      expect(Object.values(owner.state.customers).map((stored) => stored.object.id)).toHaveLength(1)
      const saved = JSON.parse(readFileSync(statePath, 'utf8')) as { customers: Record<string, unknown> }
      expect(Object.keys(saved.customers)).toHaveLength(1)
    } finally {
      await owner.close()
    }
    expect(connectToStripeStandIn(statePath)).toBeUndefined()
  })

  it('moves an unreadable state file aside and starts empty', async () => {
    const statePath = join(dir, 'corrupt.json')
    writeFileSync(statePath, '{ not json')
    const standIn = await startStripeStandIn({ statePath, apiKey: 'sk_test_fixed' })
    try {
      expect(standIn.apiKey).toBe('sk_test_fixed')
      expect(Object.keys(standIn.state.customers)).toEqual([])
      expect(JSON.parse(readFileSync(statePath, 'utf8'))).toMatchObject({ version: 1, apiKey: 'sk_test_fixed' })
    } finally {
      await standIn.close()
    }
  })
})
