import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda'

/** Headers on every JSON answer. API keys travel in bodies, so nothing is cacheable. */
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } as const

/**
 * A JSON response for an HTTP API (payload 2.0) Lambda integration.
 *
 * @example
 * return jsonResponse(201, { apikey, keyId, expiresAt })
 */
export function jsonResponse(statusCode: number, body: unknown, headers?: Record<string, string>): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) }
}

/**
 * An empty response (204 and the like).
 *
 * @example
 * return emptyResponse(204)
 */
export function emptyResponse(statusCode: number): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'cache-control': 'no-store' } }
}
