/**
 * Moesif's wire format for one API event (what moesifapi's EventModel
 * serializes to: snake_case, nulls left out), built from the event data
 * moesif-aws-lambda hands over. Serializing never fails: an event that cannot
 * be serialized whole is sent without its bodies, and failing that, with only
 * its scalar fields.
 */
import type { MoesifEventData } from 'moesif-aws-lambda'
import { BODY_NOT_LOGGED, bodyNotLoggedMarker, withBodiesNotLogged } from './bodies'

/** An event as delivery takes it: the library's, plus the id of the governance rule that blocked the call, if one did (`blocked_by`). */
export type MoesifEventWithBlock = MoesifEventData & { blockedBy?: string | undefined }

/**
 * The event as the JSON text POSTed to `/v1/events` (a batch is these,
 * comma-joined in brackets).
 *
 * @example
 * serializeMoesifEvent(eventData) // '{"request":{"time":"2026-...","uri":"/v1/whoami",...},...}'
 */
export function serializeMoesifEvent(event: MoesifEventWithBlock): string {
  try {
    return JSON.stringify(toWire(event))
  } catch {
    // A value JSON cannot hold (a BigInt, a cycle, a throwing toJSON); bodies are the likely culprit.
  }
  const reason = BODY_NOT_LOGGED.unserializable
  try {
    const marker = bodyNotLoggedMarker(reason)
    return JSON.stringify(
      toWire({
        ...event,
        request: { ...event.request, body: marker, transferEncoding: undefined },
        response: { ...event.response, body: marker, transferEncoding: undefined },
        metadata: withBodiesNotLogged(event.metadata, { request: reason, response: reason })
      })
    )
  } catch {
    // Headers or metadata, then.
  }
  return JSON.stringify(minimalWire(event, reason))
}

function toWire(event: MoesifEventWithBlock): Record<string, unknown> {
  const { request, response } = event
  return compact({
    request: compact({
      time: wireTime(request.time),
      uri: request.uri,
      verb: request.verb,
      headers: request.headers,
      api_version: request.apiVersion,
      ip_address: request.ipAddress,
      body: request.body,
      transfer_encoding: request.transferEncoding
    }),
    response: compact({
      time: wireTime(response.time),
      status: response.status,
      headers: response.headers,
      body: response.body,
      transfer_encoding: response.transferEncoding
    }),
    session_token: event.sessionToken,
    user_id: event.userId,
    company_id: event.companyId,
    metadata: event.metadata,
    direction: event.direction,
    weight: event.weight,
    blocked_by: event.blockedBy
  })
}

/** Only the fields that are strings or numbers by construction; cannot throw. */
function minimalWire(event: MoesifEventWithBlock, reason: string): Record<string, unknown> {
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)
  const number = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined)
  const metadata = event.metadata ?? {}
  return compact({
    request: compact({ time: wireTime(event.request?.time), uri: text(event.request?.uri) ?? '/', verb: text(event.request?.verb) ?? 'GET' }),
    response: compact({ time: wireTime(event.response?.time), status: number(event.response?.status) ?? 599 }),
    user_id: text(event.userId),
    company_id: text(event.companyId),
    metadata: compact({
      trace_id: text(metadata.trace_id),
      function_name: text(metadata.function_name),
      body_not_logged: { request: reason, response: reason },
      headers_not_logged: reason
    }),
    direction: text(event.direction),
    weight: number(event.weight),
    blocked_by: text(event.blockedBy)
  })
}

function wireTime(time: unknown): string {
  const date = new Date(time instanceof Date || typeof time === 'number' || typeof time === 'string' ? time : Number.NaN)
  return Number.isNaN(date.getTime()) ? new Date().toISOString() : date.toISOString()
}

/** Without undefined or null values (moesifapi's cleanObject does the same before sending). */
function compact(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== null))
}
