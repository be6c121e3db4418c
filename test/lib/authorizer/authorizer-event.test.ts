/**
 * Reading the three authorizer event shapes (HTTP API payload 2.0 REQUEST,
 * REST API TOKEN and REQUEST) and answering each in its own format.
 */
import type { APIGatewayRequestAuthorizerEvent, APIGatewayTokenAuthorizerEvent } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import { allowResult, denyResult, readAuthorizerEvent, stageWideArn, type AuthorizerRequest } from '../../../src/lib/authorizer/authorizer-event'
import type { ApiKeyIdentity } from '../../../src/lib/keys/verify-api-key'
import { authorizerEvent } from '../../support/events'
import { methodArn, requestAuthorizerEvent, stageResource, tokenAuthorizerEvent } from '../../support/rest-api-events'

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl'
const WHOAMI_ARN = methodArn('GET', '/v1/whoami')
const STAGE = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*/*'
const IDENTITY: ApiKeyIdentity = {
  orgId: 'acme',
  userId: 'auth0|alice',
  keyId: 'key-1',
  issuedAt: 1_700_000_000,
  expiresAt: 1_700_003_600,
  kid: 'k-1'
}

describe('readAuthorizerEvent: HTTP API payload 2.0 REQUEST events', () => {
  it('reads the bearer token and the request id; no method ARN', () => {
    const event = authorizerEvent({ headers: { authorization: `Bearer ${TOKEN}` }, requestId: 'req-v2' })
    expect(readAuthorizerEvent(event)).toStrictEqual({ kind: 'http-api', token: TOKEN, requestId: 'req-v2', methodArn: undefined })
  })

  it.each([['Authorization'], ['AUTHORIZATION'], ['aUtHoRiZaTiOn']])('finds the header named %s (serverless-offline keeps the case)', (name) => {
    expect(readAuthorizerEvent(authorizerEvent({ headers: { [name]: `Bearer ${TOKEN}` } })).token).toBe(TOKEN)
  })

  it('takes a bare token, as the reference authorizer does', () => {
    expect(readAuthorizerEvent(authorizerEvent({ headers: { authorization: TOKEN } })).token).toBe(TOKEN)
  })

  it.each([
    ['no Authorization header', {}],
    ['an empty header', { authorization: '' }],
    ['the scheme alone', { authorization: 'Bearer' }],
    ['another scheme', { authorization: `Basic ${TOKEN}` }],
    ['two tokens', { authorization: `Bearer ${TOKEN} ${TOKEN}` }]
  ])('has no token for %s', (_name, headers: Record<string, string>) => {
    const request = readAuthorizerEvent(authorizerEvent({ headers, requestId: 'req-none' }))
    expect(request).toStrictEqual({ kind: 'http-api', token: undefined, requestId: 'req-none', methodArn: undefined })
  })
})

describe('readAuthorizerEvent: REST API TOKEN events', () => {
  it('reads authorizationToken and the method ARN; TOKEN events carry no request id', () => {
    expect(readAuthorizerEvent(tokenAuthorizerEvent(`Bearer ${TOKEN}`))).toStrictEqual({
      kind: 'rest-token',
      token: TOKEN,
      requestId: undefined,
      methodArn: WHOAMI_ARN
    })
  })

  it.each([
    ['a bare token', TOKEN, TOKEN],
    ['lower-case bearer and extra blanks', `  bearer \t${TOKEN} `, TOKEN],
    ['an empty value', '', undefined],
    ['the scheme alone', 'Bearer ', undefined],
    ['another scheme', `Basic ${TOKEN}`, undefined]
  ])('%s gives %j', (_name, value, token) => {
    expect(readAuthorizerEvent(tokenAuthorizerEvent(value)).token).toBe(token)
  })

  it('has no token when authorizationToken is not a string', () => {
    const event = { ...tokenAuthorizerEvent(''), authorizationToken: 42 } as unknown as APIGatewayTokenAuthorizerEvent
    expect(readAuthorizerEvent(event)).toStrictEqual({ kind: 'rest-token', token: undefined, requestId: undefined, methodArn: WHOAMI_ARN })
  })
})

describe('readAuthorizerEvent: REST API REQUEST events (payload 1.0)', () => {
  it('reads the header, the request id and the method ARN', () => {
    const event = requestAuthorizerEvent({ headers: { Authorization: `Bearer ${TOKEN}` }, requestId: 'req-rest' })
    expect(readAuthorizerEvent(event)).toStrictEqual({ kind: 'rest-request', token: TOKEN, requestId: 'req-rest', methodArn: WHOAMI_ARN })
  })

  it.each([['authorization'], ['AUTHORIZATION']])('finds the header named %s', (name) => {
    expect(readAuthorizerEvent(requestAuthorizerEvent({ headers: { [name]: `Bearer ${TOKEN}` } })).token).toBe(TOKEN)
  })

  it('takes a bare token', () => {
    expect(readAuthorizerEvent(requestAuthorizerEvent({ headers: { Authorization: TOKEN } })).token).toBe(TOKEN)
  })

  it('uses the method ARN of the method called', () => {
    const event = requestAuthorizerEvent({ verb: 'POST', resource: '/v1/orders/{id}', path: '/v1/orders/7', headers: { Authorization: TOKEN } })
    expect(readAuthorizerEvent(event).methodArn).toBe(methodArn('POST', '/v1/orders/7'))
  })

  it.each([
    ['no Authorization header', {}],
    ['no headers at all (null)', null]
  ])('has no token with %s', (_name, headers: Record<string, string> | null) => {
    const request = readAuthorizerEvent(requestAuthorizerEvent({ headers }))
    expect(request).toMatchObject({ kind: 'rest-request', token: undefined, methodArn: WHOAMI_ARN })
  })

  it('is told from an HTTP API event by its method ARN alone', () => {
    const { methodArn: _omitted, ...withoutArn } = requestAuthorizerEvent({ headers: { Authorization: TOKEN } })
    expect(readAuthorizerEvent(withoutArn as unknown as APIGatewayRequestAuthorizerEvent).kind).toBe('http-api')
  })
})

describe('stageWideArn', () => {
  it.each([
    ['a method of the stage', WHOAMI_ARN, stageResource()],
    ['another verb and path', methodArn('DELETE', '/v1/orders/7'), stageResource()],
    ['another stage', methodArn('GET', '/v1/whoami', 'staging-2'), stageResource('staging-2')],
    ['a method ARN that names the whole stage already', stageResource(), stageResource()],
    [
      'the China partition',
      'arn:aws-cn:execute-api:cn-north-1:123456789012:abcdef1234/prod/GET/x',
      'arn:aws-cn:execute-api:cn-north-1:123456789012:abcdef1234/prod/*/*'
    ],
    [
      'the GovCloud partition',
      'arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:abcdef1234/prod/GET/x',
      'arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:abcdef1234/prod/*/*'
    ]
  ])('widens %s to every verb and path of its stage', (_name, arn, expected) => {
    expect(stageWideArn(arn)).toBe(expected)
  })

  it('gives the stage resource for the sample method', () => {
    expect(stageWideArn(WHOAMI_ARN)).toBe(STAGE)
  })

  it.each([
    ['region', 'arn:aws:execute-api:*:123456789012:abcdef1234/prod/GET/x'],
    ['account', 'arn:aws:execute-api:us-east-1:*:abcdef1234/prod/GET/x'],
    ['API id', 'arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/x'],
    ['stage', 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/*/GET/x'],
    ['everything', 'arn:aws:execute-api:*:*:*/*/GET/x'],
    ['partition', 'arn:*:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/x']
  ])('refuses a wildcard in the %s', (_name, arn) => {
    expect(stageWideArn(arn)).toBeUndefined()
  })

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['not an ARN', 'not-an-arn'],
    ['another service', 'arn:aws:lambda:us-east-1:123456789012:function:authorizer'],
    ['an 11-digit account', 'arn:aws:execute-api:us-east-1:12345678901:abcdef1234/prod/GET/x'],
    ['an upper-case API id', 'arn:aws:execute-api:us-east-1:123456789012:ABCDEF1234/prod/GET/x'],
    ['no verb or path after the stage', 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod'],
    ['no stage', 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/'],
    ['a stage with a character outside [A-Za-z0-9_-]', 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/pr.od/GET/x'],
    ['text before the ARN', ` ${WHOAMI_ARN}`]
  ])('refuses a malformed ARN: %s', (_name, arn) => {
    expect(stageWideArn(arn)).toBeUndefined()
  })
})

