import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { headerValue, tokenFromAuthorization } from '../lib/http/bearer-token'
import { jsonResponse } from '../lib/http/http-response'
import { loadPortalConfig } from '../lib/portal/portal-config'
import { createPortalTokenVerifier, type PortalTokenVerifier } from '../lib/portal/portal-identity'
import { readEnv, type Env } from '../lib/runtime/env'
import { HttpError } from '../lib/runtime/errors'
import { sellablePrices, stripeStatePath, type SellablePrice } from './local-stripe-settings'
import { stripeStandInAdminClient, type AdminCallResult, type StripeStandInAdminClient } from './stripe/admin-client'
import { findRunningStripeStandIn } from './stripe/state-file'
import type { WebhookDelivery } from './stripe/webhook'

/**
 * The key console's side of stripe mode (local stage only,
 * config/local-functions.cjs):
 *
 * - `GET /local/stripe`: the mode (`provider`), whether the stack's Stripe is
 *   the local stand-in, the prices it sells and, with the signed-in dev user's
 *   ID token, that user's customer and subscriptions.
 * - `POST /local/stripe/subscribe` `{ priceId }` and `POST /local/stripe/cancel`:
 *   what `npm run -s stripe -- subscribe|cancel` does, for the email in the
 *   verified ID token (the email create-key finds the customer by), answered
 *   once the stand-in has delivered the webhooks to the stack.
 */

/** What the endpoints need. */
export interface LocalStripeDeps {
  readonly provider: 'none' | 'stripe'
  /** `STRIPE_API_BASE` in stripe mode. */
  readonly apiBase: string | undefined
  /** The running stand-in's admin client when `STRIPE_API_BASE` is the stand-in `npm start` runs, else `undefined`. */
  readonly standIn: StripeStandInAdminClient | undefined
  /** Verifies the console's ID token (stripe mode only). */
  readonly verifyPortalToken: PortalTokenVerifier | undefined
  readonly prices: readonly SellablePrice[]
}

/** How one webhook went, for the console. */
export interface WebhookNote {
  readonly eventId: string
  readonly type: string
  readonly delivered: boolean
  /** The stack's status, or why there was none; `queued` while the stack is still starting. */
  readonly detail: string
}

const MAX_BODY_BYTES = 1024

/**
 * Read the mode from the functions' environment: `APP_PAYMENT_PROVIDER`,
 * `STRIPE_API_BASE` and `STRIPE_API_KEY` (npm start sets the last two to the
 * stand-in's), and the stand-in's lock in `LOCAL_STATE_DIR`, which says
 * whether that address is the stand-in this stack runs.
 *
 * @example
 * const deps = loadLocalStripeDeps(process.env)
 */
export function loadLocalStripeDeps(env: Env): LocalStripeDeps {
  const provider = (readEnv(env, 'APP_PAYMENT_PROVIDER') ?? 'none').toLowerCase() === 'stripe' ? 'stripe' : 'none'
  if (provider === 'none') return { provider, apiBase: undefined, standIn: undefined, verifyPortalToken: undefined, prices: [] }
  const apiBase = readEnv(env, 'STRIPE_API_BASE')
  const apiKey = readEnv(env, 'STRIPE_API_KEY')
  const running = findRunningStripeStandIn(stripeStatePath(readEnv(env, 'LOCAL_STATE_DIR') ?? '.local'))
  const isStandIn = running !== undefined && apiBase !== undefined && URL.canParse(apiBase) && new URL(apiBase).origin === running.url
  return {
    provider,
    apiBase,
    standIn: isStandIn && apiKey !== undefined ? stripeStandInAdminClient({ url: running.url, apiKey, timeoutMs: 20_000 }) : undefined,
    verifyPortalToken: createPortalTokenVerifier(loadPortalConfig(env)),
    prices: isStandIn ? sellablePrices() : []
  }
}

function standInOf(deps: LocalStripeDeps): StripeStandInAdminClient {
  if (deps.provider !== 'stripe') {
    throw new HttpError(404, 'ERR_NOT_FOUND', 'Stripe mode is off: restart the stack with APP_PAYMENT_PROVIDER=stripe npm start')
  }
  if (deps.standIn === undefined) {
    throw new HttpError(
      404,
      'ERR_NOT_FOUND',
      `This stack uses the Stripe at ${deps.apiBase ?? 'STRIPE_API_BASE'}, not the local stand-in: subscribe there (unset STRIPE_API_BASE to use the stand-in)`
    )
  }
  return deps.standIn
}

/** The verified email of the console's dev user: Stripe knows customers by it, and so does create-key. */
async function emailOf(deps: LocalStripeDeps, event: Pick<APIGatewayProxyEventV2, 'headers'>): Promise<string> {
  const verify = deps.verifyPortalToken as PortalTokenVerifier
  const identity = await verify(tokenFromAuthorization(headerValue(event.headers, 'authorization')))
  if (identity.email === undefined) {
    throw new HttpError(401, 'ERR_EMAIL_REQUIRED', 'Sign in with an email: Stripe knows its customers by email, and so does create-key')
  }
  // As create-key: an address the identity provider says is unproven must not act for somebody else's customer.
  if (identity.emailVerified === false) {
    throw new HttpError(403, 'ERR_EMAIL_NOT_VERIFIED', 'Verify your email address with your identity provider, then sign in again')
  }
  return identity.email
}

/** An admin call's value, or the HTTP error that says why there is none. */
function valueOf<T>(result: AdminCallResult<T>, what: string): T {
  if (result.ok) return result.value
  if (result.status === undefined) {
    throw new HttpError(503, 'ERR_BILLING_UNAVAILABLE', `The local Stripe stand-in did not answer (${what})`, { expose: true })
  }
  const code = result.status === 404 ? 'ERR_NOT_FOUND' : 'ERR_BAD_BODY'
  throw new HttpError(result.status === 404 ? 404 : 400, code, `The Stripe stand-in refused to ${what}: ${result.error.message ?? 'no reason given'}`)
}

function parseBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>, fields: readonly string[]): Record<string, unknown> {
  const raw = event.isBase64Encoded && event.body !== undefined ? Buffer.from(event.body, 'base64').toString('utf8') : (event.body ?? '')
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES) throw new HttpError(413, 'ERR_BODY_TOO_LARGE', `Body must be at most ${MAX_BODY_BYTES} bytes`)
  if (raw.trim() === '') return {}
  let body: unknown
  try {
    body = JSON.parse(raw)
  } catch {
    throw new HttpError(400, 'ERR_BAD_BODY', 'Body must be JSON')
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'ERR_BAD_BODY', 'Body must be a JSON object')
  const unknown = Object.keys(body).find((name) => !fields.includes(name))
  if (unknown !== undefined) {
    throw new HttpError(400, 'ERR_BAD_BODY', `Unknown field ${JSON.stringify(unknown.slice(0, 40))}; allowed: ${fields.join(', ') || 'none'}`)
  }
  return body as Record<string, unknown>
}

/**
 * How the webhooks of `events` went: delivered, refused by the stack, or
 * queued (no delivery yet: the stack was still starting).
 *
 * @example
 * webhookNotes(outcome.events, outcome.deliveries) // [{ eventId: 'evt_...', type: 'customer.subscription.created', delivered: true, detail: '200' }]
 */
export function webhookNotes(events: readonly { id: string; type: string }[], deliveries: readonly WebhookDelivery[]): WebhookNote[] {
  return events.map((event) => {
    const delivery = deliveries.find((candidate) => candidate.eventId === event.id)
    if (delivery === undefined) return { eventId: event.id, type: event.type, delivered: false, detail: 'queued: the stack is still starting' }
    return delivery.ok
      ? { eventId: event.id, type: event.type, delivered: true, detail: String(delivery.status) }
      : { eventId: event.id, type: event.type, delivered: false, detail: delivery.reason }
  })
}

/**
 * `GET /local/stripe`: 200 `{ provider, standIn, apiBase, prices, customer? }`.
 * `customer` (present only with an ID token) is `null` or
 * `{ id, email, subscriptions: [{ id, status, priceIds }] }`.
 *
 * @example
 * const response = await localStripeStatus(deps, event)
 */
export async function localStripeStatus(
  deps: LocalStripeDeps,
  event: Pick<APIGatewayProxyEventV2, 'headers'>
): Promise<APIGatewayProxyStructuredResultV2> {
  const summary = { provider: deps.provider, standIn: deps.standIn !== undefined, apiBase: deps.apiBase ?? null, prices: deps.prices }
  if (deps.standIn === undefined || headerValue(event.headers, 'authorization') === undefined) return jsonResponse(200, summary)
  const email = await emailOf(deps, event)
  const state = valueOf(await deps.standIn.state(), 'show its state')
  const customer = state.customers.find((candidate) => !('deleted' in candidate && candidate.deleted === true) && candidate.email === email)
  if (customer === undefined) return jsonResponse(200, { ...summary, customer: null })
  const subscriptions = state.subscriptions
    .filter((subscription) => subscription.customer === customer.id)
    .map((subscription) => ({ id: subscription.id, status: subscription.status, priceIds: subscription.items.data.map((item) => item.price.id) }))
  return jsonResponse(200, { ...summary, customer: { id: customer.id, email, subscriptions } })
}

/**
 * `POST /local/stripe/subscribe` `{ priceId }` (default `price_basic`): 200
 * `{ customerId, subscriptionId, status, webhooks }`. `POST /local/stripe/cancel`:
 * 200 `{ customerId, canceled: [{ subscriptionId, status }], webhooks }`
 * (404 when no customer has the email).
 *
 * @example
 * const response = await localStripeAction(deps, event, 'subscribe')
 */
export async function localStripeAction(
  deps: LocalStripeDeps,
  event: Pick<APIGatewayProxyEventV2, 'headers' | 'body' | 'isBase64Encoded'>,
  action: 'subscribe' | 'cancel'
): Promise<APIGatewayProxyStructuredResultV2> {
  const standIn = standInOf(deps)
  const body = parseBody(event, action === 'subscribe' ? ['priceId'] : [])
  const email = await emailOf(deps, event)
  if (action === 'subscribe') {
    const priceId = body.priceId ?? 'price_basic'
    if (typeof priceId !== 'string' || !/^price_[A-Za-z0-9_]{1,100}$/.test(priceId)) {
      throw new HttpError(400, 'ERR_BAD_BODY', 'priceId must be a price id (price_...)')
    }
    const outcome = valueOf(await standIn.subscribe({ email, priceId }), `subscribe ${email} to ${priceId}`)
    return jsonResponse(200, {
      customerId: outcome.customer.id,
      subscriptionId: outcome.subscription.id,
      status: outcome.subscription.status,
      webhooks: webhookNotes(outcome.events, outcome.deliveries)
    })
  }
  const state = valueOf(await standIn.state(), 'show its state')
  const customer = state.customers.find((candidate) => !('deleted' in candidate && candidate.deleted === true) && candidate.email === email)
  if (customer === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', `No Stripe customer has the email ${email}: subscribe first`)
  const outcome = valueOf(await standIn.cancel({ email }), `cancel the subscriptions of ${email}`)
  return jsonResponse(200, {
    customerId: customer.id,
    canceled: outcome.subscriptions.map((subscription) => ({ subscriptionId: subscription.id, status: subscription.status })),
    webhooks: webhookNotes(outcome.events, outcome.deliveries)
  })
}
