/**
 * REST API (v1) Lambda authorizer events, shaped after the samples in the API
 * Gateway developer guide ("Input to an API Gateway Lambda authorizer"): a
 * TOKEN event is `{ type, authorizationToken, methodArn }`; a REQUEST event
 * (payload 1.0) carries the whole request, with headers in the client's case.
 */
import type { APIGatewayRequestAuthorizerEvent, APIGatewayTokenAuthorizerEvent, PolicyDocument } from 'aws-lambda'

export const REST_REGION = 'us-east-1'
export const REST_ACCOUNT_ID = '123456789012'
export const REST_API_ID = 'abcdef1234'
export const REST_STAGE = 'prod'

/**
 * The ARN of one method of the sample API, as API Gateway puts it in `methodArn`.
 *
 * @example
 * methodArn('GET', '/v1/whoami') // 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/v1/whoami'
 */
export function methodArn(verb: string, resourcePath: string, stage = REST_STAGE): string {
  return `arn:aws:execute-api:${REST_REGION}:${REST_ACCOUNT_ID}:${REST_API_ID}/${stage}/${verb}${resourcePath}`
}

/** What a stage-wide policy names: every verb and path of the stage. */
export function stageResource(stage = REST_STAGE): string {
  return `arn:aws:execute-api:${REST_REGION}:${REST_ACCOUNT_ID}:${REST_API_ID}/${stage}/*/*`
}

/**
 * A TOKEN authorizer event: `authorizationToken` is the raw value of the
 * identity source header (`Authorization`), scheme and all.
 *
 * @example
 * tokenAuthorizerEvent(`Bearer ${apikey}`)
 */
export function tokenAuthorizerEvent(authorizationToken: string, arn = methodArn('GET', '/v1/whoami')): APIGatewayTokenAuthorizerEvent {
  return { type: 'TOKEN', authorizationToken, methodArn: arn }
}

/** Options for {@link requestAuthorizerEvent}. */
export interface RestRequestOptions {
  readonly verb?: string
  /** The resource path, e.g. `/v1/whoami` or `/v1/orders/{id}`. */
  readonly resource?: string
  /** The actual path; defaults to the resource. */
  readonly path?: string
  /** Used as given: REST APIs keep the client's header case. `null` when the request had none. */
  readonly headers?: Record<string, string> | null
  readonly requestId?: string
  /** Override the ARN (for malformed-ARN cases). */
  readonly methodArn?: string
}

/**
 * A REQUEST authorizer event, payload 1.0, as API Gateway sends it for a REST
 * API method with a REQUEST authorizer whose identity source is the
 * `Authorization` header.
 *
 * @example
 * requestAuthorizerEvent({ headers: { Authorization: `Bearer ${apikey}` } })
 */
export function requestAuthorizerEvent(options: RestRequestOptions = {}): APIGatewayRequestAuthorizerEvent {
  const verb = options.verb ?? 'GET'
  const resource = options.resource ?? '/v1/whoami'
  const path = options.path ?? resource
  const headers =
    options.headers === null
      ? null
      : {
          Accept: '*/*',
          'CloudFront-Forwarded-Proto': 'https',
          'CloudFront-Is-Desktop-Viewer': 'true',
          'CloudFront-Viewer-Country': 'US',
          Host: `${REST_API_ID}.execute-api.${REST_REGION}.amazonaws.com`,
          'User-Agent': 'curl/8.5.0',
          'X-Amzn-Trace-Id': 'Root=1-65540000-0123456789abcdef01234567',
          'X-Forwarded-For': '198.51.100.23',
          'X-Forwarded-Port': '443',
          'X-Forwarded-Proto': 'https',
          ...options.headers
        }
  return {
    type: 'REQUEST',
    methodArn: options.methodArn ?? methodArn(verb, path),
    resource,
    path,
    httpMethod: verb,
    headers,
    multiValueHeaders: headers === null ? null : Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: {},
    stageVariables: null,
    requestContext: {
      accountId: REST_ACCOUNT_ID,
      apiId: REST_API_ID,
      authorizer: undefined,
      domainName: `${REST_API_ID}.execute-api.${REST_REGION}.amazonaws.com`,
      domainPrefix: REST_API_ID,
      extendedRequestId: 'EXAMPLEid=',
      httpMethod: verb,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '198.51.100.23',
        user: null,
        userAgent: 'curl/8.5.0',
        userArn: null
      },
      path: `/${REST_STAGE}${path}`,
      protocol: 'HTTP/1.1',
      requestId: options.requestId ?? 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      requestTime: '14/Nov/2023:22:13:20 +0000',
      requestTimeEpoch: 1_700_000_000_000,
      resourceId: 'a1b2c3',
      resourcePath: resource,
      stage: REST_STAGE
    }
  }
}

/** A REST authorizer's answer, loosely typed for assertions. */
export interface RestAuthorizerAnswer {
  readonly principalId: string
  readonly policyDocument: PolicyDocument
  readonly context?: Record<string, unknown>
}

/**
 * The single statement's effect of a REST authorizer answer, after checking
 * the policy is one `execute-api:Invoke` statement on `resource`. Throws on
 * any other shape: an odd answer must never count as a deny.
 *
 * @example
 * policyEffect(answer, stageResource()) // 'Allow'
 */
export function policyEffect(answer: unknown, resource: string): 'Allow' | 'Deny' {
  const { policyDocument } = (answer ?? {}) as Partial<RestAuthorizerAnswer>
  const statements = policyDocument?.Statement
  const [statement] = Array.isArray(statements) ? statements : []
  if (
    policyDocument?.Version !== '2012-10-17' ||
    statements?.length !== 1 ||
    statement === undefined ||
    !('Action' in statement) ||
    statement.Action !== 'execute-api:Invoke' ||
    !('Resource' in statement) ||
    statement.Resource !== resource ||
    (statement.Effect !== 'Allow' && statement.Effect !== 'Deny')
  ) {
    throw new Error(`not a stage-wide policy on ${resource}: ${JSON.stringify(answer)}`)
  }
  return statement.Effect
}
