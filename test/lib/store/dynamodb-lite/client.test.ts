/**
 * The lite DynamoDB client: its SigV4 signature (aws4) against the official
 * signer (@smithy/signature-v4, what the SDK signs with) and AWS's published
 * test vectors; its answers against the SDK's on dynalite; its retries and
 * errors against loopback servers that hang, refuse or answer errors on cue;
 * and the store's fallback to the SDK when a signature is refused.
 */
import { randomUUID } from 'node:crypto'
import { BatchGetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { HttpRequest } from '@smithy/core/protocols'
import { SignatureV4 } from '@smithy/signature-v4'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DynamoKeyStore } from '../../../../src/lib/store/dynamo-key-store'
import {
  createDynamoDbLite,
  isSigningFailure,
  signAwsRequest,
  type AwsCredentials,
  type BatchGetItemInput,
  type DynamoDbLite,
  type SigningInput
} from '../../../../src/lib/store/dynamodb-lite/client'
import { credentialsFromEnv } from '../../../../src/lib/store/dynamodb-lite/env'
import { companyItemId, keyItemId } from '../../../../src/lib/store/key-table'
import { localDynamoDbClient } from '../../../../src/local/local-dynamodb'
import { keyRecord, startKeyDatabase, type KeyDatabase } from '../../../support/dynalite'
import {
  COMPANY_KEY,
  credentialsArb,
  DAY,
  dynamoDbError,
  fakeDynamoDb,
  headerText,
  LOCAL,
  NodeSha256,
  NOW,
  officialVerdict,
  PROJECTION,
  rejectionOf,
  sampleCredentials,
  type Received
} from './support'

/** What the official signer sends for the same request: all headers, names lowercased, host included. */
async function officialHeaders(input: SigningInput): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service: input.service,
    region: input.region,
    credentials: input.credentials,
    sha256: NodeSha256,
    // The SDK also signs x-amz-content-sha256; DynamoDB does not need it and the lite client does not send it.
    applyChecksum: false
  })
  const request = new HttpRequest({
    method: input.method,
    protocol: input.url.protocol,
    hostname: input.url.hostname,
    port: input.url.port === '' ? undefined : Number(input.url.port),
    path: '/',
    headers: { ...input.headers, host: input.url.host },
    body: input.body
  })
  const signed = await signer.sign(request, { signingDate: input.date })
  return Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), value]))
}

const dynamoDbRequest = (fields: { credentials: AwsCredentials; body: string; date: Date; region?: string; url?: string }): SigningInput => ({
  method: 'POST',
  url: new URL(fields.url ?? `https://dynamodb.${fields.region ?? 'us-east-1'}.amazonaws.com/`),
  headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.BatchGetItem' },
  body: fields.body,
  credentials: fields.credentials,
  region: fields.region ?? 'us-east-1',
  service: 'dynamodb',
  date: fields.date
})