const request = (kind: AuthorizerRequest['kind'], arn: string | undefined): AuthorizerRequest => ({
  kind,
  token: TOKEN,
  requestId: 'req-1',
  methodArn: arn
})

/** The one-statement policy a REST authorizer answers with. */
const policy = (effect: 'Allow' | 'Deny', resource: string) => ({
  Version: '2012-10-17',
  Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }]
})

describe('allowResult', () => {
  it('HTTP API: a simple response with exactly orgId, userId and keyId as context', () => {
    expect(allowResult(request('http-api', undefined), IDENTITY)).toStrictEqual({
      isAuthorized: true,
      context: { orgId: 'acme', userId: 'auth0|alice', keyId: 'key-1' }
    })
  })

  it.each([['rest-token'], ['rest-request']] as const)(
    '%s: an Allow policy on the whole stage, the company as principal, and the same context',
    (kind) => {
      expect(allowResult(request(kind, WHOAMI_ARN), IDENTITY)).toStrictEqual({
        principalId: 'acme',
        policyDocument: policy('Allow', STAGE),
        context: { orgId: 'acme', userId: 'auth0|alice', keyId: 'key-1' }
      })
    }
  )

  it.each([
    ['rest-token', 'arn:aws:execute-api:*:*:*/*/GET/x'],
    ['rest-request', 'not-an-arn'],
    ['rest-token', undefined]
  ] as const)('%s: never allows when the method ARN cannot be read (%j): Deny on everything', (kind, arn) => {
    expect(allowResult(request(kind, arn), IDENTITY)).toStrictEqual({
      principalId: 'acme',
      policyDocument: policy('Deny', '*'),
      context: { orgId: 'acme', userId: 'auth0|alice', keyId: 'key-1' }
    })
  })

  it('keeps an empty userId and keyId (reference plugin keys have neither)', () => {
    const pluginIdentity: ApiKeyIdentity = { ...IDENTITY, userId: '', keyId: '', kid: undefined, issuedAt: undefined }
    expect(allowResult(request('http-api', undefined), pluginIdentity)).toStrictEqual({
      isAuthorized: true,
      context: { orgId: 'acme', userId: '', keyId: '' }
    })
  })
})

describe('denyResult', () => {
  it('HTTP API: exactly { isAuthorized: false }', () => {
    expect(denyResult(request('http-api', undefined))).toStrictEqual({ isAuthorized: false })
  })

  it.each([['rest-token'], ['rest-request']] as const)('%s: a Deny policy on the whole stage, with no context', (kind) => {
    expect(denyResult(request(kind, WHOAMI_ARN))).toStrictEqual({ principalId: 'denied', policyDocument: policy('Deny', STAGE) })
  })

  it.each([['rest-token'], ['rest-request']] as const)('%s: a Deny on everything when the method ARN cannot be read', (kind) => {
    expect(denyResult(request(kind, 'arn:aws:execute-api:us-east-1:*:abcdef1234/prod/GET/x'))).toStrictEqual({
      principalId: 'denied',
      policyDocument: policy('Deny', '*')
    })
  })
})
