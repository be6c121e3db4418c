/**
 * A minimal DynamoDB client: DynamoDB's JSON 1.0 API over node:http(s), signed
 * with AWS Signature Version 4 on node:crypto. It exists for one reason: the
 * authorizer's revocation lookup runs on every cold start, and loading
 * `@aws-sdk/client-dynamodb` for that one BatchGetItem costs about 100 ms.
 * Everything else keeps using the SDK.
 *
 * It signs only with credentials from the environment (what Lambda provides);
 * it knows only the `aws` and `aws-cn` partitions' regional endpoints. Anything
 * else stays on the SDK: see {@link dynamoDbLiteFromEnv}.
 */
import { createHash, createHmac } from 'node:crypto'
import type { Agent as HttpAgent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http'
import { readEnv, type Env } from '../runtime/env'

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
  /** Path `/` and no query: all this client ever sends (so no path or query escaping to get wrong). */
  readonly url: URL
  /** Headers to send and sign besides host, x-amz-date and x-amz-security-token. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  readonly credentials: AwsCredentials
  readonly region: string
  readonly service: string
  readonly date: Date
}

const sha256Hex = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex')
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest()

/** SigV4's header value form: line breaks as spaces, runs of spaces and tabs as one, ends trimmed. */
const canonicalHeaderValue = (value: string): string =>
  value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '')

/**
 * Sign a request with AWS Signature Version 4 (AWS4-HMAC-SHA256). Returns the
 * headers to send: the given ones plus `x-amz-date`, `x-amz-security-token`
 * (with a session token) and `authorization`. `host` is signed as
 * `url.host` and left for node:http to send, which sends exactly that.
 *
 * @example
 * const headers = signAwsRequest({ method: 'POST', url, headers: { 'content-type': 'application/x-amz-json-1.0' }, body, credentials, region: 'eu-west-1', service: 'dynamodb', date: new Date() })
 */
