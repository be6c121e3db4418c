/**
 * The stand-in's admin endpoints, under `/_stand-in/` (not Stripe's API;
 * same `Authorization: Bearer <apiKey>`; JSON bodies, camelCase fields;
 * errors in Stripe's error shape). They do what happens outside the API in a
 * real account (a customer paying in Stripe's form, a renewal failing, an
 * outage) and answer the events a real account would send:
 *
 * | Call | Body | Answer |
 * | --- | --- | --- |
 * | `GET /_stand-in/state` | | `{ customers, subscriptions, checkoutSessions, eventCount, fault, webhookUrl, apiVersion }` |
 * | `POST /_stand-in/subscribe` | `{ email, priceId, metadata?, name?, quantity?, subscriptionMetadata? }` | `{ customer, subscription, events, deliveries }` |
 * | `POST /_stand-in/cancel` | `{ email, atPeriodEnd? }` | `{ subscriptions, events, deliveries }` |
 * | `POST /_stand-in/checkout/sessions/:id/complete` | `{ email?, name? }` | `{ session, customer, subscription, events, deliveries }` |
 * | `POST /_stand-in/subscriptions/:id/status` | `{ status }` | `{ subscription, events, deliveries }` |
 * | `POST /_stand-in/events/:id/deliver` | `{ url? }` | `{ delivery }` (sends the event again: Stripe does deliver twice) |
 * | `POST /_stand-in/fault` | `{ mode: 'none' \| 'error' \| 'hang' \| 'unreachable', status?, forMs? }` | `{ fault }` (`unreachable` needs `forMs`: nothing answers until then) |
 * | `POST /_stand-in/reset` | | `{ reset: true }` |
 */
import { fail, invalidRequest, missingParam, ok, unrecognizedUrl, type StripeResult } from './errors'
import type { CancelOutcome, CompleteCheckoutOutcome, StatusOutcome, StripeStandInState, SubscribeInput, SubscribeOutcome } from './store'
import type { WebhookDelivery } from './webhook'

/** How the stand-in answers API calls: normally, with an error status, never, or not at all (not listening). */
export type StripeStandInFaultMode = 'none' | 'error' | 'hang' | 'unreachable'

/** The fault in force. */
export interface StripeStandInFault {
  mode: StripeStandInFaultMode
  /** For `'error'`: the status to answer (default 500; 429 is Stripe's rate limit). */
  status?: 429 | 500 | 502 | 503
}

/** What an admin action did, plus how its events' webhook deliveries went (empty without a `webhookUrl`). */
export type Delivered<T> = T & { deliveries: WebhookDelivery[] }

/** The admin operations of a running stand-in (what the endpoints call). */
export interface StandInAdminOperations {
  subscribe(input: SubscribeInput): Promise<StripeResult<Delivered<SubscribeOutcome>>>
  cancel(input: { email: string; atPeriodEnd?: boolean }): Promise<StripeResult<Delivered<CancelOutcome>>>
  completeCheckout(sessionId: string, input?: { email?: string; name?: string }): Promise<StripeResult<Delivered<CompleteCheckoutOutcome>>>
  setSubscriptionStatus(subscriptionId: string, status: string): Promise<StripeResult<Delivered<StatusOutcome>>>
  redeliver(eventId: string, input?: { url?: string }): Promise<StripeResult<WebhookDelivery>>
  setFault(fault: StripeStandInFault, options?: { forMs?: number }): Promise<void>
  reset(): void
  readonly fault: StripeStandInFault
  readonly webhookUrl: string | undefined
  readonly apiVersion: string
  readonly state: StripeStandInState
}

/** An admin answer, and what to do once it has been sent (going unreachable must wait for that). */
export interface AdminAnswer {
  result: StripeResult<unknown>
  after?: () => Promise<void>
}

const MAX_FAULT_MS = 10 * 60_000

function record(body: unknown): Record<string, unknown> | undefined {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined
}

function text(body: Record<string, unknown>, name: string, required: true): StripeResult<string>
function text(body: Record<string, unknown>, name: string, required: false): StripeResult<string | undefined>
function text(body: Record<string, unknown>, name: string, required: boolean): StripeResult<string | undefined> {
  const value = body[name]
  if (value === undefined || value === null || value === '') return required ? fail(missingParam(name)) : ok(undefined)
  return typeof value === 'string' ? ok(value) : fail(invalidRequest(`${name} must be a string`, name))
}

function stringMap(body: Record<string, unknown>, name: string): StripeResult<Record<string, string> | undefined> {
  const value = body[name]
  if (value === undefined || value === null) return ok(undefined)
  const map = record(value)
  if (map === undefined || Object.values(map).some((entry) => typeof entry !== 'string')) {
    return fail(invalidRequest(`${name} must be an object of strings`, name))
  }
  return ok(map as Record<string, string>)
}

const ROUTES = [
  'GET state',
  'POST subscribe',
  'POST cancel',
  'POST checkout/sessions/:id/complete',
  'POST subscriptions/:id/status',
  'POST events/:id/deliver',
  'POST fault',
  'POST reset'
]

/** The route template `segments` match (`:id` matches any one segment), or `undefined`. */
function routeOf(method: string, segments: string[]): string | undefined {
  return ROUTES.find((route) => {
    const [routeMethod, template = ''] = route.split(' ')
    const parts = template.split('/')
    return routeMethod === method && parts.length === segments.length && parts.every((part, index) => part === ':id' || part === segments[index])
  })
}

