import { createBilling, type Billing } from '../billing/billing'
import { loadBillingConfig, type PaymentProvider } from '../billing/billing-config'
import { billingRecordsFromEnv, type BillingRecords } from '../billing/billing-records'
import type { StripeClient } from '../billing/stripe-client'
import { createMoesifProfileUpdater, type MoesifProfileUpdater } from '../moesif/profiles'
import { moesifSettingsFromEnv, type MoesifSettings } from '../moesif/settings'
import { readEnv, type Env } from '../runtime/env'
import { HttpError } from '../runtime/errors'
import type { Logger } from '../runtime/logger'
import { loadPortalApiConfig, type PortalApiConfig } from './portal-api-config'
import { loadPortalConfig } from './portal-config'
import { createPortalTokenVerifier, type PortalTokenVerifier } from './portal-identity'
import { createMoesifManagementClient, type MoesifManagementClient } from './moesif-management'
import { createPlanCatalog, type PlanCatalog } from './plan-catalog'

/** What the authenticated portal routes need; each uses its part. Passed in, so tests hand them real parts on loopback. */
export interface PortalApiDeps {
  readonly config: PortalApiConfig
  readonly verifyPortalToken: PortalTokenVerifier
  /** The resolver `POST /create-key` uses too: who the caller's company (the Stripe customer in stripe mode) is. */
  readonly billing: Billing
  /** Billing's items in the key table; `undefined` without `KEYS_TABLE`. */
  readonly records: BillingRecords | undefined
  /** `undefined` without `MOESIF_MANAGEMENT_TOKEN`. */
  readonly moesif: MoesifManagementClient | undefined
  /** Moesif's billing catalog, cached per container; `undefined` without `MOESIF_MANAGEMENT_TOKEN`. */
  readonly catalog: PlanCatalog | undefined
  /** Moesif company and user updates: awaited, bounded by `MOESIF_MAX_WAIT_MS`, never failing the caller. */
  readonly updateProfiles: MoesifProfileUpdater
  /** The collector settings (`MOESIF_APPLICATION_ID`, `MOESIF_BASE_URI`): custom billing sends its subscriptions there. */
  readonly moesifSettings: MoesifSettings
  readonly nowMs: () => number
  readonly logger: Logger
}

/** What `GET /plans` needs: the catalog only (it is open, so no identity provider). */
export interface PlansDeps {
  /** `undefined` without `MOESIF_MANAGEMENT_TOKEN`. */
  readonly catalog: PlanCatalog | undefined
}

/**
 * The billing provider whose plans Moesif's catalog is asked for: `custom`
 * in custom mode (the reference portal asks for `APP_PAYMENT_PROVIDER`),
 * `stripe` otherwise.
 *
 * @example
 * catalogProvider({ APP_PAYMENT_PROVIDER: 'custom' }) // 'custom'
 */
export function catalogProvider(env: Env): 'stripe' | 'custom' {
  return (readEnv(env, 'APP_PAYMENT_PROVIDER') ?? '').toLowerCase() === 'custom' ? 'custom' : 'stripe'
}

/**
 * `GET /plans`' dependencies, from the environment with its secrets laid over it.
 *
 * @example
 * const deps = loadPlansDeps(await envWithSecrets(env, { services: portalRouteSecrets('plans', env) }))
 */
export function loadPlansDeps(env: Env): PlansDeps {
  const config = loadPortalApiConfig(env)
  return {
    catalog: config.management === undefined ? undefined : createPlanCatalog(createMoesifManagementClient(config.management), catalogProvider(env))
  }
}

/**
 * The authenticated portal routes' dependencies, from the environment with
 * the route's secrets laid over it (`portalRouteSecrets`): the portal
 * identity provider, billing (`APP_PAYMENT_PROVIDER`) with the key table's
 * records, Moesif's management API and the collector settings.
 *
 * @example
 * const deps = await loadPortalApiDeps(await envWithSecrets(env, { services: portalRouteSecrets('subscriptions', env) }), logger)
 */
export async function loadPortalApiDeps(env: Env, logger: Logger): Promise<PortalApiDeps> {
  const config = loadPortalApiConfig(env)
  const records = billingRecordsFromEnv(env)
  const moesif = config.management === undefined ? undefined : createMoesifManagementClient(config.management)
  const moesifSettings = moesifSettingsFromEnv(env)
  return {
    config,
    verifyPortalToken: createPortalTokenVerifier(loadPortalConfig(env)),
    billing: await createBilling(loadBillingConfig(env), { records }),
    records,
    moesif,
    catalog: moesif === undefined ? undefined : createPlanCatalog(moesif, catalogProvider(env)),
    updateProfiles: createMoesifProfileUpdater(moesifSettings, logger),
    moesifSettings,
    nowMs: Date.now,
    logger
  }
}

/**
 * The Stripe client, or 404 `ERR_NOT_FOUND` outside stripe mode (the route
 * does not exist there, as the webhook does not).
 *
 * @example
 * const stripe = requireStripe(deps)
 */
export function requireStripe(deps: Pick<PortalApiDeps, 'billing'>): StripeClient {
  if (deps.billing.stripe === undefined) {
    throw new HttpError(404, 'ERR_NOT_FOUND', 'Stripe is not enabled here (APP_PAYMENT_PROVIDER is not stripe)')
  }
  return deps.billing.stripe
}

/**
 * Moesif's management API, or 404 `ERR_NOT_FOUND` when it is not configured.
 *
 * @example
 * const moesif = requireMoesif(deps)
 */
export function requireMoesif<T>(client: T | undefined): T {
  if (client === undefined) {
    throw new HttpError(404, 'ERR_NOT_FOUND', "Moesif's management API is not configured here (MOESIF_MANAGEMENT_TOKEN is not set)")
  }
  return client
}

/**
 * The billing mode, or 404 `ERR_NOT_FOUND` when the route belongs to another.
 *
 * @example
 * requireProvider(deps, 'custom')
 */
export function requireProvider(deps: Pick<PortalApiDeps, 'billing'>, provider: PaymentProvider): void {
  if (deps.billing.provider !== provider) {
    throw new HttpError(404, 'ERR_NOT_FOUND', `This route needs APP_PAYMENT_PROVIDER=${provider} (it is ${deps.billing.provider} here)`)
  }
}
