import type { APIGatewayProxyEventV2WithLambdaAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { DevPortalKeysError } from '../runtime/errors'
import { jsonResponse } from '../http/http-response'

/** The identity the authorizer passed on, as the backend sees it. */
export interface CallerIdentity {
  readonly orgId: string
  readonly userId: string
  readonly keyId: string
}

/**
 * Read the caller from the Lambda authorizer's context. A missing context
 * means the route was deployed without the authorizer: that is a server
 * fault (500), never an anonymous pass.
 *
 * @example
 * const { orgId } = callerIdentity(event)
 */
export function callerIdentity(event: APIGatewayProxyEventV2WithLambdaAuthorizer<Record<string, unknown>>): CallerIdentity {
  const context = event.requestContext?.authorizer?.lambda
  const orgId = context?.orgId
  if (typeof orgId !== 'string' || orgId === '') {
    throw new DevPortalKeysError('ERR_NO_AUTHORIZER_CONTEXT', 500, 'Route reached without the API-key authorizer context')
  }
  const str = (v: unknown): string => (typeof v === 'string' ? v : '')
  return { orgId, userId: str(context?.userId), keyId: str(context?.keyId) }
}

/**
 * `GET /v1/whoami`: answer with the caller's identity. The template a
 * provider replaces with their own API.
 *
 * @example
 * await whoami(event) // { statusCode: 200, body: '{"orgId":"acme","userId":"u1","keyId":"..."}' }
 */
export async function whoami(event: APIGatewayProxyEventV2WithLambdaAuthorizer<Record<string, unknown>>): Promise<APIGatewayProxyStructuredResultV2> {
  return jsonResponse(200, callerIdentity(event))
}
