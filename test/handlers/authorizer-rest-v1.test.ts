/**
 * REST API (v1) compatibility of the deployed authorizer, with the event
 * shapes API Gateway documents: TOKEN events and REQUEST events (payload 1.0).
 * The answer is an IAM policy for the whole stage with the company as
 * principal, so it drops in where the reference authorizer was.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { loadApiKeyConfig } from '../../src/lib/keys/api-key-config'
import type { AuthorizerEvent, AuthorizerResult } from '../../src/lib/authorizer/authorizer-event'
import { issueApiKey, type IssuedApiKey } from '../../src/lib/keys/issue-api-key'
import { coldStartAuthorizer, type DeployedHandler } from '../support/deployed-handlers'
import { envFor, publicPemFor, secretFor, type EnvRecord } from '../support/keys'
import {
  methodArn,
  REST_ACCOUNT_ID,
  REST_API_ID,
  REST_REGION,
  requestAuthorizerEvent,
  stageResource,
  tokenAuthorizerEvent
} from '../support/rest-api-events'

const NOW = 1_700_000_000
const OWNER = { userId: 'auth0|alice', companyId: 'acme' } as const
const SIGN_ENV: EnvRecord = envFor('RS256', { JWT_KID: 'k-1' })
// Every allow logged (the default samples them; see authorizer-log-sampling.test.ts), so each decision's line can be checked.
const VERIFY_ENV: EnvRecord = { JWT_ALGORITHM: 'RS256', JWT_KID: 'k-1', JWT_VERIFY_KEY: publicPemFor('RS256'), LOG_ALLOW_SAMPLE_RATE: '1' }

let authorizer: DeployedHandler<AuthorizerEvent, AuthorizerResult>
const lines: string[] = []
let issued: IssuedApiKey
let forged: IssuedApiKey

beforeAll(async () => {
  freezeTime()
  issued = await issueApiKey(loadApiKeyConfig(SIGN_ENV, 'sign'), OWNER, { nowSeconds: NOW })
  forged = await issueApiKey(loadApiKeyConfig({ ...SIGN_ENV, JWT_SECRET: secretFor('RS256', 'attacker') }, 'sign'), OWNER, { nowSeconds: NOW })
  authorizer = await coldStartAuthorizer(VERIFY_ENV, lines)
  lines.length = 0
})

afterEach(() => {
  lines.length = 0
})

afterAll(() => {
  authorizer?.restoreLogSink()
  vi.unstubAllEnvs()
  vi.useRealTimers()
})

function freezeTime(): void {
  // Only Date: middy's timeout timer stays real.
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(NOW * 1000)
}

/** The decision lines logged since the last test. */
const decisions = (): Record<string, unknown>[] =>
  lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => 'decision' in line)

function allowFor(resource: string) {
  return {
    principalId: OWNER.companyId,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: resource }] },
    context: { orgId: OWNER.companyId, userId: OWNER.userId, keyId: issued.keyId }
  }
}

function denyFor(resource: string) {
  return {
    principalId: 'denied',
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: resource }] }
  }
}

