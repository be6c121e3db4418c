import { randomBytes } from 'node:crypto'
import { stripeId } from './ids'
import type { WireCustomer } from './wire'

/** What a new customer is made of. */
export interface NewCustomer {
  email: string | null
  name?: string | null
  description?: string | null
  metadata?: Record<string, string>
  /** Unix seconds. */
  created: number
}

/**
 * A new customer object as `POST /v1/customers` answers it (no payment method, balance 0).
 *
 * @example
 * newCustomer({ email: 'alice@acme.test', metadata: { authUserId: 'auth0|alice' }, created: 1767225600 })
 */
export function newCustomer(fields: NewCustomer): WireCustomer {
  return {
    id: stripeId('customer'),
    object: 'customer',
    address: null,
    balance: 0,
    created: fields.created,
    currency: null,
    customer_account: null,
    default_source: null,
    delinquent: false,
    description: fields.description ?? null,
    discount: null,
    email: fields.email,
    invoice_prefix: randomBytes(4).toString('hex').toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: { ...fields.metadata },
    name: fields.name ?? null,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null
  }
}
