import type { MoesifManagementClient, MoesifObject } from './moesif-management'

/** A price of a Moesif plan, as Moesif's billing catalog answers it (`price_in_decimal` in cents, `tiers`, `period_units`...). */
export interface CatalogPrice extends MoesifObject {
  readonly id: string
}

/** A plan of Moesif's billing catalog, with its prices. */
export interface CatalogPlan extends MoesifObject {
  readonly id: string
  readonly prices: readonly CatalogPrice[]
}

/** The plans, cached per container. */
export interface PlanCatalog {
  /** Every plan, each with its active prices. */
  plans(): Promise<readonly CatalogPlan[]>
  /** The plan and price a checkout may sell: an active price of an active plan, or `undefined`. */
  activePrice(priceId: string): Promise<{ plan: CatalogPlan; price: CatalogPrice } | undefined>
}

/** How long a container trusts the catalog it fetched. */
export const PLAN_CATALOG_TTL_MS = 60_000

const isObject = (value: unknown): value is MoesifObject => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Active, or no status at all (Moesif sends one; a missing one is not read as retired). */
const isActive = (entry: MoesifObject): boolean => entry.status === undefined || entry.status === 'active'

/**
 * Whether the portal frontend treats a price as metered (and so sends no
 * `quantity`): `usage_type` metered, a `price_meter`, or a `usage_aggregator`,
 * the test `MoesifPlans.jsx` makes.
 *
 * @example
 * isMeteredPrice({ id: 'price_metered', usage_aggregator: 'sum' }) // true
 */
export function isMeteredPrice(price: MoesifObject): boolean {
  return price.usage_type === 'metered' || Boolean(price.price_meter) || Boolean(price.usage_aggregator)
}

/**
 * Moesif's plans as the portal reads them: objects with a string `id`, each
 * with an array of `prices`, of which only the active ones are kept (a
 * retired price is not for sale: showing it would only lead to a refused
 * checkout). Every other field passes through as Moesif sent it.
 *
 * @example
 * portalPlans([{ id: 'prod_basic', status: 'active', prices: [{ id: 'price_basic', status: 'active' }, { id: 'price_old', status: 'inactive' }] }])
 * // [{ id: 'prod_basic', status: 'active', prices: [{ id: 'price_basic', status: 'active' }] }]
 */
export function portalPlans(hits: readonly unknown[]): CatalogPlan[] {
  return hits.flatMap((hit): CatalogPlan[] => {
    if (!isObject(hit) || typeof hit.id !== 'string') return []
    const prices = (Array.isArray(hit.prices) ? hit.prices : []).filter(
      (price): price is CatalogPrice => isObject(price) && typeof price.id === 'string' && isActive(price)
    )
    return [{ ...hit, id: hit.id, prices }]
  })
}

/**
 * Moesif's billing catalog for `provider`, fetched on first use and kept for
 * {@link PLAN_CATALOG_TTL_MS} per container; concurrent first calls share one
 * fetch. A failed fetch is never cached: the next call tries again.
 *
 * @example
 * const catalog = createPlanCatalog(moesif, 'stripe')
 * await catalog.activePrice('price_basic') // { plan, price }
 */
export function createPlanCatalog(moesif: MoesifManagementClient, provider: string, options: { nowMs?: () => number } = {}): PlanCatalog {
  const now = options.nowMs ?? Date.now
  let cached: { plans: readonly CatalogPlan[]; at: number } | undefined
  let inFlight: Promise<readonly CatalogPlan[]> | undefined
  const plans = async (): Promise<readonly CatalogPlan[]> => {
    if (cached !== undefined && now() - cached.at < PLAN_CATALOG_TTL_MS) return cached.plans
    inFlight ??= moesif
      .plans(provider)
      .then((hits) => {
        const fresh = portalPlans(hits)
        cached = { plans: fresh, at: now() }
        return fresh
      })
      .finally(() => {
        inFlight = undefined
      })
    return inFlight
  }
  return {
    plans,
    activePrice: async (priceId) => {
      for (const plan of await plans()) {
        if (plan.status !== 'active') continue
        const price = plan.prices.find((candidate) => candidate.id === priceId)
        if (price !== undefined) return { plan, price }
      }
      return undefined
    }
  }
}
