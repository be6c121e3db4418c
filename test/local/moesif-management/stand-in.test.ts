/**
 * The Moesif management stand-in, reading the local Stripe stand-in's
 * account through Stripe's API: its answers are what the portal routes and
 * the unchanged frontend read from Moesif.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { moesifManagementEnv, startLocalMoesifManagement } from '../../../src/local/moesif-management/local'
import {
  DEFAULT_STAND_IN_WORKSPACES,
  startMoesifManagementStandIn,
  type MoesifManagementStandIn
} from '../../../src/local/moesif-management/stand-in'
import { startStripeStandIn, type StripeStandIn } from '../../../src/local/stripe/stand-in'

let stripe: StripeStandIn
let moesif: MoesifManagementStandIn

beforeAll(async () => {
  stripe = await startStripeStandIn()
  moesif = await startMoesifManagementStandIn({ stripe })
})
afterAll(async () => {
  await moesif?.close()
  await stripe?.close()
})
beforeEach(() => {
  stripe.reset()
  moesif.setFault({ mode: 'none' })
})

const call = (path: string, init: RequestInit = {}, token = moesif.token): Promise<Response> =>
  fetch(`${moesif.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } })

type Plan = { id: string; status: string; name: string; prices: Array<Record<string, unknown>> }

describe('GET /v1/~/billing/catalog/plans', () => {
  it("answers the Stripe catalog as Moesif's plans: a flat and a metered plan, prices in cents, periods, tiers", async () => {
    const response = await call('/v1/~/billing/catalog/plans?includes=prices&provider=stripe')
    const { hits } = (await response.json()) as { hits: Plan[] }

    expect(response.status).toBe(200)
    expect(hits.map((plan) => [plan.id, plan.status])).toEqual([
      ['prod_basic', 'active'],
      ['prod_metered', 'active']
    ])
    const basic = hits[0]?.prices.find((price) => price.id === 'price_basic')
    expect(basic).toMatchObject({
      plan_id: 'prod_basic',
      price_in_decimal: '1900',
      period: 1,
      period_units: 'M',
      pricing_model: 'per_unit',
      status: 'active'
    })
    expect(basic).not.toHaveProperty('usage_aggregator')
    expect(hits[0]?.prices.find((price) => price.id === 'price_basic_yearly')).toMatchObject({ period_units: 'y', price_in_decimal: '19000' })
    expect(hits[0]?.prices.find((price) => price.id === 'price_basic_legacy')).toMatchObject({ status: 'inactive' })
    expect(hits[1]?.prices).toEqual([expect.objectContaining({ id: 'price_metered', usage_aggregator: 'sum', price_in_decimal: '1' })])
  })

  it('carries tiers of a tiered price, and has no plans for another provider', async () => {
    const tiered = await startStripeStandIn({
      catalog: {
        products: [{ id: 'prod_tiered', name: 'Tiered' }],
        prices: [
          {
            id: 'price_tiered',
            product: 'prod_tiered',
            usageType: 'metered',
            tiers: [
              { upTo: 1000, unitAmount: 5 },
              { upTo: 'inf', unitAmount: 2, flatAmount: 100 }
            ]
          }
        ]
      }
    })
    const own = await startMoesifManagementStandIn({ stripe: tiered })
    try {
      const answer = await fetch(`${own.url}/v1/~/billing/catalog/plans?includes=prices&provider=stripe`, {
        headers: { authorization: `Bearer ${own.token}` }
      })
      const plans = ((await answer.json()) as { hits: Plan[] }).hits
      expect(plans[0]?.prices[0]).toMatchObject({
        pricing_model: 'tiered',
        tiers: [
          { up_to: 1000, unit_price_in_decimal: '5', flat_price_in_decimal: '0' },
          { up_to: 'inf', unit_price_in_decimal: '2', flat_price_in_decimal: '100' }
        ]
      })
      const custom = await fetch(`${own.url}/v1/~/billing/catalog/plans?includes=prices&provider=custom`, {
        headers: { authorization: `Bearer ${own.token}` }
      })
      expect(await custom.json()).toEqual({ hits: [] })
    } finally {
      await own.close()
      await tiered.close()
    }
  })
})

describe('GET /v1/search/~/users/:id', () => {
  it("answers a Stripe customer with its company's subscriptions, as Moesif syncs them", async () => {
    const outcome = await stripe.subscribe({ email: 'alice@acme.test', priceId: 'price_basic' })
    if (!outcome.ok) throw new Error('subscribe failed')
    const { customer, subscription } = outcome.value

    const response = await call(`/v1/search/~/users/${customer.id}`)
    const user = (await response.json()) as { user_id: string; company: { subscriptions: Array<Record<string, unknown>> } }

    expect(response.status).toBe(200)
    expect(user.user_id).toBe(customer.id)
    expect(user.company.subscriptions).toEqual([
      expect.objectContaining({
        subscription_id: subscription.id,
        company_id: customer.id,
        status: 'active',
        current_period_start: new Date(subscription.current_period_start * 1000).toISOString(),
        current_period_end: new Date(subscription.current_period_end * 1000).toISOString(),
        items: [expect.objectContaining({ plan_id: 'prod_basic', price_id: 'price_basic' })]
      })
    ])
  })

  it('answers 404 for an id that is no customer', async () => {
    expect((await call('/v1/search/~/users/cus_nobody')).status).toBe(404)
    expect((await call(`/v1/search/~/users/${encodeURIComponent('auth0|alice')}`)).status).toBe(404)
  })
})

describe('POST /v1/portal/~/workspaces/:id/access_token', () => {
  it('hands out a token per known workspace, for the template user_id, and records it', async () => {
    const expiration = new Date(Date.now() + 7 * 86_400_000).toISOString()
    const response = await call(`/v1/portal/~/workspaces/${moesif.workspaces.liveEventLog}/access_token?expiration=${expiration}`, {
      method: 'POST',
      body: JSON.stringify({ template: { values: { user_id: 'cus_123' } } })
    })
    const body = (await response.json()) as { _id: string; token: string }

    expect(response.status).toBe(200)
    expect(body._id).toBe(DEFAULT_STAND_IN_WORKSPACES.liveEventLog)
    expect(body.token).toMatch(/^ws_local_/)
    expect(moesif.tokens.at(-1)).toEqual({ workspaceId: body._id, userId: 'cus_123', expiration, token: body.token })
  })

  it('refuses an unknown workspace (404), a missing user_id or expiration (400)', async () => {
    const expiration = new Date().toISOString()
    const post = (id: string, query: string, body: unknown) =>
      call(`/v1/portal/~/workspaces/${id}/access_token${query}`, { method: 'POST', body: JSON.stringify(body) })
    expect((await post('nope', `?expiration=${expiration}`, { template: { values: { user_id: 'u' } } })).status).toBe(404)
    expect((await post(moesif.workspaces.timeSeries, `?expiration=${expiration}`, { template: { values: {} } })).status).toBe(400)
    expect((await post(moesif.workspaces.timeSeries, '', { template: { values: { user_id: 'u' } } })).status).toBe(400)
  })
})

describe('guards and faults', () => {
  it('needs the token, and refuses browsers', async () => {
    expect((await call('/v1/~/billing/catalog/plans?provider=stripe', {}, 'wrong-token')).status).toBe(401)
    expect((await fetch(`${moesif.url}/v1/~/billing/catalog/plans`)).status).toBe(401)
    const fromPage = await call('/v1/~/billing/catalog/plans?provider=stripe', { headers: { origin: 'https://evil.example' } })
    expect(fromPage.status).toBe(403)
  })

  it('fails on purpose with a status, and answers 503 when the Stripe account does', async () => {
    moesif.setFault({ mode: 'error', status: 502 })
    expect((await call('/v1/~/billing/catalog/plans?provider=stripe')).status).toBe(502)
    moesif.setFault({ mode: 'none' })
    await stripe.setFault({ mode: 'error', status: 500 })
    try {
      expect((await call('/v1/~/billing/catalog/plans?provider=stripe')).status).toBe(503)
    } finally {
      await stripe.setFault({ mode: 'none' })
    }
  })
})

describe('startLocalMoesifManagement (npm start, stripe mode)', () => {
  it('starts the stand-in and sets the portal settings, keeping workspace ids already set', async () => {
    const env: NodeJS.ProcessEnv = { MOESIF_TEMPLATE_WORKSPACE_ID_TIME_SERIES: 'mine' }
    const lines: string[] = []
    const started = await startLocalMoesifManagement(stripe, (line) => lines.push(line), env)
    try {
      expect(started).toBeDefined()
      expect(env).toEqual({ ...moesifManagementEnv(started!), MOESIF_TEMPLATE_WORKSPACE_ID_TIME_SERIES: 'mine' })
      expect(lines).toEqual([expect.stringContaining(started!.url)])
    } finally {
      await started?.close()
    }
  })

  it('starts nothing when the settings name a Moesif of their own', async () => {
    const env: NodeJS.ProcessEnv = { MOESIF_MANAGEMENT_TOKEN: 'real-token' }
    expect(await startLocalMoesifManagement(stripe, () => undefined, env)).toBeUndefined()
    expect(env).toEqual({ MOESIF_MANAGEMENT_TOKEN: 'real-token' })
  })
})
