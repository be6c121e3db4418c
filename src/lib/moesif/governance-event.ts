/**
 * Governance between API Gateway and the rules: the request as the rules see
 * it, taken from an HTTP API (payload 2.0) event, and the verdict turned into
 * a Lambda result: the blocking rule's answer, or the handler's own with the
 * rules' headers added.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import type { GovernanceRequest, GovernanceVerdict } from './governance'
import type { ApiEvent } from './wrapper'

type ApiResult = APIGatewayProxyStructuredResultV2

/**
 * The fields the rules read: the method, path and query string as the caller
 * sent them, API Gateway's source IP, the headers and the body (as given; it
 * is parsed only if a rule reads it).
 *
 * @example
 * governanceRequestOf(event) // { verb: 'GET', route: '/v1/whoami?verbose=1', ip: '198.51.100.7', headers, body: undefined, isBase64Encoded: false }
 */
export function governanceRequestOf(event: ApiEvent): GovernanceRequest {
  const http = (event.requestContext as Partial<ApiEvent['requestContext']> | undefined)?.http
  const path = typeof event.rawPath === 'string' && event.rawPath !== '' ? event.rawPath : typeof http?.path === 'string' ? http.path : '/'
  const query = typeof event.rawQueryString === 'string' && event.rawQueryString !== '' ? `?${event.rawQueryString}` : ''
  return {
    verb: typeof http?.method === 'string' ? http.method : '',
    route: path + query,
    ip: typeof http?.sourceIp === 'string' ? http.sourceIp : undefined,
    headers: typeof event.headers === 'object' && event.headers !== null ? event.headers : undefined,
    body: typeof event.body === 'string' ? event.body : undefined,
    isBase64Encoded: event.isBase64Encoded === true
  }
}

/**
 * The answer to a blocked call: the rule's status, its body as JSON, and the
 * headers of every rule that applied (Content-Type and X-Moesif-Blocked-By
 * included).
 *
 * @example
 * blockedResult(verdict) // { statusCode: 402, headers: { 'Content-Type': 'application/json', 'X-Moesif-Blocked-By': 'rule-1' }, body: '{"error":"..."}' }
 */
export function blockedResult(verdict: GovernanceVerdict & { blocked: NonNullable<GovernanceVerdict['blocked']> }): ApiResult {
  return { statusCode: verdict.blocked.status, headers: { ...verdict.headers }, body: verdict.blocked.body, isBase64Encoded: false }
}

/**
 * The handler's result with the rules' headers added. A header the handler
 * set itself (in any case) is kept as the handler set it, as in Moesif's
 * SDKs, where the rules' headers are set before the handler runs. A result
 * without a status is first made what API Gateway makes of it (200, the value
 * as JSON).
 *
 * @example
 * withRuleHeaders({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' }, { 'X-Plan': 'free' })
 * // { statusCode: 200, headers: { 'X-Plan': 'free', 'content-type': 'application/json' }, body: '{}' }
 */
export function withRuleHeaders(result: ApiResult, headers: Readonly<Record<string, string>>): ApiResult {
  let structured: ApiResult
  if (typeof result === 'object' && result !== null && Boolean(result.statusCode)) {
    structured = result
  } else {
    let body: string | undefined
    try {
      body = JSON.stringify(result)
    } catch {
      return result // API Gateway cannot send it either; not ours to change
    }
    structured = { statusCode: 200, headers: { 'content-type': 'application/json' }, body }
  }
  const own = structured.headers ?? {}
  const taken = new Set(Object.keys(own).map((name) => name.toLowerCase()))
  const added: Record<string, string> = {}
  for (const name of Object.keys(headers)) {
    if (!taken.has(name.toLowerCase())) added[name] = headers[name] as string
  }
  return { ...structured, headers: { ...added, ...own } }
}
