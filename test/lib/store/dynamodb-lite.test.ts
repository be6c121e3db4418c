/**
 * The lite DynamoDB client: its SigV4 signature against the official signer
 * (@smithy/signature-v4, what the SDK signs with) and AWS's published test
 * vectors; its answers against the SDK's on dynalite; its bounds and errors
 * against loopback servers that hang, refuse or answer errors on cue; and the
 * store's fallback to the SDK when a signature is refused.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { BatchGetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { HttpRequest } from '@smithy/core/protocols'
import { SignatureV4 } from '@smithy/signature-v4'
import type { Checksum, SourceData } from '@smithy/types'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DynamoKeyStore, keyStoreFromEnv } from '../../../src/lib/store/dynamo-key-store'
import {
  createDynamoDbLite,
  credentialsFromEnv,
  dynamoDbLiteFromEnv,
  isSigningFailure,
  signAwsRequest,
  type AwsCredentials,
  type BatchGetItemInput,
  type DynamoDbLite,
  type SigningInput
} from '../../../src/lib/store/dynamodb-lite'
import { companyItemId, keyItemId } from '../../../src/lib/store/key-table'
import { localDynamoDbClient } from '../../../src/local/local-dynamodb'
import { keyRecord, startKeyDatabase, type KeyDatabase } from '../../support/dynalite'

const NOW = 1_700_000_000
const DAY = 86_400
const LOCAL = { accessKeyId: 'local', secretAccessKey: 'local' } as const
const PROJECTION = 'pk, revokedAt, revokedBefore, companyId'

/** SHA-256 and HMAC-SHA-256 over node:crypto, in the shape the official signer takes. */
class NodeSha256 implements Checksum {
  readonly #secret: Buffer | undefined
  #hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>

  constructor(secret?: SourceData) {
    this.#secret = secret === undefined ? undefined : toBuffer(secret)
    this.#hash = this.#fresh()
  }

  #fresh(): ReturnType<typeof createHash> | ReturnType<typeof createHmac> {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret)
  }

  update(data: Uint8Array): void {
    this.#hash.update(data)
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()))
  }

  reset(): void {
    this.#hash = this.#fresh()
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8')
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  return Buffer.from(data)
}

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

/** What the lite signer sends, with the host fetch adds. */
const liteHeaders = (input: SigningInput): Record<string, string> => ({ ...signAwsRequest(input), host: input.url.host })

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

// Credentials shaped like real ones (AKIA/ASIA ids, 40-character secrets, long tokens with + / =), generated per run.
const accessKeyIdArb = fc.stringMatching(/^A[KS]IA[A-Z2-7]{16}$/)
const secretArb = fc.stringMatching(/^[A-Za-z0-9+/]{40}$/)
const sessionTokenArb = fc.stringMatching(/^[A-Za-z0-9+/]{16,600}={0,2}$/)
const credentialsArb = fc.record({
  accessKeyId: accessKeyIdArb,
  secretAccessKey: secretArb,
  sessionToken: fc.option(sessionTokenArb, { nil: undefined })
})
const sampleCredentials = (withToken: boolean): AwsCredentials => {
  const [credentials] = fc.sample(
    credentialsArb.map((c) => ({ ...c, sessionToken: withToken ? `IQoJb3JpZ2luX2Vj${c.secretAccessKey}+/==` : undefined })),
    1
  )
  if (credentials === undefined) throw new Error('no sample')
  return credentials
}

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
    const lite = liteHeaders(input)
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
    const lite = liteHeaders(input)
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
    const lite = liteHeaders(input)
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
        expect(liteHeaders(input)).toStrictEqual(await officialHeaders(input))
      }),
      { numRuns: 300 }
    )
  })

  it('refuses what it does not canonicalize (a path, a query, a header it sets itself) with a TypeError', () => {
    const input = dynamoDbRequest({ credentials: sampleCredentials(false), body: '{}', date: new Date() })
    expect(() => signAwsRequest({ ...input, url: new URL('https://dynamodb.us-east-1.amazonaws.com/x') })).toThrow(TypeError)
    expect(() => signAwsRequest({ ...input, url: new URL('https://dynamodb.us-east-1.amazonaws.com/?a=1') })).toThrow(TypeError)
    expect(() => signAwsRequest({ ...input, headers: { ...input.headers, 'X-Amz-Date': '20150830T123600Z' } })).toThrow(TypeError)
    expect(() => signAwsRequest({ ...input, headers: { ...input.headers, 'Content-Type': 'text/plain' } })).toThrow(TypeError)
  })
})

