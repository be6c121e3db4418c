/**
 * The event `withMoesif` sends itself when moesif-aws-lambda fails on a call
 * (its import, or an error while it built the event), so that the call is
 * still metered once. It carries what the library would have sent except the
 * bodies, which are replaced by the "[body not logged: ...]" marker, and
 * sampling (its weight is 1).
 */
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'
import type { MoesifEventData } from 'moesif-aws-lambda'
import { BODY_NOT_LOGGED, bodyNotLoggedMarker } from './bodies'
import { maskMoesifEvent } from './masking'
import type { MoesifSettings } from './settings'
import type { ApiEvent } from './wrapper'

/** Who made the call, as `withMoesif` identifies users and companies. */
export interface CallIdentity {
  userId: string | undefined
  companyId: string | undefined
}

/**
 * The event for a call the library could not report, or undefined for a call
 * it would not report either (no HTTP method: not an HTTP API call).
 *
 * @example
 * const eventData = fallbackEventData(event, context, result, identity, settings)
 * if (eventData !== undefined) await delivery.send(eventData)
 */
export function fallbackEventData(
  event: ApiEvent,
  context: Context,
  result: APIGatewayProxyStructuredResultV2,
  identity: CallIdentity,
  settings: Pick<MoesifSettings, 'logBody' | 'maskFields'>
): MoesifEventData | undefined {
  const requestContext = event.requestContext as Partial<ApiEvent['requestContext']> | undefined
  const method = requestContext?.http?.method
  if (typeof method !== 'string') return undefined
  const reason = BODY_NOT_LOGGED.noLibraryEvent
  const body = settings.logBody ? { body: bodyNotLoggedMarker(reason) } : {}
  const status = typeof result.statusCode === 'number' ? result.statusCode : 200 // what API Gateway answers without one
  const eventData: MoesifEventData = {
    request: {
      time: typeof requestContext?.timeEpoch === 'number' ? requestContext.timeEpoch : Date.now(),
      uri: `${typeof event.rawPath === 'string' && event.rawPath !== '' ? event.rawPath : '/'}${event.rawQueryString ? `?${event.rawQueryString}` : ''}`,
      verb: method,
      headers: { ...event.headers },
      ipAddress: requestContext?.http?.sourceIp,
      apiVersion: context.functionVersion,
      ...body
    },
    response: { time: Date.now(), status, headers: { ...result.headers }, ...body },
    metadata: {
      trace_id: context.awsRequestId,
      function_name: context.functionName,
      ...(settings.logBody ? { body_not_logged: { request: reason, response: reason } } : {})
    }
  }
  let masked: MoesifEventData
  try {
    masked = maskMoesifEvent(eventData, { logBody: settings.logBody, maskFields: [] })
  } catch {
    // Headers we cannot even walk are not sent at all.
    masked = { ...eventData, request: { ...eventData.request, headers: {} }, response: { ...eventData.response, headers: {} } }
  }
  return { ...masked, userId: identity.userId, companyId: identity.companyId, direction: 'Incoming', weight: 1 }
}
