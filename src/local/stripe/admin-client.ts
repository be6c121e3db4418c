/**
 * How another process (a CLI, a test runner) drives a running Stripe
 * stand-in: over HTTP, through its `/_stand-in/` admin endpoints, so the
 * stand-in stays the only writer of its state. {@link connectToStripeStandIn}
 * finds the stand-in that owns a state file (its lock names the URL, the file
 * holds the key); {@link stripeStandInAdminClient} talks to one at a known URL.
 */
import { readFileSync } from 'node:fs'
import type { Delivered, StripeStandInFault } from './admin-routes'
import type { StripeErrorObject } from './errors'
import { findRunningStripeStandIn } from './state-file'
import type { CancelOutcome, CompleteCheckoutOutcome, StatusOutcome, SubscribeInput, SubscribeOutcome } from './store'
import type { WebhookDelivery } from './webhook'
import type { WireCheckoutSession, WireCustomer, WireDeletedCustomer, WireSubscription } from './wire'

/** An admin call's outcome: the answer, a Stripe error answer (`status` set), or no answer at all (`status` undefined). */
export type AdminCallResult<T> =
  { ok: true; value: T } | { ok: false; status: number; error: StripeErrorObject } | { ok: false; status: undefined; error: { message: string } }

/** What `GET /_stand-in/state` answers. */
export interface StandInSnapshot {
  customers: (WireCustomer | WireDeletedCustomer)[]
  subscriptions: WireSubscription[]
  checkoutSessions: WireCheckoutSession[]
  eventCount: number
  fault: StripeStandInFault
  webhookUrl: string | null
  apiVersion: string
}

/** A client of one stand-in's admin endpoints. */
export interface StripeStandInAdminClient {
  readonly url: string
  state(): Promise<AdminCallResult<StandInSnapshot>>
  subscribe(input: SubscribeInput): Promise<AdminCallResult<Delivered<SubscribeOutcome>>>
  cancel(input: { email: string; atPeriodEnd?: boolean }): Promise<AdminCallResult<Delivered<CancelOutcome>>>
  completeCheckout(sessionId: string, input?: { email?: string; name?: string }): Promise<AdminCallResult<Delivered<CompleteCheckoutOutcome>>>
  setSubscriptionStatus(subscriptionId: string, status: string): Promise<AdminCallResult<Delivered<StatusOutcome>>>
  redeliver(eventId: string, input?: { url?: string }): Promise<AdminCallResult<{ delivery: WebhookDelivery }>>
  /** `unreachable` needs `forMs`: the stand-in stops listening, then listens again. */
  setFault(fault: StripeStandInFault & { forMs?: number }): Promise<AdminCallResult<{ fault: StripeStandInFault }>>
  reset(): Promise<AdminCallResult<{ reset: true }>>
}

/**
 * A client of the stand-in at `url` with key `apiKey`. Never throws: a stand-in
 * that does not answer comes back as `{ ok: false, status: undefined }`.
 *
 * @example
 * const admin = stripeStandInAdminClient({ url: 'http://127.0.0.1:12111', apiKey: 'sk_test_...' })
 * const outcome = await admin.subscribe({ email: 'alice@acme.test', priceId: 'price_basic' })
 * if (!outcome.ok) console.error(outcome.error.message)
 */
export function stripeStandInAdminClient(target: { url: string; apiKey: string; timeoutMs?: number }): StripeStandInAdminClient {
  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<AdminCallResult<T>> => {
    let response: Response
    try {
      response = await fetch(`${target.url}/_stand-in/${path}`, {
        method,
        headers: { authorization: `Bearer ${target.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(target.timeoutMs ?? 15_000)
      })
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code
      return {
        ok: false,
        status: undefined,
        error: { message: `no answer from the Stripe stand-in at ${target.url}: ${cause ?? (error as Error).message}` }
      }
    }
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return { ok: false, status: response.status, error: { type: 'api_error', message: `not JSON: ${text.slice(0, 200)}` } }
    }
    if (response.ok) return { ok: true, value: parsed as T }
    const error = (parsed as { error?: StripeErrorObject }).error
    return { ok: false, status: response.status, error: error ?? { type: 'api_error', message: text.slice(0, 200) } }
  }
  const id = (value: string): string => encodeURIComponent(value)
  return {
    url: target.url,
    state: () => call('GET', 'state'),
    subscribe: (input) => call('POST', 'subscribe', input),
    cancel: (input) => call('POST', 'cancel', input),
    completeCheckout: (sessionId, input = {}) => call('POST', `checkout/sessions/${id(sessionId)}/complete`, input),
    setSubscriptionStatus: (subscriptionId, status) => call('POST', `subscriptions/${id(subscriptionId)}/status`, { status }),
    redeliver: (eventId, input = {}) => call('POST', `events/${id(eventId)}/deliver`, input),
    setFault: (fault) => call('POST', 'fault', fault),
    reset: () => call('POST', 'reset', {})
  }
}

/**
 * A client of the stand-in that owns `statePath` right now, or `undefined`
 * when none runs (then the caller may start one on that file itself). The
 * URL comes from the lock next to the file, the key from the file.
 *
 * @example
 * const admin = connectToStripeStandIn('.local/stripe.json')
 * if (admin === undefined) console.error('start the stack first (npm start)')
 * else await admin.completeCheckout(sessionId)
 */
export function connectToStripeStandIn(statePath: string): StripeStandInAdminClient | undefined {
  const running = findRunningStripeStandIn(statePath)
  if (running === undefined) return undefined
  let apiKey: unknown
  try {
    apiKey = (JSON.parse(readFileSync(statePath, 'utf8')) as { apiKey?: unknown }).apiKey
  } catch {
    return undefined
  }
  return typeof apiKey === 'string' ? stripeStandInAdminClient({ url: running.url, apiKey }) : undefined
}
