import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { readEnv, type Env } from '../lib/runtime/env'
import { HttpError } from '../lib/runtime/errors'
import { jsonResponse } from '../lib/http/http-response'
import { isLoopbackUrl } from '../lib/http/url'
import type { MoesifWireEvent } from './moesif-collector'

/**
 * `GET /local/moesif-events` (local stage only): the events the local Moesif
 * collector received, newest first, exactly as the Moesif client sent them
 * (headers already masked), so the key console can show what Moesif would get.
 */

/** Where the collector is, when there is a local one. */
export interface MoesifEventsFeedDeps {
  /** The collector's base URI, or `undefined` when events go to Moesif itself (or Moesif is off). */
  readonly collectorUri: string | undefined
  readonly fetch: typeof fetch
}

/** The most events one answer carries; the collector under `npm start` keeps 100. */
const MAX_EVENTS = 20
const COLLECTOR_TIMEOUT_MS = 2000

/**
 * Read the collector's address from `MOESIF_BASE_URI`: only a loopback one
 * counts, so the console never calls out to Moesif's real API.
 *
 * @example
 * const deps = loadMoesifEventsFeedDeps(process.env)
 */
export function loadMoesifEventsFeedDeps(env: Env, fetchImpl: typeof fetch = fetch): MoesifEventsFeedDeps {
  const baseUri = readEnv(env, 'MOESIF_BASE_URI')
  let collectorUri: string | undefined
  if (readEnv(env, 'MOESIF_APPLICATION_ID') !== undefined && baseUri !== undefined && URL.canParse(baseUri) && isLoopbackUrl(new URL(baseUri))) {
    collectorUri = baseUri.replace(/\/+$/, '')
  }
  return { collectorUri, fetch: fetchImpl }
}

/**
 * Answer 200 `{ events }` (newest first, at most 20); 404
 * `ERR_NO_LOCAL_COLLECTOR` when events go to Moesif itself; 503
 * `ERR_COLLECTOR_UNAVAILABLE` when the collector does not answer.
 *
 * @example
 * const response = await recentMoesifEvents(deps)
 */
export async function recentMoesifEvents(deps: MoesifEventsFeedDeps): Promise<APIGatewayProxyStructuredResultV2> {
  if (deps.collectorUri === undefined) {
    throw new HttpError(
      404,
      'ERR_NO_LOCAL_COLLECTOR',
      'No local Moesif collector: events go to Moesif itself (MOESIF_APPLICATION_ID is set), or Moesif is off'
    )
  }
  let events: MoesifWireEvent[]
  try {
    const response = await deps.fetch(`${deps.collectorUri}/local/events`, { signal: AbortSignal.timeout(COLLECTOR_TIMEOUT_MS) })
    if (!response.ok) throw new Error(`collector answered ${response.status}`)
    events = ((await response.json()) as { events: MoesifWireEvent[] }).events
  } catch (error) {
    throw new HttpError(503, 'ERR_COLLECTOR_UNAVAILABLE', 'The local Moesif collector did not answer', { cause: error })
  }
  return jsonResponse(200, { events: events.slice(-MAX_EVENTS).reverse() })
}
