/**
 * Moesif's billing catalog, as Moesif's Stripe integration builds it from a
 * Stripe account: one plan per product, with its prices. The shapes follow
 * what `GET /v1/~/billing/catalog/plans?includes=prices` answers (see the
 * Moesif portal's `examplePlansFromStripe.js`): amounts are decimal strings
 * in the currency's minor unit (`price_in_decimal: "1900"` is $19.00), the
 * period is `period` + `period_units` (`d`, `w`, `M`, `y`), and a metered
 * price carries a `usage_aggregator`.
 */
import type { WirePrice, WireProduct } from '../stripe/wire'

/** One tier of a tiered Moesif price. */
export interface MoesifPriceTier {
  up_to: number | 'inf'
  unit_price_in_decimal: string
  flat_price_in_decimal: string
}

/** A price of a Moesif plan. */
export interface MoesifPrice {
  provider: 'stripe'
  id: string
  name: string
  status: 'active' | 'inactive'
  currency: string
  plan_id: string
  period: number
  period_units: 'd' | 'w' | 'M' | 'y'
  pricing_model: 'per_unit' | 'tiered' | 'volume'
  price_in_decimal: string
  tax_behavior: string
  metadata: Record<string, string>
  created_at: string
  usage_aggregator?: 'sum'
  tiers?: MoesifPriceTier[]
}

/** A plan of Moesif's billing catalog. */
export interface MoesifPlan {
  provider: 'stripe'
  id: string
  name: string
  description: string | null
  status: 'active' | 'inactive'
  unit: string | null
  metadata: Record<string, string>
  created_at: string
  updated_at: string
  prices: MoesifPrice[]
}

const PERIOD_UNITS: Record<string, MoesifPrice['period_units']> = { day: 'd', week: 'w', month: 'M', year: 'y' }
const iso = (seconds: number): string => new Date(seconds * 1000).toISOString()

function moesifPrice(price: WirePrice, product: WireProduct): MoesifPrice {
  const recurring = price.recurring
  const moesif: MoesifPrice = {
    provider: 'stripe',
    id: price.id,
    name: price.nickname ?? product.name,
    status: price.active ? 'active' : 'inactive',
    currency: price.currency.toUpperCase(),
    plan_id: product.id,
    period: recurring?.interval_count ?? 1,
    period_units: PERIOD_UNITS[recurring?.interval ?? 'month'] ?? 'M',
    pricing_model: price.billing_scheme === 'tiered' ? (price.tiers_mode === 'volume' ? 'volume' : 'tiered') : 'per_unit',
    price_in_decimal: price.unit_amount_decimal ?? '0',
    tax_behavior: price.tax_behavior ?? 'unspecified',
    metadata: { ...price.metadata },
    created_at: iso(price.created)
  }
  if (recurring?.usage_type === 'metered') moesif.usage_aggregator = 'sum'
  if (price.tiers !== undefined) {
    moesif.tiers = price.tiers.map((tier) => ({
      up_to: tier.up_to ?? 'inf',
      unit_price_in_decimal: tier.unit_amount_decimal ?? '0',
      flat_price_in_decimal: tier.flat_amount_decimal ?? '0'
    }))
  }
  return moesif
}

/**
 * The Moesif plans of a Stripe catalog: one per product (its status from the
 * product's `active`), with the product's recurring prices (their status
 * from the price's `active`, so a retired price shows as `inactive`).
 *
 * @example
 * moesifPlansFromStripe(DEFAULT_STRIPE_CATALOG.products, DEFAULT_STRIPE_CATALOG.prices)[0].prices[0].price_in_decimal // '1900'
 */
export function moesifPlansFromStripe(products: readonly WireProduct[], prices: readonly WirePrice[]): MoesifPlan[] {
  return products.map((product) => ({
    provider: 'stripe',
    id: product.id,
    name: product.name,
    description: product.description,
    status: product.active ? 'active' : 'inactive',
    unit: product.unit_label ?? null,
    metadata: { ...product.metadata },
    created_at: iso(product.created),
    updated_at: iso(product.updated),
    prices: prices
      .filter((price) => price.type === 'recurring' && (typeof price.product === 'string' ? price.product : price.product.id) === product.id)
      .map((price) => moesifPrice(price, product))
  }))
}
