/**
 * Builders for the events API Gateway (HTTP API, payload format 2.0) hands a
 * Lambda, shaped after the samples in the API Gateway developer guide
 * ("Create AWS Lambda proxy integrations for HTTP APIs" and "Control access
 * to HTTP APIs with AWS Lambda authorizers"), plus a Lambda context stub.
 *
 * Real API Gateway lowercases header names in payload 2.0; pass `headers`
 * verbatim to model serverless-offline, which keeps the client's case.
 */
import type {
  APIGatewayEventRequestContextV2,
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayRequestAuthorizerEventV2,
  Context
} from 'aws-lambda'

const ACCOUNT_ID = '123456789012'
const API_ID = 'r3pmxmplak'
const STAGE = '$default'
const REGION = 'us-east-1'
const DOMAIN = `${API_ID}.execute-api.${REGION}.amazonaws.com`
/** A fixed instant (2023-11-14T22:13:20Z) so event timestamps are deterministic. */
const TIME_EPOCH_MS = 1_700_000_000_000

let counter = 0
/** A request id shaped like API Gateway's (base64-ish, `=`-terminated). */
function nextRequestId(): string {
  counter += 1
  return `JKJaXmPLvHcESHA${String(counter).padStart(4, '0')}=`
}

/** Options shared by the event builders. */
export interface RequestOptions {
  readonly method?: string
  readonly path?: string
  /** `routeKey` is derived from method and path unless given. */
  readonly routeKey?: string
  /** Used as given (no lowercasing), so mixed case models serverless-offline. */
  readonly headers?: Record<string, string>
  readonly rawQueryString?: string
  readonly requestId?: string
  readonly sourceIp?: string
}

function requestContext(options: RequestOptions, routeKey: string, method: string, path: string): APIGatewayEventRequestContextV2 {
  const headers = options.headers ?? {}
  return {
    accountId: ACCOUNT_ID,
    apiId: API_ID,
    domainName: DOMAIN,
    domainPrefix: API_ID,
    http: {
      method,
      path,
      protocol: 'HTTP/1.1',
      sourceIp: options.sourceIp ?? '198.51.100.23',
      userAgent: headers['user-agent'] ?? 'vitest/4'
    },
    requestId: options.requestId ?? nextRequestId(),
    routeKey,
    stage: STAGE,
    time: '14/Nov/2023:22:13:20 +0000',
    timeEpoch: TIME_EPOCH_MS
  }
}

function defaultHeaders(): Record<string, string> {
  return {
    accept: 'application/json',
    'content-length': '0',
    host: DOMAIN,
    'user-agent': 'vitest/4',
    'x-amzn-trace-id': 'Root=1-65540000-0123456789abcdef01234567',
    'x-forwarded-for': '198.51.100.23',
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https'
  }
}

function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined
  const out: Record<string, string> = {}
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    // Payload 2.0 joins repeated parameters with commas.
    out[name] = out[name] === undefined ? value : `${out[name]},${value}`
  }
  return out
}

/** Options for {@link httpApiEvent}. */
export interface HttpApiEventOptions extends RequestOptions {
  readonly body?: string
  readonly isBase64Encoded?: boolean
}

/**
 * An HTTP API payload 2.0 proxy event (what `createKey`, `jwks` and the
 * protected API receive).
 *
 * @example
 * httpApiEvent({ method: 'POST', path: '/create-key', headers: { authorization: `Bearer ${idToken}` }, body: '{}' })
 */
export function httpApiEvent(options: HttpApiEventOptions = {}): APIGatewayProxyEventV2 {
  const method = options.method ?? 'GET'
  const path = options.path ?? '/'
  const routeKey = options.routeKey ?? `${method} ${path}`
  const rawQueryString = options.rawQueryString ?? ''
  const headers = { ...defaultHeaders(), ...options.headers }
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body))
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString,
    headers,
    requestContext: requestContext({ ...options, headers }, routeKey, method, path),
    isBase64Encoded: options.isBase64Encoded ?? false
  }
  const query = queryParameters(rawQueryString)
  if (query !== undefined) event.queryStringParameters = query
  if (options.body !== undefined) event.body = options.body
  return event
}

/**
 * A REQUEST authorizer event, payload format 2.0, for a route protected by
 * an authorizer whose identity source is `$request.header.Authorization`.
 * `identitySource` carries the Authorization value when there is one.
 *
 * @example
 * authorizerEvent({ headers: { authorization: `Bearer ${apiKey}` } })
 */
export function authorizerEvent(options: RequestOptions = {}): APIGatewayRequestAuthorizerEventV2 {
  const method = options.method ?? 'GET'
  const path = options.path ?? '/v1/whoami'
  const routeKey = options.routeKey ?? `${method} ${path}`
  const rawQueryString = options.rawQueryString ?? ''
  const headers = { ...defaultHeaders(), ...options.headers }
  const authorization = Object.entries(headers).find(([name]) => name.toLowerCase() === 'authorization')?.[1]
  const event: APIGatewayRequestAuthorizerEventV2 = {
    version: '2.0',
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:${REGION}:${ACCOUNT_ID}:${API_ID}/${STAGE}/${method}${path}`,
    identitySource: authorization === undefined ? [] : [authorization],
    routeKey,
    rawPath: path,
    rawQueryString,
    cookies: [],
    headers,
    requestContext: requestContext({ ...options, headers }, routeKey, method, path)
  }
  const query = queryParameters(rawQueryString)
  if (query !== undefined) event.queryStringParameters = query
  return event
}

/** What this project's authorizer puts in `requestContext.authorizer.lambda`. */
export interface AuthorizerLambdaContext {
  readonly orgId: string
  readonly userId: string
  readonly keyId: string
}

/**
 * A payload 2.0 proxy event for a route behind the Lambda authorizer, with
 * the authorizer's context under `requestContext.authorizer.lambda`.
 *
 * @example
 * authorizedEvent({ orgId: 'acme', userId: 'auth0|alice', keyId: 'k-1' })
 */
export function authorizedEvent(
  lambda: AuthorizerLambdaContext,
  options: HttpApiEventOptions = {}
): APIGatewayProxyEventV2WithLambdaAuthorizer<AuthorizerLambdaContext> {
  const base = httpApiEvent({ path: '/v1/whoami', ...options })
  return { ...base, requestContext: { ...base.requestContext, authorizer: { lambda: { ...lambda } } } }
}

/**
 * A Lambda context stub with the fields the runtime sets. The remaining time
 * is large and fixed so middy's early-timeout timer never fires.
 *
 * @example
 * await handler(event, lambdaContext({ awsRequestId: 'req-1' }))
 */
export function lambdaContext(overrides: Partial<Context> = {}): Context {
  const functionName = overrides.functionName ?? 'dev-portal-keys-test-function'
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2023/11/14/[$LATEST]0123456789abcdef0123456789abcdef',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    ...overrides
  }
}