async function run(admin: StandInAdminOperations, method: string, segments: string[], body: Record<string, unknown>): Promise<AdminAnswer> {
  switch (routeOf(method, segments)) {
    case 'GET state': {
      const state = admin.state
      return {
        result: ok({
          customers: Object.values(state.customers).map((stored) => stored.object),
          subscriptions: Object.values(state.subscriptions),
          checkoutSessions: Object.values(state.checkoutSessions).map((stored) => stored.session),
          eventCount: state.events.length,
          fault: admin.fault,
          webhookUrl: admin.webhookUrl ?? null,
          apiVersion: admin.apiVersion
        })
      }
    }
    case 'POST subscribe': {
      const email = text(body, 'email', true)
      if (!email.ok) return { result: email }
      const priceId = text(body, 'priceId', true)
      if (!priceId.ok) return { result: priceId }
      const name = text(body, 'name', false)
      if (!name.ok) return { result: name }
      const metadata = stringMap(body, 'metadata')
      if (!metadata.ok) return { result: metadata }
      const subscriptionMetadata = stringMap(body, 'subscriptionMetadata')
      if (!subscriptionMetadata.ok) return { result: subscriptionMetadata }
      const quantity = body.quantity
      if (quantity !== undefined && (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1)) {
        return { result: fail(invalidRequest('quantity must be a positive integer', 'quantity')) }
      }
      return {
        result: await admin.subscribe({
          email: email.value,
          priceId: priceId.value,
          ...(name.value === undefined ? {} : { name: name.value }),
          ...(metadata.value === undefined ? {} : { metadata: metadata.value }),
          ...(subscriptionMetadata.value === undefined ? {} : { subscriptionMetadata: subscriptionMetadata.value }),
          ...(quantity === undefined ? {} : { quantity })
        })
      }
    }
    case 'POST cancel': {
      const email = text(body, 'email', true)
      if (!email.ok) return { result: email }
      if (body.atPeriodEnd !== undefined && typeof body.atPeriodEnd !== 'boolean') {
        return { result: fail(invalidRequest('atPeriodEnd must be a boolean', 'atPeriodEnd')) }
      }
      return { result: await admin.cancel({ email: email.value, atPeriodEnd: body.atPeriodEnd === true }) }
    }
    case 'POST checkout/sessions/:id/complete': {
      const email = text(body, 'email', false)
      if (!email.ok) return { result: email }
      const name = text(body, 'name', false)
      if (!name.ok) return { result: name }
      const input = { ...(email.value === undefined ? {} : { email: email.value }), ...(name.value === undefined ? {} : { name: name.value }) }
      return { result: await admin.completeCheckout(segments[2] as string, input) }
    }
    case 'POST subscriptions/:id/status': {
      const status = text(body, 'status', true)
      if (!status.ok) return { result: status }
      return { result: await admin.setSubscriptionStatus(segments[1] as string, status.value) }
    }
    case 'POST events/:id/deliver': {
      const url = text(body, 'url', false)
      if (!url.ok) return { result: url }
      const delivery = await admin.redeliver(segments[1] as string, url.value === undefined ? {} : { url: url.value })
      return { result: delivery.ok ? ok({ delivery: delivery.value }) : delivery }
    }
    case 'POST fault': {
      const mode = text(body, 'mode', true)
      if (!mode.ok) return { result: mode }
      if (!['none', 'error', 'hang', 'unreachable'].includes(mode.value)) {
        return { result: fail(invalidRequest('mode must be one of none, error, hang, unreachable', 'mode')) }
      }
      const status = body.status
      if (status !== undefined && ![429, 500, 502, 503].includes(status as number)) {
        return { result: fail(invalidRequest('status must be one of 429, 500, 502, 503', 'status')) }
      }
      const forMs = body.forMs
      if (forMs !== undefined && (typeof forMs !== 'number' || !Number.isInteger(forMs) || forMs < 1 || forMs > MAX_FAULT_MS)) {
        return { result: fail(invalidRequest(`forMs must be an integer from 1 to ${MAX_FAULT_MS}`, 'forMs')) }
      }
      if (mode.value === 'unreachable' && forMs === undefined) {
        return {
          result: fail(invalidRequest('mode unreachable needs forMs: once the stand-in stops listening, no HTTP call can bring it back', 'forMs'))
        }
      }
      const fault: StripeStandInFault = {
        mode: mode.value as StripeStandInFaultMode,
        ...(status === undefined ? {} : { status: status as 429 | 500 | 502 | 503 })
      }
      const options = forMs === undefined ? {} : { forMs: forMs as number }
      if (fault.mode === 'unreachable') return { result: ok({ fault }), after: () => admin.setFault(fault, options) }
      await admin.setFault(fault, options)
      return { result: ok({ fault }) }
    }
    case 'POST reset':
      admin.reset()
      return { result: ok({ reset: true }) }
    default:
      return { result: fail(unrecognizedUrl(method, `/_stand-in/${segments.join('/')}`)) }
  }
}

/**
 * Answer one admin call. `path` is what follows `/_stand-in/`; `body` the decoded JSON (or form) body.
 *
 * @example
 * const { result, after } = await routeStandInAdmin(standIn, 'POST', 'subscribe', { email: 'alice@acme.test', priceId: 'price_basic' })
 */
export async function routeStandInAdmin(admin: StandInAdminOperations, method: string, path: string, body: unknown): Promise<AdminAnswer> {
  const fields = body === undefined ? {} : record(body)
  if (fields === undefined) return { result: fail(invalidRequest('The body must be a JSON object.')) }
  const segments = path
    .split('/')
    .filter((segment) => segment !== '')
    .map(decodeURIComponent)
  return run(admin, method, segments, fields)
}