describe('signAwsRequest: byte for byte with the official signer', () => {
  it('signs a DynamoDB BatchGetItem with a session token exactly as @smithy/signature-v4 does', async () => {
    // Prepare: fixed date, body, region and host
    const input = dynamoDbRequest({
      credentials: sampleCredentials(true),
      body: JSON.stringify({
        RequestItems: {
          'dev-portal-keys-prod-keys': { Keys: [{ pk: { S: 'COMPANY#acme' } }], ConsistentRead: true, ProjectionExpression: PROJECTION }
        }
      }),
      date: new Date('2024-02-29T23:59:59.999Z')
    })
    // Act
    const lite = signAwsRequest(input)
    const official = await officialHeaders(input)
    // Assess: every header, byte for byte; and the shape production depends on
    expect(lite).toStrictEqual(official)
    expect(lite['x-amz-date']).toBe('20240229T235959Z')
    expect(lite['x-amz-security-token']).toBe(input.credentials.sessionToken)
    expect(lite.authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/20240229/us-east-1/dynamodb/aws4_request, ` +
          'SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$'
      )
    )
  })

  it('signs without a session token exactly as the official signer does, and sends no token header', async () => {
    const input = dynamoDbRequest({ credentials: sampleCredentials(false), body: '{"RequestItems":{}}', date: new Date('2015-08-30T12:36:00Z') })
    const lite = signAwsRequest(input)
    expect(lite).toStrictEqual(await officialHeaders(input))
    expect(lite).not.toHaveProperty('x-amz-security-token')
    expect(lite.authorization).toContain('SignedHeaders=content-type;host;x-amz-date;x-amz-target,')
  })

  // AWS's SigV4 test suite: its documented example credentials (not a secret, published for exactly this),
  // kept because an answer AWS published is an oracle independent of both signers.
  const SUITE_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }
  it.each([
    { vector: 'get-vanilla', method: 'GET', signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
    { vector: 'post-vanilla', method: 'POST', signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b' }
  ])("matches AWS's published $vector vector, and the official signer", async ({ method, signature }) => {
    const input: SigningInput = {
      method,
      url: new URL('https://example.amazonaws.com/'),
      headers: {},
      body: '',
      credentials: SUITE_CREDENTIALS,
      region: 'us-east-1',
      service: 'service',
      date: new Date('2015-08-30T12:36:00Z')
    }
    const lite = signAwsRequest(input)
    expect(lite.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`
    )
    expect(lite).toStrictEqual(await officialHeaders(input))
  })

  it('agrees with the official signer on any body, credentials, date, region, endpoint and header spacing', async () => {
    const inputArb = fc.record({
      credentials: credentialsArb,
      body: fc.oneof(fc.json(), fc.string({ unit: 'grapheme', maxLength: 300 })),
      date: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }),
      region: fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-gov-west-1', 'cn-north-1', 'local'),
      endpoint: fc.constantFrom(
        'https://dynamodb.us-east-1.amazonaws.com',
        'https://DynamoDB.EU-West-1.amazonaws.com:443/',
        'http://127.0.0.1:8000',
        'http://localhost:4566/'
      ),
      operation: fc.stringMatching(/^[A-Z][A-Za-z]{0,29}$/),
      // Values with runs of spaces and tabs, inside and at the ends: the canonical form collapses and trims them.
      note: fc.option(fc.stringMatching(/^[ \t]{0,3}[!-~]([!-~ \t]{0,40}[!-~])?[ \t]{0,3}$/), { nil: undefined }),
      upperCaseNames: fc.boolean()
    })
    await fc.assert(
      fc.asyncProperty(inputArb, async (drawn) => {
        const headers: Record<string, string> = {
          [drawn.upperCaseNames ? 'Content-Type' : 'content-type']: 'application/x-amz-json-1.0',
          [drawn.upperCaseNames ? 'X-Amz-Target' : 'x-amz-target']: `DynamoDB_20120810.${drawn.operation}`
        }
        if (drawn.note !== undefined) headers['x-amz-meta-note'] = drawn.note
        const input: SigningInput = {
          method: 'POST',
          url: new URL(drawn.endpoint),
          headers,
          body: drawn.body,
          credentials: drawn.credentials,
          region: drawn.region,
          service: 'dynamodb',
          date: drawn.date
        }
        expect(signAwsRequest(input)).toStrictEqual(await officialHeaders(input))
      }),
      { numRuns: 300 }
    )
  })
})

