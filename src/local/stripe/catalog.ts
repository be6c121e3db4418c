/**
 * The products and prices the local Stripe stand-in sells. The default is a
 * small catalog of fixed ids (so `.env` files and tests can name them): a flat
 * monthly plan, its yearly variant, a retired price, and a metered
 * pay-as-you-go plan. Pass your own {@link StripeCatalogSpec} to replace it.
 */
import type { WirePrice, WireProduct } from './wire'

/** A product to sell. */
export interface CatalogProductSpec {
  /** `prod_...`. */
  id: string
  name: string
  description?: string | null
  active?: boolean
  metadata?: Record<string, string>
}

/** One tier of a tiered price (amounts in the currency's minor unit). */
export interface CatalogTierSpec {
  /** The last unit of the tier; `'inf'` for the last tier. */
  upTo: number | 'inf'
  unitAmount?: number
  flatAmount?: number
}

/** A recurring price of one of the products. */
export interface CatalogPriceSpec {
  /** `price_...`. */
  id: string
  /** The product's id. */
  product: string
  /** Defaults to `'usd'`. */
  currency?: string
  /** Per unit, in the currency's minor unit (cents). Leave out for a tiered price. */
  unitAmount?: number
  /** Defaults to `'month'`. */
  interval?: 'day' | 'week' | 'month' | 'year'
  intervalCount?: number
  /** `'licensed'` (a quantity paid up front, the default) or `'metered'` (billed on reported usage). */
  usageType?: 'licensed' | 'metered'
  /** The billing meter of a metered price; defaults to `mtr_test_<price id without price_>`. */
  meter?: string
  /** Makes the price tiered (`billing_scheme: 'tiered'`). */
  tiers?: CatalogTierSpec[]
  /** Defaults to `'graduated'` for a tiered price. */
  tiersMode?: 'graduated' | 'volume'
  nickname?: string | null
  lookupKey?: string | null
  /** Defaults to true; an inactive price cannot be bought. */
  active?: boolean
  metadata?: Record<string, string>
}

/** What {@link buildStripeCatalog} takes. */
export interface StripeCatalogSpec {
  products: CatalogProductSpec[]
  prices: CatalogPriceSpec[]
}

/** Products and prices as Stripe's API answers them (a tiered price carries its `tiers`, which the API shows only when expanded). */
export interface StripeCatalog {
  readonly products: readonly WireProduct[]
  readonly prices: readonly WirePrice[]
}

/**
 * When catalog objects were "created" in Stripe (2026-01-01T00:00:00Z), fixed so answers are reproducible.
 *
 * @example
 * DEFAULT_STRIPE_CATALOG.prices[0].created === CATALOG_CREATED // true
 */
export const CATALOG_CREATED = 1_767_225_600

/**
 * The default catalog: `prod_basic` (Basic: `price_basic` $19.00 a month,
 * `price_basic_yearly` $190.00 a year, and the retired `price_basic_legacy`)
 * and `prod_metered` (Pay as you go: `price_metered`, 1¢ per API call,
 * metered monthly on the meter `mtr_test_api_calls`).
 *
 * @example
 * startStripeStandIn({ catalog: { ...DEFAULT_STRIPE_CATALOG_SPEC, prices: [...DEFAULT_STRIPE_CATALOG_SPEC.prices, extra] } })
 */
export const DEFAULT_STRIPE_CATALOG_SPEC: StripeCatalogSpec = {
  products: [
    { id: 'prod_basic', name: 'Basic', description: 'A flat monthly plan: unlimited API keys, fair-use calls.', metadata: { plan: 'basic' } },
    { id: 'prod_metered', name: 'Pay as you go', description: 'Billed per API call at the end of each month.', metadata: { plan: 'metered' } }
  ],
  prices: [
    { id: 'price_basic', product: 'prod_basic', unitAmount: 1900, interval: 'month', nickname: 'Basic monthly', lookupKey: 'basic_monthly' },
    { id: 'price_basic_yearly', product: 'prod_basic', unitAmount: 19000, interval: 'year', nickname: 'Basic yearly', lookupKey: 'basic_yearly' },
    { id: 'price_basic_legacy', product: 'prod_basic', unitAmount: 990, interval: 'month', nickname: 'Basic monthly (2025)', active: false },
    {
      id: 'price_metered',
      product: 'prod_metered',
      unitAmount: 1,
      interval: 'month',
      usageType: 'metered',
      meter: 'mtr_test_api_calls',
      nickname: 'Per API call',
      lookupKey: 'metered_monthly'
    }
  ]
}