export function signAwsRequest(input: SigningInput): Record<string, string> {
  if (input.url.pathname !== '/' || input.url.search !== '') throw new TypeError('signAwsRequest: only path / without a query is supported')
  const amzDate = input.date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  const shortDate = amzDate.slice(0, 8)
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(input.headers)) {
    const lower = name.toLowerCase()
    if (lower in headers || lower === 'host' || lower === 'authorization' || lower === 'x-amz-date' || lower === 'x-amz-security-token') {
      throw new TypeError(`signAwsRequest: header ${lower} is given twice or is set by the signer`)
    }
    headers[lower] = value
  }
  headers['x-amz-date'] = amzDate
  if (input.credentials.sessionToken !== undefined && input.credentials.sessionToken !== '')
    headers['x-amz-security-token'] = input.credentials.sessionToken

  const signed: Record<string, string> = { ...headers, host: input.url.host }
  const names = Object.keys(signed).sort()
  const signedHeaders = names.join(';')
  const canonicalRequest = [
    input.method,
    '/',
    '',
    ...names.map((name) => `${name}:${canonicalHeaderValue(signed[name] ?? '')}`),
    '',
    signedHeaders,
    sha256Hex(input.body)
  ].join('\n')
  const scope = `${shortDate}/${input.region}/${input.service}/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n')
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${input.credentials.secretAccessKey}`, shortDate), input.region), input.service), 'aws4_request')
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex')
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`
  return headers
}

/** Settings for {@link createDynamoDbLite}. */
export interface DynamoDbLiteOptions {
  /** Signing region, e.g. `eu-west-1`. */
  readonly region: string
  /** Defaults to the region's public endpoint. Path `/` only. */
  readonly endpoint?: string
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
  /** Call any DynamoDB operation by name with its JSON input; answers its JSON output. */
  call(operation: string, input: object): Promise<unknown>
  /** BatchGetItem. UnprocessedKeys are returned as DynamoDB sent them, for the caller to judge. */
  batchGetItem(input: BatchGetItemInput): Promise<BatchGetItemOutput>
}

/**
 * The regional endpoint of `region` in the partitions this client knows, or
 * `undefined` (FIPS, ISO and other partitions stay on the SDK).
 *
 * @example
 * publicEndpoint('eu-west-1') // 'https://dynamodb.eu-west-1.amazonaws.com'
 */
export function publicEndpoint(region: string): string | undefined {
  if (/^cn-[a-z]+-\d+$/.test(region)) return `https://dynamodb.${region}.amazonaws.com.cn`
  if (/^[a-z]{2}(-gov)?-[a-z]+-\d+$/.test(region)) return `https://dynamodb.${region}.amazonaws.com`
  return undefined
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
function errorType(response: { headers: { get(name: string): string | null } }, body: Record<string, unknown> | undefined): string | undefined {
  const raw = response.headers.get('x-amzn-errortype') ?? body?.__type ?? body?.code
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

// node:http(s) rather than fetch: fetch's first use loads undici, ~30 ms of a cold start that
// this client exists to save. The module itself is loaded on the first call (another ~7 ms
// that a deployment without a key table never pays). Keep-alive agents reuse connections
// across warm invocations; idle sockets are unref'd, so they never hold a process open.
type Transport = { request: (url: URL, options: RequestOptions, callback: (res: IncomingMessage) => void) => ClientRequest; agent: HttpAgent }
const transports: Partial<Record<'http:' | 'https:', Promise<Transport>>> = {}
function transportFor(protocol: 'http:' | 'https:'): Promise<Transport> {
  return (transports[protocol] ??= (protocol === 'https:' ? import('node:https') : import('node:http')).then((module) => ({
    request: module.request,
    agent: new module.Agent({ keepAlive: true })
  })))
}

/** POST `body`, bounded by `timeoutMs` from the first byte sent to the last byte read. */
async function post(url: URL, headers: Record<string, string>, body: string, timeoutMs: number) {
  const transport = await transportFor(url.protocol as 'http:' | 'https:')
  return new Promise<{ response: { ok: boolean; status: number; headers: { get(name: string): string | null } }; text: string }>(
    (resolve, reject) => {
      const signal = AbortSignal.timeout(timeoutMs)
      const request = transport.request(
        url,
        { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent: transport.agent, signal },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('error', reject)
          res.on('end', () => {
            const status = res.statusCode ?? 0
            const get = (name: string): string | null => {
              const value = res.headers[name.toLowerCase()]
              return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value
            }
            resolve({ response: { ok: status >= 200 && status < 300, status, headers: { get } }, text: Buffer.concat(chunks).toString('utf8') })
          })
        }
      )
      request.on('error', (error) =>
        reject(signal.aborted ? Object.assign(new Error('timed out', { cause: error }), { name: 'TimeoutError' }) : error)
      )
      request.end(body)
    }
  )
}

/**
 * A DynamoDB client on node:http(s) for the calls where loading the SDK costs more
 * than the call. Each attempt is bounded by `timeoutMs`; no answer, a 5xx or
 * throttling is retried once after a short random pause (BatchGetItem is a
 * read; a caller of `call` with a write must be fine with the SDK's own
 * retry semantics, which are the same).
 *
 * @example
 * const ddb = createDynamoDbLite({ region: 'eu-west-1', credentials: () => credentialsFromEnv(process.env) })
 * const { Responses } = await ddb.batchGetItem({ RequestItems: { keys: { Keys: [{ pk: { S: 'KEY#1' } }], ConsistentRead: true } } })
 */