describe('what goes over the wire is what was signed', () => {
  it('sends a request whose signature the official signer verifies from the received bytes', async () => {
    // Prepare: a server that answers like DynamoDB and keeps what it received
    const server = await fakeDynamoDb(() => ({ status: 200, body: '{"Responses":{"t":[]},"UnprocessedKeys":{}}' }))
    const credentials = sampleCredentials(true)
    const lite = createDynamoDbLite({ region: 'eu-west-1', endpoint: server.endpoint, credentials: () => credentials })
    const input: BatchGetItemInput = {
      RequestItems: { t: { Keys: [{ pk: { S: 'KEY#ü/€+ 1' } }], ConsistentRead: true, ProjectionExpression: PROJECTION } }
    }
    // Act
    const output = await lite.batchGetItem(input)
    await server.close()
    // Assess
    expect(output).toEqual({ Responses: { t: [] }, UnprocessedKeys: {} })
    expect(server.requests).toHaveLength(1)
    const received = server.requests[0] as Received
    expect(JSON.parse(received.body)).toEqual(input)
    expect(received.headers['content-type']).toBe('application/x-amz-json-1.0')
    expect(received.headers['x-amz-target']).toBe('DynamoDB_20120810.BatchGetItem')
    expect(received.headers['x-amz-security-token']).toBe(credentials.sessionToken)
    // Sent (in bytes, not characters) but not signed: aws4's own content-length is kept out of the signature, as the SDK's signer sees none.
    expect(received.headers['content-length']).toBe(String(Buffer.byteLength(received.body)))
    expect(headerText(received.headers, 'authorization')).toContain(
      `Credential=${credentials.accessKeyId}/${headerText(received.headers, 'x-amz-date').slice(0, 8)}/eu-west-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,`
    )
    const verdict = await officialVerdict(received, credentials, 'eu-west-1')
    expect(verdict.actual).toBe(verdict.expected)
  })

  it('reads the credentials from the environment on every call', async () => {
    const server = await fakeDynamoDb(() => ({ status: 200, body: '{"Responses":{}}' }))
    const [first, second] = [sampleCredentials(true), sampleCredentials(false)]
    const env: Record<string, string | undefined> = {
      AWS_ACCESS_KEY_ID: first.accessKeyId,
      AWS_SECRET_ACCESS_KEY: first.secretAccessKey,
      AWS_SESSION_TOKEN: first.sessionToken
    }
    const lite = createDynamoDbLite({ region: 'us-east-1', endpoint: server.endpoint, credentials: () => credentialsFromEnv(env) })
    await lite.batchGetItem(COMPANY_KEY)
    Object.assign(env, { AWS_ACCESS_KEY_ID: second.accessKeyId, AWS_SECRET_ACCESS_KEY: second.secretAccessKey, AWS_SESSION_TOKEN: '' })
    await lite.batchGetItem(COMPANY_KEY)
    await server.close()
    const [one, two] = server.requests as [Received, Received]
    expect((await officialVerdict(one, first, 'us-east-1')).actual).toBe((await officialVerdict(one, first, 'us-east-1')).expected)
    expect((await officialVerdict(two, second, 'us-east-1')).actual).toBe((await officialVerdict(two, second, 'us-east-1')).expected)
    expect(two.headers['x-amz-security-token']).toBeUndefined()
    expect(two.headers['x-amz-target']).toBe('DynamoDB_20120810.BatchGetItem')
  })
})

let db: KeyDatabase

beforeAll(async () => {
  db = await startKeyDatabase()
})

afterAll(async () => {
  await db.close()
})

const localLite = (endpoint: string = db.endpoint): DynamoDbLite => createDynamoDbLite({ region: 'local', endpoint, credentials: () => LOCAL })

/** An SDK client on dynalite that records the commands it sends (the real SDK, no mock). */
function recordingClient(): { client: DynamoDBClient; commands: string[] } {
  const client = localDynamoDbClient(db.endpoint)
  const commands: string[] = []
  client.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push(String(context.commandName))
      return next(args)
    },
    { step: 'initialize', name: 'recordCommands' }
  )
  return { client, commands }
}

