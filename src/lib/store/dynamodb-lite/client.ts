/**
 * A minimal DynamoDB client: DynamoDB's JSON 1.0 API over node:http(s)
 * (./transport), signed with AWS Signature Version 4 by the `aws4` package. It
 * exists for one reason: the authorizer's revocation lookup runs on every cold
 * start, and loading `@aws-sdk/client-dynamodb` for that one BatchGetItem costs
 * about 100 ms. Everything else keeps using the SDK.
 *
 * Which endpoint and credentials it may use is decided by ./env
 * (`dynamoDbLiteFromEnv`); this module talks to the endpoint it is given.
 */
import aws4, { type Request as Aws4Options } from 'aws4'
import { post, type PostAnswer } from './transport'

/** AWS credentials as Lambda puts them in the environment. */
export interface AwsCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string | undefined
}

/** One attribute value in DynamoDB's JSON wire format (binary values are base64). */
export interface AttributeValueJson {
  readonly S?: string
  readonly N?: string
  readonly B?: string
  readonly BOOL?: boolean
  readonly NULL?: boolean
  readonly SS?: readonly string[]
  readonly NS?: readonly string[]
  readonly BS?: readonly string[]
  readonly L?: readonly AttributeValueJson[]
  readonly M?: Readonly<Record<string, AttributeValueJson>>
}

/** An item (or a key) in DynamoDB's JSON wire format. */
export type ItemJson = Readonly<Record<string, AttributeValueJson>>

/** The keys to read from one table, and how. */
export interface KeysAndAttributesJson {
  readonly Keys: readonly ItemJson[]
  readonly ConsistentRead?: boolean
  readonly ProjectionExpression?: string
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>>
}

/** BatchGetItem's request, as DynamoDB's API defines it. */
export interface BatchGetItemInput {
  readonly RequestItems: Readonly<Record<string, KeysAndAttributesJson>>
  readonly ReturnConsumedCapacity?: 'INDEXES' | 'TOTAL' | 'NONE'
}

/** BatchGetItem's answer, as DynamoDB's API defines it. */
export interface BatchGetItemOutput {
  readonly Responses?: Readonly<Record<string, readonly ItemJson[]>>
  readonly UnprocessedKeys?: Readonly<Record<string, KeysAndAttributesJson>>
  readonly ConsumedCapacity?: readonly unknown[]
}

/**
 * A failed DynamoDB call. Like the SDK's errors, `name` is DynamoDB's error
 * type (`ResourceNotFoundException`, `ThrottlingException`, ...), so callers
 * treat both clients alike. Without an answer it is `TimeoutError` or
 * `NetworkError`; an error answer without a type is `UnknownError`; no
 * credentials in the environment is `CredentialsNotFound`.
 * The message never holds credentials or the signature.
 *
 * @example
 * if (error instanceof DynamoDbError && error.name === 'ResourceNotFoundException') createTable()
 */
export class DynamoDbError extends Error {
  /** DynamoDB's HTTP status; `undefined` when there was no answer. */
  readonly httpStatusCode: number | undefined
  /** Whether another attempt may succeed (5xx, throttling, no answer). */
  readonly retryable: boolean

