import type { KeyOwner } from '../keys/issue-api-key'
import { HttpError } from '../runtime/errors'
import { ConfigError } from '../runtime/errors'
import type { BillingConfig, PaymentProvider } from './billing-config'
import type { BillingRecords } from './billing-records'
import { createStripeClient, type StripeClient } from './stripe-client'
import { allowedSubscription, createCustomerLookup, type SubscriptionPlan } from './stripe-customers'

/** Who is asking, from the verified portal ID token (a `PortalIdentity` fits). */
export interface BillingIdentity {
  readonly userId: string
  readonly companyId: string
  readonly email: string | undefined
  readonly emailVerified: boolean | undefined
}

/** Who a new key is for, and under which subscription. */
export interface KeyHolder {
  /** The ids the key carries: in stripe mode the Stripe customer id in both. */
  readonly owner: KeyOwner
  /** The portal user behind the request (the ID token's `sub`). */
  readonly portalUserId: string
  readonly email: string | undefined
  /** The subscription that entitles the key; `undefined` without billing. */
  readonly plan: SubscriptionPlan | undefined
}

/**
 * One resolver for "which company is this portal user", so create-key and
 * the key-management endpoints can never disagree.
 */
export interface Billing {
  readonly provider: PaymentProvider
  /** The holder of a new key. In stripe mode: 402 `ERR_NO_SUBSCRIPTION` without a customer or an allowed subscription. */
  readonly holderForNewKey: (identity: BillingIdentity) => Promise<KeyHolder>
  /** The company whose keys the caller manages; `undefined` when the caller has no billing account (nothing to list or revoke). */
  readonly companyOf: (identity: BillingIdentity) => Promise<string | undefined>
  /** The Stripe client in stripe mode (for the webhook), else `undefined`. */
  readonly stripe: StripeClient | undefined
}

const noSubscription = () => new HttpError(402, 'ERR_NO_SUBSCRIPTION', 'Subscribe to a plan to create API keys')

/**
 * The email Stripe knows the customer by: present (else 401
 * `ERR_EMAIL_REQUIRED`), and not marked unverified by the identity provider
 * (else 403 `ERR_EMAIL_NOT_VERIFIED`): an unproven address must never find
 * somebody else's customer.
 *
 * @example
 * const email = billingEmail(identity) // 'alice@acme.test'
 */
export function billingEmail(identity: BillingIdentity): string {
  if (identity.email === undefined) {
    throw new HttpError(401, 'ERR_EMAIL_REQUIRED', 'The ID token has no email claim: log in with an ID token that carries the email scope')
  }
  if (identity.emailVerified === false) {
    throw new HttpError(403, 'ERR_EMAIL_NOT_VERIFIED', 'Verify your email address with your identity provider, then log in again')
  }
  return identity.email
}

/** What {@link createBilling} may be given besides the config. */
export interface BillingOptions {
  /**
   * Billing's items in the key table. Stripe mode: a customer made by the
   * portal (`POST /create-stripe-checkout-session`) is found there while
   * Stripe's search and list do not show it yet. Custom mode: the registered
   * subscriptions, which new keys need.
   */
  readonly records?: BillingRecords | undefined
}

/**
 * The billing resolver for the configured mode.
 * - `none`: the key holder is the ID token's user and company, as before.
 * - `stripe`: the company is the Stripe customer found by the ID token's
 *   verified email (as the reference portal does), and new keys need a
 *   subscription whose status is in `STRIPE_ALLOWED_STATUSES`, read fresh
 *   from Stripe on every call. Both the user and company claims of the key
 *   carry the customer id, as the reference JWT plugin signs them.
 * - `custom`: the company and user are the ID token's `sub` (the reference
 *   portal's customer id in that mode), and new keys need a subscription
 *   registered with `POST /register/custom` for that company (402 otherwise).
 *
 * @example
 * const billing = await createBilling(loadBillingConfig(process.env))
 * const holder = await billing.holderForNewKey(identity)
 */
export async function createBilling(config: BillingConfig, options: BillingOptions = {}): Promise<Billing> {
  const records = options.records
  if (config.provider === 'custom') {
    return Object.freeze({
      provider: config.provider,
      stripe: undefined,
      holderForNewKey: async (identity: BillingIdentity) => {
        if (records === undefined) throw new ConfigError('KEYS_TABLE', 'set: custom billing keeps its registered subscriptions in the key table')
        const registration = await records.latestCustomRegistration(identity.userId)
        if (registration === undefined) throw noSubscription()
        const plan: SubscriptionPlan = {
          subscriptionId: registration.subscriptionId,
          status: 'active',
          priceIds: [registration.priceId],
          productIds: [registration.planId]
        }
        return { owner: { userId: identity.userId, companyId: identity.userId }, portalUserId: identity.userId, email: identity.email, plan }
      },
      companyOf: async (identity: BillingIdentity) => identity.userId
    })
  }
  if (config.stripe === undefined) {
    return Object.freeze({
      provider: config.provider,
      stripe: undefined,
      holderForNewKey: async (identity: BillingIdentity) => ({
        owner: { userId: identity.userId, companyId: identity.companyId },
        portalUserId: identity.userId,
        email: identity.email,
        plan: undefined
      }),
      companyOf: async (identity: BillingIdentity) => identity.companyId
    })
  }
  const settings = config.stripe
  const stripe = await createStripeClient(settings)
  const lookup = createCustomerLookup(stripe)
  // Stripe first (it knows customers made elsewhere), then the customer the portal remembered making.
  const customerOf = async (email: string): Promise<string | undefined> => (await lookup(email)) ?? (await records?.customerForEmail(email))
  return Object.freeze({
    provider: config.provider,
    stripe,
    holderForNewKey: async (identity: BillingIdentity) => {
      const email = billingEmail(identity)
      const customerId = await customerOf(email)
      if (customerId === undefined) throw noSubscription()
      const plan = await allowedSubscription(stripe, customerId, settings.allowedStatuses)
      if (plan === undefined) throw noSubscription()
      return { owner: { userId: customerId, companyId: customerId }, portalUserId: identity.userId, email, plan }
    },
    companyOf: async (identity: BillingIdentity) => customerOf(billingEmail(identity))
  })
}