/** A table with a revoked key, an active key, another company's key and one company's revocation. */
async function revocationTable(): Promise<{ tableName: string; revoked: string; active: string; globex: string }> {
  const { store, tableName } = await db.newStore()
  const [revoked, active, globex] = [randomUUID(), randomUUID(), randomUUID()]
  await store.putKey(keyRecord({ keyId: revoked, companyId: 'acme', createdSeconds: NOW - DAY }))
  await store.putKey(keyRecord({ keyId: active, companyId: 'initech', createdSeconds: NOW - DAY }))
  await store.putKey(keyRecord({ keyId: globex, companyId: 'globex', createdSeconds: NOW - DAY }))
  await store.revokeKey('acme', revoked, NOW)
  await store.revokeAllKeys('acme', NOW + 60)
  return { tableName, revoked, active, globex }
}

const byPk = (items: ReadonlyArray<Record<string, unknown>> | undefined): unknown[] =>
  [...(items ?? [])].sort((a, b) => JSON.stringify(a.pk).localeCompare(JSON.stringify(b.pk)))

describe('batchGetItem on dynalite: the same answers as the SDK', () => {
  let table: Awaited<ReturnType<typeof revocationTable>>

  beforeAll(async () => {
    table = await revocationTable()
  })

  const cases: Array<{ name: string; keys: () => string[]; projection: boolean; found: number }> = [
    { name: 'a revoked key and its company revocation', keys: () => [companyItemId('acme'), keyItemId(table.revoked)], projection: true, found: 2 },
    { name: 'a company revocation alone (key without jti)', keys: () => [companyItemId('acme')], projection: true, found: 1 },
    { name: 'an active key, no company item', keys: () => [companyItemId('initech'), keyItemId(table.active)], projection: true, found: 1 },
    { name: 'missing items only', keys: () => [companyItemId('nobody'), keyItemId(randomUUID())], projection: true, found: 0 },
    {
      name: 'whole items (no projection), numbers included',
      keys: () => [companyItemId('acme'), keyItemId(table.revoked), keyItemId(table.globex)],
      projection: false,
      found: 3
    }
  ]

  it.each(cases)('$name', async ({ keys, projection, found }) => {
    // Prepare
    const input: BatchGetItemInput = {
      RequestItems: {
        [table.tableName]: {
          Keys: keys().map((pk) => ({ pk: { S: pk } })),
          ConsistentRead: true,
          ...(projection ? { ProjectionExpression: PROJECTION } : {})
        }
      }
    }
    // Act
    const lite = await localLite().batchGetItem(input)
    const sdk = await db.client.send(
      new BatchGetItemCommand({
        RequestItems: {
          [table.tableName]: {
            Keys: keys().map((pk) => ({ pk: { S: pk } })),
            ConsistentRead: true,
            ...(projection ? { ProjectionExpression: PROJECTION } : {})
          }
        }
      })
    )
    // Assess
    expect(byPk(lite.Responses?.[table.tableName])).toEqual(byPk(sdk.Responses?.[table.tableName]))
    expect(lite.Responses?.[table.tableName]).toHaveLength(found)
    expect(lite.UnprocessedKeys ?? {}).toEqual(sdk.UnprocessedKeys ?? {})
  })

  it("rejects with DynamoDB's error type, as the SDK does, for a missing table", async () => {
    const input: BatchGetItemInput = { RequestItems: { 'no-such-table': { Keys: [{ pk: { S: 'x' } }] } } }
    const lite = await localLite()
      .batchGetItem(input)
      .then(
        () => undefined,
        (error: unknown) => error
      )
    const sdk = await db.client.send(new BatchGetItemCommand({ RequestItems: { 'no-such-table': { Keys: [{ pk: { S: 'x' } }] } } })).then(
      () => undefined,
      (error: unknown) => error
    )
    expect((lite as Error).name).toBe('ResourceNotFoundException')
    expect((lite as Error).name).toBe((sdk as Error).name)
    expect((lite as { httpStatusCode?: number }).httpStatusCode).toBe(400)
  })
})

