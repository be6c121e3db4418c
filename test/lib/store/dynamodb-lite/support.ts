/**
 * What the lite DynamoDB client's tests share: the official signer's hash in
 * node:crypto, credentials shaped like real ones, and loopback servers that
 * answer like DynamoDB (or hang, or refuse) on cue and keep what they received.
 */
import { createHash, createHmac } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { HttpRequest } from '@smithy/core/protocols'
import { SignatureV4 } from '@smithy/signature-v4'
import type { Checksum, SourceData } from '@smithy/types'
import fc from 'fast-check'
import { expect } from 'vitest'
import type { AwsCredentials, BatchGetItemInput } from '../../../../src/lib/store/dynamodb-lite/client'

export const NOW = 1_700_000_000
export const DAY = 86_400
export const LOCAL = { accessKeyId: 'local', secretAccessKey: 'local' } as const
export const PROJECTION = 'pk, revokedAt, revokedBefore, companyId'
export const COMPANY_KEY: BatchGetItemInput = { RequestItems: { t: { Keys: [{ pk: { S: 'COMPANY#acme' } }], ConsistentRead: true } } }

/** SHA-256 and HMAC-SHA-256 over node:crypto, in the shape the official signer takes. */
export class NodeSha256 implements Checksum {
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

// Credentials shaped like real ones (AKIA/ASIA ids, 40-character secrets, long tokens with + / =), generated per run.
const accessKeyIdArb = fc.stringMatching(/^A[KS]IA[A-Z2-7]{16}$/)
const secretArb = fc.stringMatching(/^[A-Za-z0-9+/]{40}$/)
const sessionTokenArb = fc.stringMatching(/^[A-Za-z0-9+/]{16,600}={0,2}$/)
export const credentialsArb = fc.record({
  accessKeyId: accessKeyIdArb,
  secretAccessKey: secretArb,
  sessionToken: fc.option(sessionTokenArb, { nil: undefined })
})
export const sampleCredentials = (withToken: boolean): AwsCredentials => {
  const [credentials] = fc.sample(
    credentialsArb.map((c) => ({ ...c, sessionToken: withToken ? `IQoJb3JpZ2luX2Vj${c.secretAccessKey}+/==` : undefined })),
    1
  )
  if (credentials === undefined) throw new Error('no sample')
  return credentials
}

/** One request as a loopback server received it. */
export interface Received {
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** How a loopback server answers one request: a status and body, or never. */
export type Answer = { status: number; body?: string } | 'hang'

/** A loopback HTTP server answering each request as `answer` says (or never), recording what it received. */
export async function fakeDynamoDb(
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

/** DynamoDB's error answer: `status`, and a body naming `type` (none without a type). */
export const dynamoDbError = (status: number, type: string | undefined, message = 'refused'): Answer => ({
  status,
  body: type === undefined ? '' : JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message })
})

/** A received header's value as text, '' when absent. */
export const headerText = (headers: IncomingHttpHeaders, name: string): string => {
  const value = headers[name]
  return Array.isArray(value) ? value.join(',') : (value ?? '')
}

/** Verify, as AWS would, the signature of a request as it arrived: re-sign what was received with the official signer. */
export async function officialVerdict(
  received: Received,
  credentials: AwsCredentials,
  region: string
): Promise<{ expected: string; actual: string }> {
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

/** Await a rejection and return it (fails the test when the promise resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { httpStatusCode?: number }> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error as Error & { httpStatusCode?: number }
  )
}
