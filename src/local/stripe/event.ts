import { stripeId } from './ids'
import type { WireEvent } from './wire'

/** What a new event is made of. */
export interface NewEvent {
  type: string
  /** The object as it is now; copied, so later changes do not show. */
  object: object
  /** For `*.updated`: the fields that changed, with their values before. */
  previousAttributes?: Record<string, unknown>
  /** The account's API version, which shapes webhook payloads. */
  apiVersion: string
  /** Unix seconds. */
  created: number
  /** The API request that caused it; `undefined` for changes made outside the API (the hosted checkout form, the dashboard). */
  request?: { id: string; idempotencyKey: string | null }
  /** How many webhook endpoints still have to receive it. */
  pendingWebhooks: number
}

/**
 * A Stripe event object, as a webhook delivers it and `GET /v1/events/:id` answers it.
 *
 * @example
 * newEvent({ type: 'customer.subscription.created', object: subscription, apiVersion: '2026-10-28.endive', created: 1767225600, pendingWebhooks: 1 })
 */
export function newEvent(fields: NewEvent): WireEvent {
  const event: WireEvent = {
    id: stripeId('event'),
    object: 'event',
    api_version: fields.apiVersion,
    created: fields.created,
    data: { object: structuredClone(fields.object) as Record<string, unknown> },
    livemode: false,
    pending_webhooks: fields.pendingWebhooks,
    request: { id: fields.request?.id ?? null, idempotency_key: fields.request?.idempotencyKey ?? null },
    type: fields.type
  }
  if (fields.previousAttributes !== undefined) event.data.previous_attributes = structuredClone(fields.previousAttributes)
  return event
}