describe('DynamoKeyStore.revocationFacts: the lite path and the SDK path agree', () => {
  let table: Awaited<ReturnType<typeof revocationTable>>

  beforeAll(async () => {
    table = await revocationTable()
  })

  const cases: Array<{
    name: string
    keyId: () => string
    companyId: string
    facts: { keyRevokedAt: number | undefined; companyRevokedBefore: number | undefined }
  }> = [
    {
      name: 'revoked key of a company that revoked everything',
      keyId: () => table.revoked,
      companyId: 'acme',
      facts: { keyRevokedAt: NOW, companyRevokedBefore: NOW + 60 }
    },
    { name: 'active key', keyId: () => table.active, companyId: 'initech', facts: { keyRevokedAt: undefined, companyRevokedBefore: undefined } },
    { name: 'unknown key', keyId: () => randomUUID(), companyId: 'initech', facts: { keyRevokedAt: undefined, companyRevokedBefore: undefined } },
    {
      name: "another company's record under this key id",
      keyId: () => table.globex,
      companyId: 'initech',
      facts: { keyRevokedAt: 0, companyRevokedBefore: undefined }
    },
    {
      name: 'key without jti, company revoked everything',
      keyId: () => '',
      companyId: 'acme',
      facts: { keyRevokedAt: undefined, companyRevokedBefore: NOW + 60 }
    },
    {
      name: 'key without jti, company never revoked',
      keyId: () => '',
      companyId: 'globex',
      facts: { keyRevokedAt: undefined, companyRevokedBefore: undefined }
    }
  ]

  it.each(cases)('$name', async ({ keyId, companyId, facts }) => {
    // Prepare: the lite store's SDK client records anything it is asked to send
    const { client, commands } = recordingClient()
    const liteStore = new DynamoKeyStore(client, table.tableName, { lite: localLite() })
    const sdkStore = new DynamoKeyStore(db.client, table.tableName)
    const id = keyId()
    // Act
    const viaLite = await liteStore.revocationFacts(id, companyId)
    const viaSdk = await sdkStore.revocationFacts(id, companyId)
    // Assess
    expect(viaLite).toEqual(facts)
    expect(viaSdk).toEqual(facts)
    expect(commands).toEqual([])
    client.destroy()
  })
})

