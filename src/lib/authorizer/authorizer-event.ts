import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
  APIGatewayTokenAuthorizerEvent,
  PolicyDocument,
  Statement
} from 'aws-lambda'
import { headerValue, tokenFromAuthorization } from '../http/bearer-token'
import { isCompactJws, type ApiKeyIdentity } from '../keys/verify-api-key'

/** Every event shape the authorizer answers: HTTP API payload 2.0, and REST API TOKEN and REQUEST (1.0). */
export type AuthorizerEvent = APIGatewayRequestAuthorizerEventV2 | APIGatewayTokenAuthorizerEvent | APIGatewayRequestAuthorizerEvent

/** The context handed to the backend: the same keys on both API types. */
export type AuthorizerContext = { orgId: string; userId: string; keyId: string }

/** What the authorizer returns, by API type. */
export type AuthorizerResult = APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext> | { isAuthorized: false } | APIGatewayAuthorizerResult

/** The parts of an authorizer event the decision needs, whatever its shape. */
export interface AuthorizerRequest {
  readonly kind: 'http-api' | 'rest-token' | 'rest-request'
  readonly token: string | undefined
  readonly requestId: string | undefined
  /** REST API only: the ARN of the method being called. */
  readonly methodArn: string | undefined
}

/**
 * Read an authorizer event of any supported shape. REST TOKEN events carry
 * the `Authorization` value in `authorizationToken`; REQUEST events (both
 * payload versions) carry headers, read case-insensitively.
 *
 * @example
 * const { kind, token } = readAuthorizerEvent(event)
 */
export function readAuthorizerEvent(event: AuthorizerEvent): AuthorizerRequest {
  if (event.type === 'TOKEN') {
    const token = bearerToken(typeof event.authorizationToken === 'string' ? event.authorizationToken : undefined)
    return { kind: 'rest-token', token, requestId: undefined, methodArn: event.methodArn }
  }
  const token = bearerToken(headerValue(event.headers, 'authorization'))
  if ('methodArn' in event && typeof event.methodArn === 'string') {
    return { kind: 'rest-request', token, requestId: event.requestContext?.requestId, methodArn: event.methodArn }
  }
  return { kind: 'http-api', token, requestId: (event as APIGatewayRequestAuthorizerEventV2).requestContext?.requestId, methodArn: undefined }
}

/**
 * {@link tokenFromAuthorization}, with a short cut for the value every valid
 * key arrives in: `Bearer ` and a compact JWS. Such a value has no whitespace
 * to trim and nothing after the token, so tokenFromAuthorization would
 * answer the same token; the shape check is the one verifyApiKey needs anyway
 * (and will not repeat). Any other value takes tokenFromAuthorization.
 */
function bearerToken(value: string | undefined): string | undefined {
  if (value !== undefined && value.startsWith('Bearer ')) {
    const candidate = value.slice(7)
    if (isCompactJws(candidate)) return candidate
  }
  return tokenFromAuthorization(value)
}

/**
 * The whole stage of a REST API method ARN:
 * `arn:aws:execute-api:<region>:<account>:<api>/<stage>/<verb>/<path>` becomes
 * `arn:aws:execute-api:<region>:<account>:<api>/<stage>/*\/*`. API Gateway
 * caches a policy per token for every route, so a policy naming only the
 * first route called would wrongly deny the others.
 *
 * @example
 * stageWideArn('arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/v1/whoami')
 * // 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*\/*'
 * stageWideArn('arn:aws:execute-api:*:*:*\/*\/GET/x') // undefined
 */
export function stageWideArn(methodArn: string | undefined): string | undefined {
  // Strict: no wildcards may come through from the region, account, API id or stage.
  const match = /^(arn:aws[a-z-]*:execute-api:[a-z0-9-]+:\d{12}:[a-z0-9]+\/[A-Za-z0-9_-]+)\//.exec(methodArn ?? '')
  return match === null ? undefined : `${match[1]}/*/*`
}

function policy(effect: 'Allow' | 'Deny', methodArn: string | undefined): PolicyDocument {
  const resource = stageWideArn(methodArn)
  // An ARN we cannot read never yields an Allow: deny everything instead.
  const statement: Statement = { Action: 'execute-api:Invoke', Effect: resource === undefined ? 'Deny' : effect, Resource: resource ?? '*' }
  return { Version: '2012-10-17', Statement: [statement] }
}

/**
 * The allow answer in the request's format: a simple response for HTTP APIs,
 * an IAM policy with `principalId` = company id for REST APIs.
 *
 * @example
 * return allowResult(request, decision.identity)
 */
export function allowResult(request: AuthorizerRequest, identity: ApiKeyIdentity): AuthorizerResult {
  const context: AuthorizerContext = { orgId: identity.orgId, userId: identity.userId, keyId: identity.keyId }
  if (request.kind === 'http-api') return { isAuthorized: true, context }
  return { principalId: identity.orgId, policyDocument: policy('Allow', request.methodArn), context }
}

/**
 * The deny answer in the request's format: `{ isAuthorized: false }` (403)
 * for HTTP APIs, an explicit Deny policy (403) for REST APIs.
 *
 * @example
 * return denyResult(request)
 */
export function denyResult(request: AuthorizerRequest): AuthorizerResult {
  if (request.kind === 'http-api') return { isAuthorized: false }
  return { principalId: 'denied', policyDocument: policy('Deny', request.methodArn) }
}
