/**
 * Webhooks as Stripe sends them: a POST of the event's JSON with a
 * `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
 * header keyed with the endpoint's `whsec_...` secret, which
 * `stripe.webhooks.constructEvent(body, header, secret)` verifies.
 */
import { createHmac } from 'node:crypto'
import type { WireEvent } from './wire'

/**
 * The `Stripe-Signature` header for `payload`, signed at `timestamp` (Unix seconds, default now).
 *
 * @example
 * stripeSignatureHeader('{"id":"evt_1"}', 'whsec_test', 1767225600) // 't=1767225600,v1=5d41...'
 */
export function stripeSignatureHeader(payload: string, webhookSecret: string, timestamp: number = Math.floor(Date.now() / 1000)): string {
  const signature = createHmac('sha256', webhookSecret).update(`${timestamp}.${payload}`, 'utf8').digest('hex')
  return `t=${timestamp},v1=${signature}`
}

/**
 * The body Stripe posts for an event: its JSON, indented by two spaces.
 *
 * @example
 * const body = webhookPayload(event)
 */
export function webhookPayload(event: WireEvent): string {
  return JSON.stringify(event, null, 2)
}

/** Where and how to deliver. */
export interface WebhookTarget {
  /** The endpoint, e.g. `http://127.0.0.1:3000/stripe/webhook`. */
  url: string
  webhookSecret: string
  /** Give up after this long (default 10 000 ms; Stripe waits up to 20 s). */
  timeoutMs?: number
  /** Sign as of this moment (Unix seconds, default now): an old one tests the receiver's tolerance. */
  timestamp?: number
  /** Abort the delivery early (the stand-in closing). */
  signal?: AbortSignal
}

/** What happened to one delivery: the endpoint's status, or why there was none. A 2xx is a success to Stripe. */
export type WebhookDelivery =
  | { ok: true; eventId: string; type: string; status: number }
  | { ok: false; eventId: string; type: string; status: number | undefined; reason: string }

/**
 * POST `event` to `target.url` as Stripe would (JSON body, `Stripe-Signature`,
 * Stripe's `User-Agent`), once, with no retry. Never throws: an unreachable
 * endpoint or a non-2xx answer comes back as `{ ok: false, reason }`.
 *
 * @example
 * const delivery = await deliverWebhook(event, { url: 'http://127.0.0.1:3000/stripe/webhook', webhookSecret: standIn.webhookSecret })
 * if (!delivery.ok) console.warn(delivery.reason)
 */
export async function deliverWebhook(event: WireEvent, target: WebhookTarget): Promise<WebhookDelivery> {
  const payload = webhookPayload(event)
  const base = { eventId: event.id, type: event.type }
  try {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        'stripe-signature': stripeSignatureHeader(payload, target.webhookSecret, target.timestamp)
      },
      body: payload,
      signal: AbortSignal.any([AbortSignal.timeout(target.timeoutMs ?? 10_000), ...(target.signal === undefined ? [] : [target.signal])])
    })
    await response.arrayBuffer().catch(() => undefined)
    if (response.status >= 200 && response.status < 300) return { ...base, ok: true, status: response.status }
    return { ...base, ok: false, status: response.status, reason: `the endpoint answered ${response.status}` }
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code
    return { ...base, ok: false, status: undefined, reason: `no answer from ${target.url}: ${cause ?? (error as Error).message}` }
  }
}