/** IAM's ARN matching: `*` is any run of characters (slashes included), `?` any one. */
function iamArnMatches(pattern: string, arn: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${source}$`).test(arn)
}

/** Method ARNs API Gateway could evaluate a cached policy against: this API, others, other accounts and regions. */
const REAL_METHOD_ARNS = [
  methodArn('GET', '/v1/whoami'),
  methodArn('POST', '/v1/orders/42'),
  methodArn('GET', '/', 'dev'),
  `arn:aws:execute-api:${REST_REGION}:${REST_ACCOUNT_ID}:a1b2c3d4e5/prod/GET/v1/whoami`,
  `arn:aws:execute-api:eu-west-1:210987654321:${REST_API_ID}/prod/DELETE/keys/1`,
  'arn:aws:execute-api:ap-southeast-2:111122223333:zz9yy8xx7w/$default/GET/health'
]

describe('authorizer handler: REST API TOKEN events', () => {
  it('allows a valid key with a stage-wide Allow policy, the company as principal, and the identity as context', async () => {
    // Act
    const result = await authorizer.invoke(tokenAuthorizerEvent(`Bearer ${issued.apikey}`))
    // Assess
    expect(result).toStrictEqual(allowFor(stageResource()))
    expect(decisions()).toEqual([expect.objectContaining({ decision: 'allow', api: 'rest-token', keyId: issued.keyId, orgId: 'acme' })])
  })

  it.each([
    ['Bearer <key>', (key: string) => `Bearer ${key}`],
    ['the bare key', (key: string) => key],
    ['a lower-case scheme', (key: string) => `bearer ${key}`],
    ['extra spaces around', (key: string) => `  Bearer   ${key}  `]
  ])('accepts %s in authorizationToken', async (_name, shape) => {
    const result = await authorizer.invoke(tokenAuthorizerEvent(shape(issued.apikey)))
    expect(result).toStrictEqual(allowFor(stageResource()))
  })

  it('denies a forged key with an explicit stage-wide Deny and no context', async () => {
    // Act
    const result = await authorizer.invoke(tokenAuthorizerEvent(`Bearer ${forged.apikey}`))
    // Assess
    expect(result).toStrictEqual(denyFor(stageResource()))
    expect(decisions()).toEqual([expect.objectContaining({ decision: 'deny', reason: 'BAD_SIGNATURE', api: 'rest-token' })])
  })

  it.each([
    ['an empty value', ''],
    ['a bare "Bearer"', 'Bearer'],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['two words after Bearer', `Bearer ${'a'.repeat(20)} ${'b'.repeat(20)}`]
  ])('denies %s with an explicit Deny (MISSING_TOKEN)', async (_name, authorizationToken) => {
    const result = await authorizer.invoke(tokenAuthorizerEvent(authorizationToken))
    expect(result).toStrictEqual(denyFor(stageResource()))
    expect(decisions()).toEqual([expect.objectContaining({ decision: 'deny', reason: 'MISSING_TOKEN' })])
  })

  it.each([
    ['another verb and path', methodArn('POST', '/v1/orders/42')],
    ['the root resource', methodArn('GET', '/')],
    ['a deep path', methodArn('DELETE', '/v1/a/b/c/d')]
  ])('answers a method ARN for %s in the same stage with the same stage-wide resource', async (_name, arn) => {
    // API Gateway caches the policy per token for every method of the stage: it must not name only the first one called.
    const allowed = await authorizer.invoke(tokenAuthorizerEvent(`Bearer ${issued.apikey}`, arn))
    const denied = await authorizer.invoke(tokenAuthorizerEvent(`Bearer ${forged.apikey}`, arn))
    expect(allowed).toStrictEqual(allowFor(stageResource()))
    expect(denied).toStrictEqual(denyFor(stageResource()))
  })

  it("scopes the policy to the method ARN's own stage", async () => {
    const result = await authorizer.invoke(tokenAuthorizerEvent(`Bearer ${issued.apikey}`, methodArn('GET', '/v1/whoami', 'dev')))
    expect(result).toStrictEqual(allowFor(stageResource('dev')))
    expect(iamArnMatches(stageResource('dev'), methodArn('GET', '/v1/whoami', 'prod'))).toBe(false)
  })

  it.each([
    ['an empty ARN', ''],
    ['not an ARN', 'not-an-arn'],
    ['an ARN without a stage', `arn:aws:execute-api:${REST_REGION}:${REST_ACCOUNT_ID}:${REST_API_ID}`],
    ['an ARN without a method', `arn:aws:execute-api:${REST_REGION}:${REST_ACCOUNT_ID}:${REST_API_ID}/prod`],
    ['another service', `arn:aws:lambda:${REST_REGION}:${REST_ACCOUNT_ID}:function:x/prod/GET/`],
    ['wildcards in region, account, API and stage', 'arn:aws:execute-api:*:*:*/*/GET/v1/whoami']
  ])('answers a valid key with %s as methodArn with a policy that grants nothing', async (_name, arn) => {
    // Act
    const result = (await authorizer.invoke(tokenAuthorizerEvent(`Bearer ${issued.apikey}`, arn))) as ReturnType<typeof allowFor>
    // Assess: an explicit Deny, or an Allow whose resource matches no method API Gateway could ask about
    const [statement] = result.policyDocument.Statement
    expect(result.policyDocument.Statement).toHaveLength(1)
    expect(statement?.Action).toBe('execute-api:Invoke')
    for (const real of [...REAL_METHOD_ARNS, arn]) {
      const grants = statement?.Effect === 'Allow' && iamArnMatches(statement.Resource ?? '*', real)
      expect(grants, `grants ${real}`).toBe(false)
    }
  })

  it('answers a forged key with a malformed methodArn with a Deny, still granting nothing', async () => {
    const result = (await authorizer.invoke(tokenAuthorizerEvent(`Bearer ${forged.apikey}`, 'not-an-arn'))) as ReturnType<typeof denyFor>
    expect(result.policyDocument.Statement[0]?.Effect).toBe('Deny')
    expect(result).not.toHaveProperty('context')
  })
})

describe('authorizer handler: REST API REQUEST events (payload 1.0)', () => {
  it('allows a valid key with a stage-wide Allow policy, the company as principal, and the identity as context', async () => {
    // Act
    const result = await authorizer.invoke(requestAuthorizerEvent({ requestId: 'rest-req-1', headers: { Authorization: `Bearer ${issued.apikey}` } }))
    // Assess
    expect(result).toStrictEqual(allowFor(stageResource()))
    expect(decisions()).toEqual([expect.objectContaining({ decision: 'allow', api: 'rest-request', requestId: 'rest-req-1', orgId: 'acme' })])
  })

  it.each(['Authorization', 'authorization', 'AUTHORIZATION'])('reads the %s header (REST APIs keep the client case)', async (name) => {
    const result = await authorizer.invoke(requestAuthorizerEvent({ headers: { [name]: `Bearer ${issued.apikey}` } }))
    expect(result).toStrictEqual(allowFor(stageResource()))
  })

  it('accepts the bare key as the header value', async () => {
    const result = await authorizer.invoke(requestAuthorizerEvent({ headers: { Authorization: issued.apikey } }))
    expect(result).toStrictEqual(allowFor(stageResource()))
  })

  it('denies a forged key with an explicit stage-wide Deny and no context', async () => {
    const result = await authorizer.invoke(requestAuthorizerEvent({ headers: { Authorization: `Bearer ${forged.apikey}` } }))
    expect(result).toStrictEqual(denyFor(stageResource()))
    expect(decisions()).toEqual([expect.objectContaining({ decision: 'deny', reason: 'BAD_SIGNATURE', api: 'rest-request' })])
  })

  it('denies a request without headers (headers null) with an explicit Deny (MISSING_TOKEN)', async () => {
    const result = await authorizer.invoke(requestAuthorizerEvent({ headers: null }))
    expect(result).toStrictEqual(denyFor(stageResource()))
    expect(decisions()).toEqual([expect.objectContaining({ decision: 'deny', reason: 'MISSING_TOKEN' })])
  })

  it('answers another route of the same stage with the same stage-wide resource', async () => {
    const event = requestAuthorizerEvent({
      verb: 'DELETE',
      resource: '/v1/orders/{id}',
      path: '/v1/orders/42',
      headers: { Authorization: `Bearer ${issued.apikey}` }
    })
    expect(event.methodArn).toBe(methodArn('DELETE', '/v1/orders/42'))
    expect(await authorizer.invoke(event)).toStrictEqual(allowFor(stageResource()))
  })

  it('never logs the key', async () => {
    await authorizer.invoke(requestAuthorizerEvent({ headers: { Authorization: `Bearer ${issued.apikey}` } }))
    await authorizer.invoke(requestAuthorizerEvent({ headers: { Authorization: `Bearer ${forged.apikey}` } }))
    expect(lines).not.toHaveLength(0)
    for (const line of lines) for (const key of [issued.apikey, forged.apikey]) expect(line).not.toContain(key.split('.')[2])
  })
})
