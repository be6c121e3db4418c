/**
 * When the lite DynamoDB client replaces the SDK: only where the environment
 * gives it credentials it can sign with and an endpoint it knows, and wired
 * into the key store keyStoreFromEnv makes.
 */
import { describe, expect, it } from 'vitest'
import { keyStoreFromEnv } from '../../../../src/lib/store/dynamo-key-store'
import { dynamoDbLiteFromEnv } from '../../../../src/lib/store/dynamodb-lite/env'
import { fakeDynamoDb, headerText, LOCAL, NOW, officialVerdict, PROJECTION, type Received } from './support'

describe('keyStoreFromEnv / dynamoDbLiteFromEnv: the lite client only where it can sign', () => {
  const ID = 'AKIA' + 'Q'.repeat(16)
  const creds = { AWS_ACCESS_KEY_ID: ID, AWS_SECRET_ACCESS_KEY: 'x'.repeat(40) }
  it.each([
    { name: 'local endpoint (dummy credentials)', env: { DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' }, endpoint: 'http://127.0.0.1:8000' },
    {
      name: 'Lambda: region and credentials in the environment',
      env: { AWS_REGION: 'eu-west-1', ...creds, AWS_SESSION_TOKEN: 'token' },
      endpoint: 'https://dynamodb.eu-west-1.amazonaws.com'
    },
    { name: 'AWS_DEFAULT_REGION', env: { AWS_DEFAULT_REGION: 'us-east-2', ...creds }, endpoint: 'https://dynamodb.us-east-2.amazonaws.com' },
    { name: 'GovCloud', env: { AWS_REGION: 'us-gov-west-1', ...creds }, endpoint: 'https://dynamodb.us-gov-west-1.amazonaws.com' },
    { name: 'China', env: { AWS_REGION: 'cn-north-1', ...creds }, endpoint: 'https://dynamodb.cn-north-1.amazonaws.com.cn' },
    {
      name: 'FIPS explicitly off',
      env: { AWS_REGION: 'eu-west-1', ...creds, AWS_USE_FIPS_ENDPOINT: 'false' },
      endpoint: 'https://dynamodb.eu-west-1.amazonaws.com'
    },
    { name: 'no credentials in the environment (profiles, SSO, IMDS)', env: { AWS_REGION: 'eu-west-1' }, endpoint: undefined },
    { name: 'a key id without its secret', env: { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: ID }, endpoint: undefined },
    { name: 'blank credentials', env: { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: ' ', AWS_SECRET_ACCESS_KEY: '' }, endpoint: undefined },
    { name: 'no region', env: { ...creds }, endpoint: undefined },
    { name: 'an ISO partition region', env: { AWS_REGION: 'us-iso-east-1', ...creds }, endpoint: undefined },
    { name: 'FIPS endpoints', env: { AWS_REGION: 'us-east-1', ...creds, AWS_USE_FIPS_ENDPOINT: 'true' }, endpoint: undefined },
    { name: 'dual-stack endpoints', env: { AWS_REGION: 'us-east-1', ...creds, AWS_USE_DUALSTACK_ENDPOINT: 'TRUE' }, endpoint: undefined },
    {
      name: 'a configured endpoint for all AWS services',
      env: { AWS_REGION: 'us-east-1', ...creds, AWS_ENDPOINT_URL: 'https://proxy.example' },
      endpoint: undefined
    },
    {
      name: 'a configured DynamoDB endpoint',
      env: { AWS_REGION: 'us-east-1', ...creds, AWS_ENDPOINT_URL_DYNAMODB: 'https://vpce.example' },
      endpoint: undefined
    },
    { name: 'a local endpoint with a path', env: { DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000/ddb' }, endpoint: undefined }
  ])('$name', ({ env, endpoint }) => {
    expect(dynamoDbLiteFromEnv(env)?.endpoint).toBe(endpoint)
  })

  it('wires the lite client into the store keyStoreFromEnv makes', async () => {
    // Prepare: DYNAMODB_ENDPOINT at a loopback server that verifies signatures
    const server = await fakeDynamoDb(() => ({
      status: 200,
      body: '{"Responses":{"dev-portal-keys-wired":[{"pk":{"S":"COMPANY#acme"},"revokedBefore":{"N":"1700000000"}}]},"UnprocessedKeys":{}}'
    }))
    const store = keyStoreFromEnv({ KEYS_TABLE: 'dev-portal-keys-wired', DYNAMODB_ENDPOINT: server.endpoint })
    // Act
    const facts = await store?.revocationFacts('', 'acme')
    await server.close()
    // Assess: one signed fetch, not the SDK (which names itself in user-agent)
    expect(facts).toEqual({ keyRevokedAt: undefined, companyRevokedBefore: NOW })
    expect(server.requests).toHaveLength(1)
    const received = server.requests[0] as Received
    expect(headerText(received.headers, 'user-agent')).not.toContain('aws-sdk')
    expect(JSON.parse(received.body)).toEqual({
      RequestItems: { 'dev-portal-keys-wired': { Keys: [{ pk: { S: 'COMPANY#acme' } }], ConsistentRead: true, ProjectionExpression: PROJECTION } }
    })
    const verdict = await officialVerdict(received, LOCAL, 'local')
    expect(verdict.actual).toBe(verdict.expected)
  })
})