function priceObject(spec: CatalogPriceSpec): WirePrice {
  const tiered = spec.tiers !== undefined
  if (tiered === (spec.unitAmount !== undefined)) throw new Error(`catalog price ${spec.id}: give either unitAmount or tiers`)
  const usageType = spec.usageType ?? 'licensed'
  const price: WirePrice = {
    id: spec.id,
    object: 'price',
    active: spec.active ?? true,
    billing_scheme: tiered ? 'tiered' : 'per_unit',
    created: CATALOG_CREATED,
    currency: spec.currency ?? 'usd',
    custom_unit_amount: null,
    livemode: false,
    lookup_key: spec.lookupKey ?? null,
    metadata: { ...spec.metadata },
    nickname: spec.nickname ?? null,
    product: spec.product,
    recurring: {
      interval: spec.interval ?? 'month',
      interval_count: spec.intervalCount ?? 1,
      meter: usageType === 'metered' ? (spec.meter ?? `mtr_test_${spec.id.replace(/^price_/, '')}`) : null,
      trial_period_days: null,
      usage_type: usageType
    },
    tax_behavior: 'unspecified',
    tiers_mode: tiered ? (spec.tiersMode ?? 'graduated') : null,
    transform_quantity: null,
    type: 'recurring',
    unit_amount: spec.unitAmount ?? null,
    unit_amount_decimal: spec.unitAmount === undefined ? null : String(spec.unitAmount)
  }
  if (spec.tiers !== undefined) {
    price.tiers = spec.tiers.map((tier) => ({
      flat_amount: tier.flatAmount ?? null,
      flat_amount_decimal: tier.flatAmount === undefined ? null : String(tier.flatAmount),
      unit_amount: tier.unitAmount ?? null,
      unit_amount_decimal: tier.unitAmount === undefined ? null : String(tier.unitAmount),
      up_to: tier.upTo === 'inf' ? null : tier.upTo
    }))
  }
  return price
}

/**
 * Turn a catalog spec into Stripe objects. A product's `default_price` is its
 * first active price. Throws on a spec that cannot be (a duplicate id, a price
 * of an unknown product, neither or both of `unitAmount` and `tiers`).
 *
 * @example
 * const { prices } = buildStripeCatalog({ products: [{ id: 'prod_pro', name: 'Pro' }], prices: [{ id: 'price_pro', product: 'prod_pro', unitAmount: 4900 }] })
 */
export function buildStripeCatalog(spec: StripeCatalogSpec): StripeCatalog {
  const ids = new Set<string>()
  const unique = (id: string, prefix: string): void => {
    if (!id.startsWith(prefix)) throw new Error(`catalog id ${id} must start with ${prefix}`)
    if (ids.has(id)) throw new Error(`catalog id ${id} is used twice`)
    ids.add(id)
  }
  for (const product of spec.products) unique(product.id, 'prod_')
  for (const price of spec.prices) {
    unique(price.id, 'price_')
    if (!spec.products.some((product) => product.id === price.product)) throw new Error(`catalog price ${price.id}: no product ${price.product}`)
  }
  const prices = spec.prices.map(priceObject)
  const products = spec.products.map((product): WireProduct => ({
    id: product.id,
    object: 'product',
    active: product.active ?? true,
    created: CATALOG_CREATED,
    default_price: prices.find((price) => price.product === product.id && price.active)?.id ?? null,
    description: product.description ?? null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: { ...product.metadata },
    name: product.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    tax_details: null,
    type: 'service',
    unit_label: null,
    updated: CATALOG_CREATED,
    url: null
  }))
  return { products, prices }
}

/**
 * {@link DEFAULT_STRIPE_CATALOG_SPEC} as Stripe objects: what `GET /v1/prices`
 * and `GET /v1/products/:id` answer by default. Build a Moesif plan catalog from this.
 *
 * @example
 * const basic = DEFAULT_STRIPE_CATALOG.prices.find((price) => price.id === 'price_basic') // unit_amount 1900, recurring.interval 'month'
 */
export const DEFAULT_STRIPE_CATALOG: StripeCatalog = buildStripeCatalog(DEFAULT_STRIPE_CATALOG_SPEC)
