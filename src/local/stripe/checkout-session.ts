import { randomAlphanumeric, stripeId } from './ids'
import type { WireCheckoutSession } from './wire'

/** One line of a Checkout Session: a catalog price and, for a licensed price, a quantity. */
export interface CheckoutLineItem {
  price: string
  quantity: number | null
}

/** What a new Checkout Session is made of (already validated). */
export interface NewCheckoutSession {
  mode: 'subscription' | 'payment' | 'setup'
  uiMode: string
  customer: string | null
  customerEmail: string | null
  clientReferenceId: string | null
  metadata: Record<string, string>
  returnUrl: string | null
  successUrl: string | null
  cancelUrl: string | null
  redirectOnCompletion: 'always' | 'if_required' | 'never' | null
  currency: string
  /** What the licensed lines cost per period, in the minor unit (metered lines add nothing up front). */
  amount: number
  /** Unix seconds. */
  created: number
}

const EMBEDDED = new Set(['embedded_page', 'embedded', 'elements', 'custom'])

/**
 * `url` with every `{CHECKOUT_SESSION_ID}` replaced by the session's id, as Stripe does for `return_url` and `success_url`.
 *
 * @example
 * withSessionId('https://portal.test/done?session_id={CHECKOUT_SESSION_ID}', 'cs_test_a1') // 'https://portal.test/done?session_id=cs_test_a1'
 */
export function withSessionId(url: string | null, id: string): string | null {
  return url === null ? null : url.replaceAll('{CHECKOUT_SESSION_ID}', id)
}

/**
 * A new, open Checkout Session as `POST /v1/checkout/sessions` answers it.
 * Embedded sessions (`ui_mode` `embedded_page`, or `embedded` before API
 * version 2026-03-25.dahlia) get a `client_secret` (`<id>_secret_<random>`)
 * and no `url`; hosted ones get a checkout.stripe.com `url`.
 *
 * @example
 * newCheckoutSession({ mode: 'subscription', uiMode: 'embedded_page', customer: 'cus_NffrFeUfNV2Hib', ... }).status // 'open'
 */
export function newCheckoutSession(fields: NewCheckoutSession): WireCheckoutSession {
  const id = stripeId('checkoutSession')
  const embedded = EMBEDDED.has(fields.uiMode)
  const session: WireCheckoutSession = {
    id,
    object: 'checkout.session',
    adaptive_pricing: null,
    after_expiration: null,
    allow_promotion_codes: null,
    allowed_payment_method_types: null,
    amount_subtotal: fields.amount,
    amount_total: fields.amount,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: fields.cancelUrl,
    client_reference_id: fields.clientReferenceId,
    client_secret: embedded ? `${id}_secret_${randomAlphanumeric(40)}` : null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: fields.created,
    currency: fields.currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: fields.customer,
    customer_account: null,
    customer_creation: fields.mode === 'subscription' ? null : 'if_required',
    customer_details: null,
    customer_email: fields.customerEmail,
    discounts: [],
    expires_at: fields.created + 24 * 3600,
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    managed_payments: null,
    metadata: { ...fields.metadata },
    mode: fields.mode,
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: 'always',
    payment_method_configuration_details: null,
    payment_method_options: null,
    payment_method_types: ['card'],
    payment_status: 'unpaid',
    permissions: null,
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: 'open',
    submit_type: null,
    subscription: null,
    success_url: withSessionId(fields.successUrl, id),
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: fields.uiMode,
    url: embedded ? null : `https://checkout.stripe.com/c/pay/${id}`,
    wallet_options: null
  }
  if (embedded) {
    session.redirect_on_completion = fields.redirectOnCompletion ?? 'always'
    const returnUrl = withSessionId(fields.returnUrl, id)
    if (returnUrl !== null) session.return_url = returnUrl
  }
  return session
}