/** One request as a loopback server received it. */
interface Received {
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

type Answer = { status: number; body?: string } | 'hang'

/** A loopback HTTP server answering each request as `answer` says (or never), recording what it received. */
async function fakeDynamoDb(
  answer: (request: Received, index: number) => Answer
): Promise<{ endpoint: string; requests: Received[]; close: () => Promise<void> }> {
  const requests: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const received = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
      requests.push(received)
      const reply = answer(received, requests.length - 1)
      if (reply === 'hang') return
      res.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.0' })
      res.end(reply.body ?? '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

const dynamoDbError = (status: number, type: string | undefined, message = 'refused'): Answer => ({
  status,
  body: type === undefined ? '' : JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message })
})

const headerText = (headers: IncomingHttpHeaders, name: string): string => {
  const value = headers[name]
  return Array.isArray(value) ? value.join(',') : (value ?? '')
}

/** Verify, as AWS would, the signature of a request as it arrived: re-sign what was received with the official signer. */
async function officialVerdict(received: Received, credentials: AwsCredentials, region: string): Promise<{ expected: string; actual: string }> {
  const actual = headerText(received.headers, 'authorization')
  const signedNames = /SignedHeaders=([^,]+)/.exec(actual)?.[1]?.split(';') ?? []
  const amzDate = headerText(received.headers, 'x-amz-date')
  const date = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'))
  const signer = new SignatureV4({ service: 'dynamodb', region, credentials, sha256: NodeSha256, applyChecksum: false })
  const host = headerText(received.headers, 'host')
  const [hostname = '', port] = host.split(':')
  const headers = Object.fromEntries(signedNames.filter((name) => name !== 'x-amz-date').map((name) => [name, headerText(received.headers, name)]))
  const request = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname,
    port: port === undefined ? undefined : Number(port),
    path: '/',
    headers,
    body: received.body
  })
  const signed = await signer.sign(request, { signingDate: date })
  return { expected: String(signed.headers.authorization), actual }
}

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
    await lite.call('DescribeLimits', {})
    Object.assign(env, { AWS_ACCESS_KEY_ID: second.accessKeyId, AWS_SECRET_ACCESS_KEY: second.secretAccessKey, AWS_SESSION_TOKEN: '' })
    await lite.call('DescribeLimits', {})
    await server.close()
    const [one, two] = server.requests as [Received, Received]
    expect((await officialVerdict(one, first, 'us-east-1')).actual).toBe((await officialVerdict(one, first, 'us-east-1')).expected)
    expect((await officialVerdict(two, second, 'us-east-1')).actual).toBe((await officialVerdict(two, second, 'us-east-1')).expected)
    expect(two.headers['x-amz-security-token']).toBeUndefined()
    expect(two.headers['x-amz-target']).toBe('DynamoDB_20120810.DescribeLimits')
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

/** Await a rejection and return it (fails the test when the promise resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<Error & { httpStatusCode?: number }> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error as Error & { httpStatusCode?: number }
  )
}

const COMPANY_KEY: BatchGetItemInput = { RequestItems: { t: { Keys: [{ pk: { S: 'COMPANY#acme' } }], ConsistentRead: true } } }

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
    const lite = createDynamoDbLite({ region: 'eu-west-1', credentials: () => credentialsFromEnv({}) })
    const error = await rejectionOf(lite.batchGetItem(COMPANY_KEY))
    expect(error.name).toBe('CredentialsNotFound')
    expect(isSigningFailure(error)).toBe(true)
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

  it('refuses a bad setting at creation, and a bad operation name, with a TypeError', async () => {
    const credentials = (): AwsCredentials => LOCAL
    expect(() => createDynamoDbLite({ region: 'us-iso-east-1', credentials })).toThrow(TypeError)
    expect(() => createDynamoDbLite({ region: 'local', endpoint: 'http://127.0.0.1:1/ddb', credentials })).toThrow(TypeError)
    expect(() => createDynamoDbLite({ region: 'local', endpoint: 'ftp://127.0.0.1:1', credentials })).toThrow(TypeError)
    expect(() => createDynamoDbLite({ region: 'local', endpoint: 'http://127.0.0.1:1', timeoutMs: 0, credentials })).toThrow(TypeError)
    expect(() => createDynamoDbLite({ region: 'local', endpoint: 'http://127.0.0.1:1', maxAttempts: 0, credentials })).toThrow(TypeError)
    await expect(localLite('http://127.0.0.1:1').call('Batch.GetItem', {})).rejects.toThrow(TypeError)
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