describe('bounds and errors', () => {
  it('gives up on a server that never answers within the bound: 2 attempts of 1.5 s', async () => {
    // Prepare: accepts, reads the request, never answers
    const server = await fakeDynamoDb(() => 'hang')
    const started = performance.now()
    // Act
    const error = await rejectionOf(localLite(server.endpoint).batchGetItem(COMPANY_KEY))
    const elapsed = performance.now() - started
    await server.close()
    // Assess: a bound check, not a benchmark
    expect(error.name).toBe('TimeoutError')
    expect(isSigningFailure(error)).toBe(false)
    expect(server.requests).toHaveLength(2)
    expect(elapsed).toBeGreaterThan(2 * 1500 - 100)
    expect(elapsed).toBeLessThan(5000)
  })

  it('answers NetworkError after 2 attempts when nothing listens', async () => {
    const server = await fakeDynamoDb(() => 'hang')
    const endpoint = server.endpoint
    await server.close()
    const error = await rejectionOf(localLite(endpoint).batchGetItem(COMPANY_KEY))
    expect(error.name).toBe('NetworkError')
    expect(error.httpStatusCode).toBeUndefined()
  })

  it("names a 400 by DynamoDB's error type, with the status, and does not retry it", async () => {
    const server = await fakeDynamoDb(() => dynamoDbError(400, 'ResourceNotFoundException', 'Requested resource not found'))
    const error = await rejectionOf(localLite(server.endpoint).batchGetItem(COMPANY_KEY))
    await server.close()
    expect(error.name).toBe('ResourceNotFoundException')
    expect(error.httpStatusCode).toBe(400)
    expect(server.requests).toHaveLength(1)
  })

  it.each([
    { name: 'ThrottlingException', first: dynamoDbError(400, 'ThrottlingException') },
    { name: 'ProvisionedThroughputExceededException', first: dynamoDbError(400, 'ProvisionedThroughputExceededException') },
    { name: 'RequestLimitExceeded', first: dynamoDbError(400, 'RequestLimitExceeded') },
    { name: 'a 500', first: dynamoDbError(500, 'InternalServerError') },
    { name: 'a 503 without a type', first: dynamoDbError(503, undefined) }
  ])('retries once after $name and answers the second attempt', async ({ first }) => {
    const server = await fakeDynamoDb((_request, index) => (index === 0 ? first : { status: 200, body: '{"Responses":{"t":[]}}' }))
    const output = await localLite(server.endpoint).batchGetItem(COMPANY_KEY)
    await server.close()
    expect(output).toEqual({ Responses: { t: [] } })
    expect(server.requests).toHaveLength(2)
  })

  it('stops after 2 attempts of a persistent 5xx, with its type and status', async () => {
    const server = await fakeDynamoDb(() => dynamoDbError(500, 'InternalServerError'))
    const error = await rejectionOf(localLite(server.endpoint).batchGetItem(COMPANY_KEY))
    await server.close()
    expect(error.name).toBe('InternalServerError')
    expect(error.httpStatusCode).toBe(500)
    expect(server.requests).toHaveLength(2)
  })

  it('answers CredentialsNotFound, a signing failure, when the environment has no credentials at call time', async () => {
    const server = await fakeDynamoDb(() => ({ status: 200, body: '{"Responses":{}}' }))
    const lite = createDynamoDbLite({ region: 'eu-west-1', endpoint: server.endpoint, credentials: () => credentialsFromEnv({}) })
    const error = await rejectionOf(lite.batchGetItem(COMPANY_KEY))
    await server.close()
    expect(error.name).toBe('CredentialsNotFound')
    expect(isSigningFailure(error)).toBe(true)
    expect(server.requests).toHaveLength(0)
  })

  it.each(['InvalidSignatureException', 'ValidationException'])(
    'keeps credentials and the signature out of the error, even when %s echoes them',
    async (type) => {
      // Prepare: AWS's signature errors echo the canonical request (token included); this server echoes all of it
      const credentials = sampleCredentials(true)
      const server = await fakeDynamoDb((request) =>
        dynamoDbError(400, type, `canonical request: ${JSON.stringify(request.headers)} secret ${credentials.secretAccessKey}`)
      )
      const lite = createDynamoDbLite({ region: 'us-east-1', endpoint: server.endpoint, credentials: () => credentials })
      // Act
      const error = await rejectionOf(lite.batchGetItem(COMPANY_KEY))
      await server.close()
      // Assess
      const signature = /Signature=([0-9a-f]{64})/.exec(headerText(server.requests[0]?.headers ?? {}, 'authorization'))?.[1] ?? 'none'
      expect(error.name).toBe(type)
      const visible = `${error.message}\n${error.stack ?? ''}\n${JSON.stringify(error)}`
      for (const secret of [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken ?? '', signature])
        expect(visible).not.toContain(secret)
    }
  )

  it('refuses a bad setting at creation with a TypeError', () => {
    const credentials = (): AwsCredentials => LOCAL
    expect(() => createDynamoDbLite({ region: 'EU-West-1', endpoint: 'http://127.0.0.1:1', credentials })).toThrow(TypeError)
    expect(() => createDynamoDbLite({ region: 'local', endpoint: 'http://127.0.0.1:1/ddb', credentials })).toThrow(TypeError)
    expect(() => createDynamoDbLite({ region: 'local', endpoint: 'ftp://127.0.0.1:1', credentials })).toThrow(TypeError)
    expect(() => createDynamoDbLite({ region: 'local', endpoint: 'http://127.0.0.1:1', timeoutMs: 0, credentials })).toThrow(TypeError)
    expect(() => createDynamoDbLite({ region: 'local', endpoint: 'http://127.0.0.1:1', maxAttempts: 0, credentials })).toThrow(TypeError)
    expect(() => createDynamoDbLite({ region: 'local', endpoint: 'http://user:secret@127.0.0.1:1', credentials })).toThrow(TypeError)
    expect(() => createDynamoDbLite({ region: 'local', endpoint: 'http://127.0.0.1:1/?a=1', credentials })).toThrow(TypeError)
  })
})

