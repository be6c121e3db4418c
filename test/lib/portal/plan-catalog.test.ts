import { describe, expect, it } from 'vitest'
import type { MoesifManagementClient } from '../../../src/lib/portal/moesif-management'
import { createPlanCatalog, isMeteredPrice, PLAN_CATALOG_TTL_MS, portalPlans } from '../../../src/lib/portal/plan-catalog'

const HITS = [
  {
    id: 'prod_basic',
    status: 'active',
    name: 'Basic',
    prices: [
      { id: 'price_basic', status: 'active', price_in_decimal: '1900' },
      { id: 'price_old', status: 'inactive' }
    ]
  },
  { id: 'prod_retired', status: 'inactive', prices: [{ id: 'price_retired', status: 'active' }] },
  'not a plan',
  { name: 'no id' }
]

/** A management client whose catalog answers are scripted; it counts the calls. */
function scripted(answers: Array<() => Promise<unknown[]>>) {
  let calls = 0
  const client: MoesifManagementClient = {
    plans: () => {
      const answer = answers[Math.min(calls, answers.length - 1)]!
      calls += 1
      return answer()
    },
    user: async () => undefined,
    workspaceToken: async () => ({})
  }
  return { client, calls: () => calls }
}

describe('portalPlans', () => {
  it('keeps plans with an id, each with its active prices, and every other field as sent', () => {
    expect(portalPlans(HITS)).toEqual([
      { id: 'prod_basic', status: 'active', name: 'Basic', prices: [{ id: 'price_basic', status: 'active', price_in_decimal: '1900' }] },
      { id: 'prod_retired', status: 'inactive', prices: [{ id: 'price_retired', status: 'active' }] }
    ])
  })
})

describe('isMeteredPrice', () => {
  it('follows the frontend: usage_type metered, a price_meter or a usage_aggregator', () => {
    expect(isMeteredPrice({ usage_aggregator: 'sum' })).toBe(true)
    expect(isMeteredPrice({ price_meter: 'mtr_1' })).toBe(true)
    expect(isMeteredPrice({ usage_type: 'metered' })).toBe(true)
    expect(isMeteredPrice({ usage_type: 'licensed', price_in_decimal: '1900' })).toBe(false)
  })
})

describe('createPlanCatalog', () => {
  it('finds an active price of an active plan only', async () => {
    const catalog = createPlanCatalog(scripted([async () => HITS]).client, 'stripe')
    expect(await catalog.activePrice('price_basic')).toMatchObject({ plan: { id: 'prod_basic' }, price: { id: 'price_basic' } })
    for (const id of ['price_old', 'price_retired', 'price_nope']) expect(await catalog.activePrice(id)).toBeUndefined()
  })

  it('fetches once per 60 s, shares a fetch in flight, and never caches a failure', async () => {
    let now = 1_000_000
    const moesif = scripted([
      async () => {
        throw new Error('down')
      },
      async () => HITS
    ])
    const catalog = createPlanCatalog(moesif.client, 'stripe', { nowMs: () => now })
    await expect(catalog.plans()).rejects.toThrow('down')
    const [first, second] = await Promise.all([catalog.plans(), catalog.plans()])
    expect(first).toBe(second)
    expect(moesif.calls()).toBe(2)
    now += PLAN_CATALOG_TTL_MS - 1
    await catalog.plans()
    expect(moesif.calls()).toBe(2)
    now += 1
    await catalog.plans()
    expect(moesif.calls()).toBe(3)
  })
})