  constructor(name: string, message: string, options: { httpStatusCode?: number; retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = name
    this.httpStatusCode = options.httpStatusCode
    this.retryable = options.retryable
  }
}

/** Error types that mean "this request's signature or credentials were refused". */
const SIGNING_FAILURES = new Set([
  'InvalidSignatureException',
  'UnrecognizedClientException',
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'CredentialsNotFound'
])

const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded'])

/**
 * Whether `error` says the request was not signed acceptably (or could not be
 * signed): the cue to use the SDK instead. A 403 without an error type counts.
 *
 * @example
 * catch (error) { if (isSigningFailure(error)) useSdk = true; else throw error }
 */
export function isSigningFailure(error: unknown): boolean {
  if (!(error instanceof DynamoDbError)) return false
  return SIGNING_FAILURES.has(error.name) || (error.name === 'UnknownError' && error.httpStatusCode === 403)
}

/** What {@link signAwsRequest} signs. */
export interface SigningInput {
  readonly method: string
  /** Where the request goes; this client only ever sends path `/` with no query. */
  readonly url: URL
  /** Headers to send and sign besides host, x-amz-date and x-amz-security-token. Include content-type when there is a body. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  readonly credentials: AwsCredentials
  readonly region: string
  readonly service: string
  readonly date: Date
}

/** aws4's request options, with the documented option @types/aws4 leaves out. */
type Aws4Request = Aws4Options & { extraHeadersToIgnore: Readonly<Record<string, boolean>> }

/**
 * Sign a request with AWS Signature Version 4 (AWS4-HMAC-SHA256), using the
 * `aws4` package. Returns the headers to send, names in lower case: the given
 * ones plus `host` (`url.host`), `x-amz-date`, `x-amz-security-token` (with a
 * session token) and `authorization`; exactly what the AWS SDK's signer
 * (@smithy/signature-v4) sends for the same request, byte for byte.
 * `content-length` is neither signed nor returned: the transport adds it.
 *
 * @example
 * const headers = signAwsRequest({ method: 'POST', url, headers: { 'content-type': 'application/x-amz-json-1.0' }, body, credentials, region: 'eu-west-1', service: 'dynamodb', date: new Date() })
 */
export function signAwsRequest(input: SigningInput): Record<string, string> {
  const request: Aws4Request = {
    method: input.method,
    path: input.url.pathname + input.url.search,
    service: input.service,
    region: input.region,
    body: input.body,
    headers: {
      ...input.headers,
      // Given, so aws4 signs exactly the host node:http sends (port included unless it is the scheme's default), as the SDK does.
      host: input.url.host,
      // Given, so the signing time is the caller's; aws4 would otherwise read the clock (or a Date header) itself.
      'x-amz-date': input.date.toISOString().replace(/[-:]|\.\d{3}/g, '')
    },
    // aws4 adds and signs Content-Length for any body; the SDK's signer, given the same headers, does not see one, so the
    // signatures would differ. It stays unsigned (allowed: SigV4 needs only host and x-amz-date signed), and is dropped
    // below: the transport sets it from the bytes it sends. aws4 adds no x-amz-content-sha256 outside S3, and neither
    // does the SDK's signer here (DynamoDB does not need it).
    extraHeadersToIgnore: { 'content-length': true }
  }
  const { accessKeyId, secretAccessKey, sessionToken } = input.credentials
  const signed = aws4.sign(request, { accessKeyId, secretAccessKey, sessionToken })
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(signed.headers ?? {})) {
    const lower = name.toLowerCase()
    if (lower !== 'content-length' && value !== undefined) headers[lower] = String(value)
  }
  return headers
}

/** Settings for {@link createDynamoDbLite}. */
export interface DynamoDbLiteOptions {
  /** Signing region, e.g. `eu-west-1`. */
  readonly region: string
  /** `http(s)://host[:port]`, no path, e.g. `https://dynamodb.eu-west-1.amazonaws.com`. */
  readonly endpoint: string
  /** Read on every call; `undefined` fails the call with `CredentialsNotFound`. */
  readonly credentials: () => AwsCredentials | undefined
  /** Bound on each attempt, connection to last byte. Default 1500 ms. */
  readonly timeoutMs?: number
  /** Attempts on no answer, 5xx and throttling. Default 2. */
  readonly maxAttempts?: number
}

/** The client {@link createDynamoDbLite} makes. */
export interface DynamoDbLite {
  /** Where requests go. */
  readonly endpoint: string
  /** BatchGetItem. UnprocessedKeys are returned as DynamoDB sent them, for the caller to judge. */
  batchGetItem(input: BatchGetItemInput): Promise<BatchGetItemOutput>
}

const TARGET_PREFIX = 'DynamoDB_20120810.'
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Replace every credential and the signature in a server's message. */
function redact(text: string, secrets: readonly string[]): string {
  let out = text
  // Longest first, so a secret inside another (a key id inside the authorization header) cannot break it up.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) if (secret.length >= 4) out = out.split(secret).join('[redacted]')
  return out.length > 300 ? `${out.slice(0, 300)}...` : out
}

/** DynamoDB's error type from the answer: the `x-amzn-errortype` header, else `__type`, after any `#`. */
function errorType(answer: PostAnswer, body: Record<string, unknown> | undefined): string | undefined {
  const raw = answer.headers.get('x-amzn-errortype') ?? body?.__type ?? body?.code
  if (typeof raw !== 'string' || raw === '') return undefined
  const type = raw.split(':')[0]?.split('#').pop()?.trim()
  return type === undefined || !/^[A-Za-z0-9_.]+$/.test(type) ? undefined : type
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/**
 * A DynamoDB client on node:http(s) for the calls where loading the SDK costs more
 * than the call. Each attempt is bounded by `timeoutMs`; no answer, a 5xx or
 * throttling is retried once after a short random pause (BatchGetItem is a
 * read, so a retry is always safe).
 *
 * @example
 * const ddb = createDynamoDbLite({ region: 'eu-west-1', endpoint: 'https://dynamodb.eu-west-1.amazonaws.com', credentials: () => credentialsFromEnv(process.env) })
 * const { Responses } = await ddb.batchGetItem({ RequestItems: { keys: { Keys: [{ pk: { S: 'KEY#1' } }], ConsistentRead: true } } })
 */
export function createDynamoDbLite(options: DynamoDbLiteOptions): DynamoDbLite {
  const timeoutMs = options.timeoutMs ?? 1500
  const maxAttempts = options.maxAttempts ?? 2
  if (!/^[a-z0-9-]+$/.test(options.region)) throw new TypeError('createDynamoDbLite: region must look like eu-west-1')
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new TypeError('createDynamoDbLite: timeoutMs must be a positive number')
  if (!(Number.isSafeInteger(maxAttempts) && maxAttempts >= 1)) throw new TypeError('createDynamoDbLite: maxAttempts must be a positive whole number')
  const url = new URL(options.endpoint)
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.pathname !== '/' ||
    url.search !== '' ||
    url.username !== '' ||
    url.password !== ''
  ) {
    throw new TypeError('createDynamoDbLite: endpoint must be http(s)://host[:port] with no path')
  }

  const attempt = async (operation: string, body: string): Promise<unknown> => {
    const credentials = options.credentials()
    if (credentials === undefined) {
      throw new DynamoDbError('CredentialsNotFound', 'DynamoDB: no AWS credentials in the environment', { retryable: false })
    }
    const headers = signAwsRequest({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': TARGET_PREFIX + operation },
      body,
      credentials,
      region: options.region,
      service: 'dynamodb',
      date: new Date()
    })
    let answer: PostAnswer
    try {
      answer = await post(url, headers, body, timeoutMs)
    } catch (error) {
      const timedOut = (error as { name?: unknown } | null)?.name === 'TimeoutError'
      const raw = (error as { code?: unknown } | null)?.code
      const code = typeof raw === 'string' ? raw : 'no code'
      throw timedOut
        ? new DynamoDbError('TimeoutError', `DynamoDB ${operation}: no answer within ${timeoutMs} ms`, { retryable: true, cause: error })
        : new DynamoDbError('NetworkError', `DynamoDB ${operation}: request failed (${code})`, { retryable: true, cause: error })
    }
    const json = parseJsonObject(answer.text)
    if (answer.ok) {
      if (json === undefined)
        throw new DynamoDbError('SerializationError', `DynamoDB ${operation}: answer is not a JSON object`, {
          httpStatusCode: answer.status,
          retryable: false
        })
      return json
    }
    const type = errorType(answer, json)
    const name = type ?? 'UnknownError'
    const status = answer.status
    const error = new DynamoDbError(name, `DynamoDB ${operation}: ${name} (HTTP ${status})`, {
      httpStatusCode: status,
      retryable: status >= 500 || THROTTLING.has(name)
    })
    // AWS's signature errors echo the canonical request, session token included: keep none of it.
    const serverMessage = json?.message ?? json?.Message
    if (!isSigningFailure(error) && typeof serverMessage === 'string' && serverMessage !== '') {
      const secrets = [
        credentials.secretAccessKey,
        credentials.sessionToken ?? '',
        credentials.accessKeyId,
        headers.authorization ?? '',
        (headers.authorization ?? '').split('Signature=')[1] ?? ''
      ]
      error.message += `: ${redact(serverMessage, secrets)}`
    }
    throw error
  }

  const call = async (operation: string, input: object): Promise<unknown> => {
    const body = JSON.stringify(input)
    for (let attemptNumber = 1; ; attemptNumber += 1) {
      try {
        return await attempt(operation, body)
      } catch (error) {
        if (attemptNumber >= maxAttempts || !(error instanceof DynamoDbError) || !error.retryable) throw error
        // Short and jittered: the authorizer's whole budget is a few seconds.
        await sleep(20 + Math.random() * 80)
      }
    }
  }

  return {
    endpoint: url.origin,
    batchGetItem: async (input) => (await call('BatchGetItem', input)) as BatchGetItemOutput
  }
}