describe('DynamoKeyStore.revocationFacts falls back to the SDK when the lite signature is refused', () => {
  it.each([
    { name: 'InvalidSignatureException', answer: dynamoDbError(400, 'InvalidSignatureException') },
    { name: 'UnrecognizedClientException', answer: dynamoDbError(400, 'UnrecognizedClientException') },
    { name: 'MissingAuthenticationTokenException', answer: dynamoDbError(403, 'MissingAuthenticationTokenException') },
    { name: 'IncompleteSignatureException', answer: dynamoDbError(400, 'IncompleteSignatureException') },
    { name: 'a 403 without a type', answer: dynamoDbError(403, undefined) }
  ])('$name: answers from the SDK, keeps using the SDK, and says so once', async ({ answer }) => {
    // Prepare: the SDK on dynalite, the lite client at a server refusing its signature
    const { tableName } = await db.newStore()
    const sdkStore = new DynamoKeyStore(db.client, tableName)
    const keyId = randomUUID()
    await sdkStore.putKey(keyRecord({ keyId, companyId: 'acme', createdSeconds: NOW - DAY }))
    await sdkStore.revokeKey('acme', keyId, NOW)
    const server = await fakeDynamoDb(() => answer)
    const { client, commands } = recordingClient()
    const fallbacks: unknown[] = []
    const store = new DynamoKeyStore(client, tableName, { lite: localLite(server.endpoint), onLiteFallback: (name) => fallbacks.push(name) })
    // Act
    const first = await store.revocationFacts(keyId, 'acme')
    const second = await store.revocationFacts(keyId, 'acme')
    await server.close()
    // Assess
    expect(first).toEqual({ keyRevokedAt: NOW, companyRevokedBefore: undefined })
    expect(second).toEqual(first)
    expect(server.requests).toHaveLength(1)
    expect(commands).toEqual(['BatchGetItemCommand', 'BatchGetItemCommand'])
    expect(fallbacks).toHaveLength(1)
    client.destroy()
  })

  it.each([
    { name: 'ResourceNotFoundException', answer: dynamoDbError(400, 'ResourceNotFoundException'), attempts: 1 },
    { name: 'AccessDeniedException (IAM, the SDK would be denied too)', answer: dynamoDbError(400, 'AccessDeniedException'), attempts: 1 },
    { name: 'a persistent 500', answer: dynamoDbError(500, 'InternalServerError'), attempts: 2 }
  ])('$name: propagates (the revocation check fails closed), and stays on the lite client', async ({ answer, attempts }) => {
    const server = await fakeDynamoDb(() => answer)
    const { client, commands } = recordingClient()
    const store = new DynamoKeyStore(client, 'dev-portal-keys-unused', { lite: localLite(server.endpoint) })
    const first = await rejectionOf(store.revocationFacts(randomUUID(), 'acme'))
    const second = await rejectionOf(store.revocationFacts(randomUUID(), 'acme'))
    await server.close()
    expect(first.name).toBe(second.name)
    expect(server.requests).toHaveLength(2 * attempts)
    expect(commands).toEqual([])
    client.destroy()
  })

  it('still treats unprocessed keys as no answer on the lite path', async () => {
    const server = await fakeDynamoDb(() => ({
      status: 200,
      body: '{"Responses":{"t":[]},"UnprocessedKeys":{"t":{"Keys":[{"pk":{"S":"COMPANY#acme"}}]}}}'
    }))
    const store = new DynamoKeyStore(db.client, 't', { lite: localLite(server.endpoint) })
    const error = await rejectionOf(store.revocationFacts('', 'acme'))
    await server.close()
    expect(error.message).toContain('unprocessed')
  })
})