export function createDynamoDbLite(options: DynamoDbLiteOptions): DynamoDbLite {
  const timeoutMs = options.timeoutMs ?? 1500
  const maxAttempts = options.maxAttempts ?? 2
  if (!/^[a-z0-9-]+$/.test(options.region)) throw new TypeError('createDynamoDbLite: region must look like eu-west-1')
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new TypeError('createDynamoDbLite: timeoutMs must be a positive number')
  if (!(Number.isSafeInteger(maxAttempts) && maxAttempts >= 1)) throw new TypeError('createDynamoDbLite: maxAttempts must be a positive whole number')
  const endpoint = options.endpoint ?? publicEndpoint(options.region)
  if (endpoint === undefined) throw new TypeError(`createDynamoDbLite: no known endpoint for region ${options.region}; pass endpoint`)
  const url = new URL(endpoint)
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
    let response: { ok: boolean; status: number; headers: { get(name: string): string | null } }
    let text: string
    try {
      ;({ response, text } = await post(url, headers, body, timeoutMs))
    } catch (error) {
      const timedOut = (error as { name?: unknown } | null)?.name === 'TimeoutError'
      const raw = (error as { code?: unknown } | null)?.code
      const code = typeof raw === 'string' ? raw : 'no code'
      throw timedOut
        ? new DynamoDbError('TimeoutError', `DynamoDB ${operation}: no answer within ${timeoutMs} ms`, { retryable: true, cause: error })
        : new DynamoDbError('NetworkError', `DynamoDB ${operation}: request failed (${code})`, { retryable: true, cause: error })
    }
    const json = parseJsonObject(text)
    if (response.ok) {
      if (json === undefined)
        throw new DynamoDbError('SerializationError', `DynamoDB ${operation}: answer is not a JSON object`, {
          httpStatusCode: response.status,
          retryable: false
        })
      return json
    }
    const type = errorType(response, json)
    const name = type ?? 'UnknownError'
    const status = response.status
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
    if (!/^[A-Za-z]+$/.test(operation)) throw new TypeError('DynamoDbLite.call: operation must be a DynamoDB operation name such as BatchGetItem')
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
    call,
    batchGetItem: async (input) => (await call('BatchGetItem', input)) as BatchGetItemOutput
  }
}

/**
 * The credentials in the environment (`AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), as Lambda sets them; `undefined`
 * when the key id or the secret is missing.
 *
 * @example
 * const credentials = credentialsFromEnv(process.env)
 */
export function credentialsFromEnv(env: Env): AwsCredentials | undefined {
  // Untrimmed, as the SDK reads them.
  const accessKeyId = readEnv(env, 'AWS_ACCESS_KEY_ID', { trim: false })
  const secretAccessKey = readEnv(env, 'AWS_SECRET_ACCESS_KEY', { trim: false })
  if (accessKeyId === undefined || secretAccessKey === undefined) return undefined
  return { accessKeyId, secretAccessKey, sessionToken: readEnv(env, 'AWS_SESSION_TOKEN', { trim: false }) }
}

/** Settings the SDK honours and this client does not: with any of them, stay on the SDK. */
const SDK_ONLY_SETTINGS = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_DYNAMODB']
const SDK_ONLY_FLAGS = ['AWS_USE_FIPS_ENDPOINT', 'AWS_USE_DUALSTACK_ENDPOINT']

/**
 * The lite client the environment allows, or `undefined` to use the SDK.
 * With `DYNAMODB_ENDPOINT` (local stack, tests) it talks to that endpoint with
 * dummy credentials, as the SDK client does there. Otherwise it needs a known
 * region (`AWS_REGION` or `AWS_DEFAULT_REGION`) and `AWS_ACCESS_KEY_ID` plus
 * `AWS_SECRET_ACCESS_KEY` in the environment, which Lambda always sets; a host
 * using profiles, SSO or instance metadata gets `undefined`, as does one that
 * configures FIPS, dual-stack or a custom AWS endpoint.
 *
 * @example
 * const lite = dynamoDbLiteFromEnv(process.env)
 */
export function dynamoDbLiteFromEnv(env: Env): DynamoDbLite | undefined {
  const local = readEnv(env, 'DYNAMODB_ENDPOINT')
  if (local !== undefined) {
    // A local endpoint with a path or odd scheme is the SDK's business (it throws a clear error there).
    if (!/^https?:\/\/[^/?#@]+\/?$/.test(local)) return undefined
    // dynalite accepts any credentials; never real ones here.
    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' }
    const region = readEnv(env, 'AWS_REGION') ?? 'local'
    if (!/^[a-z0-9-]+$/.test(region)) return undefined
    return createDynamoDbLite({ region, endpoint: local, credentials: () => credentials })
  }
  const region = readEnv(env, 'AWS_REGION') ?? readEnv(env, 'AWS_DEFAULT_REGION')
  if (region === undefined || publicEndpoint(region) === undefined) return undefined
  if (credentialsFromEnv(env) === undefined) return undefined
  if (SDK_ONLY_SETTINGS.some((name) => readEnv(env, name) !== undefined)) return undefined
  if (SDK_ONLY_FLAGS.some((name) => readEnv(env, name)?.toLowerCase() === 'true')) return undefined
  // Read at call time: the environment is the source of truth, as for the SDK's env provider.
  return createDynamoDbLite({ region, credentials: () => credentialsFromEnv(env) })
}
