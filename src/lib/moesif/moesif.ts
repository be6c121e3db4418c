/**
 * Moesif API analytics around an HTTP API (payload 2.0) handler, made safe.
 *
 * The real `moesif-aws-lambda` 1.3.2 does the sending; this module fixes how it
 * behaves around our handler (its crash on an unreachable collector is fixed
 * by `patches/moesif-aws-lambda+1.3.2.patch`):
 * - it awaits each send for up to moesifapi's 10 s timeout, so we return the
 *   handler's result after at most `maxWaitMs` more and let the send finish in
 *   the background;
 * - it records a thrown error as status 200 and can fail the call when its own
 *   logging fails, so the inner handler never throws into it: errors become
 *   responses with their real status first;
 * - it sends every header and body as is, so credentials and cookies are always
 *   masked, and body fields listed in `MOESIF_MASK_FIELDS` too.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { APIGatewayProxyEventV2WithLambdaAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'
import type moesif from 'moesif-aws-lambda'
import type { MoesifEventData } from 'moesif-aws-lambda'
import { readEnv, readList } from '../runtime/env'
import { errorToResponse } from '../http/http-errors-middleware'
import { Logger } from '../runtime/logger'

/** The event our protected API receives: HTTP API 2.0 behind a simple-response Lambda authorizer. */
export type ApiEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<Record<string, unknown>>

/** An HTTP API handler as `withMoesif` takes and returns it. */
export type ApiHandler = (event: ApiEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>

/** Moesif settings, parsed once at cold start by {@link moesifSettingsFromEnv}. */
export interface MoesifSettings {
  /** Moesif is off when undefined. */
  applicationId: string | undefined
  /** Collector base URI, without a trailing slash. */
  baseUri: string
  /** Longest extra delay a call may wait for its event to be sent. */
  maxWaitMs: number
  /** Whether request and response bodies are sent at all. */
  logBody: boolean
  /** Body field names (case-insensitive, any depth) whose values are masked. */
  maskFields: readonly string[]
}

/** Default collector. */
export const MOESIF_DEFAULT_BASE_URI = 'https://api.moesif.net'

/** Default for `MOESIF_MAX_WAIT_MS`. */
export const MOESIF_DEFAULT_MAX_WAIT_MS = 100

/** What a masked value is replaced with. */
export const MOESIF_MASK = '*****'

/** Headers that carry credentials or sessions; masked whatever the settings say. */
const ALWAYS_MASKED_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'])

/** Deeper JSON than this is masked wholesale rather than walked. */
const MAX_MASK_DEPTH = 64

/**
 * Read the Moesif settings from the environment. An empty value counts as
 * unset. A bad value throws a `TypeError` naming the variable and what was
 * expected (never the value: the application id is a credential).
 *
 * - `MOESIF_APPLICATION_ID`: optional; Moesif is off without it.
 * - `MOESIF_BASE_URI`: an http(s) URL, default `https://api.moesif.net`.
 * - `MOESIF_MAX_WAIT_MS`: a non-negative integer, default 100.
 * - `MOESIF_LOG_BODY`: `true`, `false`, `1` or `0`, default true.
 * - `MOESIF_MASK_FIELDS`: comma-separated body field names, default none.
 *
 * @example
 * const settings = moesifSettingsFromEnv({ MOESIF_APPLICATION_ID: 'app-id', MOESIF_MASK_FIELDS: 'password,secret' })
 * settings.maxWaitMs // 100
 */
export function moesifSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): MoesifSettings {
  return Object.freeze({
    applicationId: readEnv(env, 'MOESIF_APPLICATION_ID'),
    baseUri: parseBaseUri(readEnv(env, 'MOESIF_BASE_URI')),
    maxWaitMs: parseMaxWaitMs(readEnv(env, 'MOESIF_MAX_WAIT_MS')),
    logBody: parseLogBody(readEnv(env, 'MOESIF_LOG_BODY')),
    maskFields: Object.freeze(readList(env, 'MOESIF_MASK_FIELDS') ?? [])
  })
}

function invalid(variable: string, expected: string): TypeError {
  return new TypeError(`Invalid configuration: ${variable} must be ${expected}`)
}

function parseBaseUri(value: string | undefined): string {
  if (value === undefined) return MOESIF_DEFAULT_BASE_URI
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalid('MOESIF_BASE_URI', 'an http(s) URL such as https://api.moesif.net')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid('MOESIF_BASE_URI', 'an http(s) URL such as https://api.moesif.net')
  }
  return value.replace(/\/+$/, '')
}

function parseMaxWaitMs(value: string | undefined): number {
  if (value === undefined) return MOESIF_DEFAULT_MAX_WAIT_MS
  const ms = /^\d+$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(ms)) throw invalid('MOESIF_MAX_WAIT_MS', 'a non-negative integer number of milliseconds')
  return ms
}

function parseLogBody(value: string | undefined): boolean {
  if (value === undefined) return true
  switch (value.toLowerCase()) {
    case 'true':
    case '1':
      return true
    case 'false':
    case '0':
      return false
    default:
      throw invalid('MOESIF_LOG_BODY', 'one of true, false, 1, 0')
  }
}

/**
 * The `maskContent` hook: returns a copy of the event with credential headers
 * (`Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`,
 * `X-Api-Key`, any case) masked in request and response, bodies removed unless
 * `logBody`, and `maskFields` masked at any depth in JSON bodies. A body that
 * is not JSON cannot be field-masked, so it is dropped when `maskFields` is
 * not empty. Never mutates its input.
 *
 * @example
 * const masked = maskMoesifEvent(eventData, { logBody: true, maskFields: ['password'] })
 * masked.request.headers.authorization // '*****'
 */
export function maskMoesifEvent(eventData: MoesifEventData, options: Pick<MoesifSettings, 'logBody' | 'maskFields'>): MoesifEventData {
  const fields = new Set(options.maskFields.map((field) => field.toLowerCase()))
  return {
    ...eventData,
    request: maskPart(eventData.request, options.logBody, fields),
    response: maskPart(eventData.response, options.logBody, fields)
  }
}

interface EventPart {
  headers: Record<string, unknown>
  body?: unknown
  transferEncoding?: 'base64' | undefined
}

function maskPart<T extends EventPart>(part: T, logBody: boolean, fields: ReadonlySet<string>): T {
  const { body, transferEncoding, ...rest } = part
  const masked = { ...rest, headers: maskHeaders(part.headers) } as T
  if (!logBody || body === undefined || body === null) return masked
  const maskedBody = maskBody(body, transferEncoding, fields)
  return maskedBody === undefined ? masked : { ...masked, ...maskedBody }
}

function maskHeaders(headers: unknown): Record<string, unknown> {
  if (typeof headers !== 'object' || headers === null) return {}
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(headers)) {
    out[name] = ALWAYS_MASKED_HEADERS.has(name.toLowerCase()) ? MOESIF_MASK : value
  }
  return out
}

function maskBody(
  body: unknown,
  transferEncoding: 'base64' | undefined,
  fields: ReadonlySet<string>
): Pick<EventPart, 'body' | 'transferEncoding'> | undefined {
  if (fields.size === 0) return { body, transferEncoding }
  if (transferEncoding !== 'base64') return { body: maskFieldsDeep(body, fields, 0) }
  // The library base64-encodes bodies it could not parse, and bodies API
  // Gateway delivered base64-encoded; the latter may still be JSON.
  if (typeof body !== 'string') return undefined
  try {
    return { body: maskFieldsDeep(JSON.parse(Buffer.from(body, 'base64').toString('utf8')), fields, 0) }
  } catch {
    return undefined
  }
}

function maskFieldsDeep(value: unknown, fields: ReadonlySet<string>, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (depth >= MAX_MASK_DEPTH) return MOESIF_MASK
  if (Array.isArray(value)) return value.map((item) => maskFieldsDeep(item, fields, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    out[key] = fields.has(key.toLowerCase()) ? MOESIF_MASK : maskFieldsDeep(item, fields, depth + 1)
  }
  return out
}

/** One invocation's hand-off from the inner handler back to the outer one. */
class Invocation {
  started = false
  readonly result: Promise<APIGatewayProxyStructuredResultV2>
  resolve!: (result: Promise<APIGatewayProxyStructuredResultV2>) => void

  constructor() {
    this.result = new Promise((resolve) => {
      this.resolve = resolve
    })
  }
}

const SEND_SETTLED: unique symbol = Symbol('moesif send settled')

/**
 * Wrap an HTTP API handler so every call is reported to Moesif through the
 * real `moesif-aws-lambda`, safely:
 * - the caller gets the handler's result as soon as it is ready plus at most
 *   `maxWaitMs` while the event is sent; a slow send continues in the
 *   background (unref'd timers, so it never holds the process open);
 * - a thrown error becomes a JSON response with its real status
 *   (`statusCode` 400-599, else 500): 5xx bodies say only "Internal Server
 *   Error" and the error's name and message are logged; a 4xx shows its message
 *   only when `expose` is true. Moesif records that status;
 * - users and companies come from the Lambda authorizer context (`userId`,
 *   `orgId`); metadata holds only the request id and function name; no session
 *   token is sent; see {@link maskMoesifEvent} for masking.
 *
 * Without an application id Moesif is off: one INFO line is logged now and the
 * error-to-status conversion still applies.
 *
 * moesif-aws-lambda writes `applicationId` and `baseUri` into moesifapi's
 * process-global configuration when it is set up, so with several wrapped
 * handlers in one process the last one set up wins.
 *
 * @example
 * export const handler = withMoesif(protectedApi, moesifSettingsFromEnv(), logger)
 */
export function withMoesif(handler: ApiHandler, settings: MoesifSettings, logger: Logger = new Logger({ service: 'dev-portal-keys' })): ApiHandler {
  if (!Number.isFinite(settings.maxWaitMs) || settings.maxWaitMs < 0) {
    throw new TypeError('withMoesif: settings.maxWaitMs must be a non-negative number of milliseconds')
  }
  const respond: ApiHandler = (event, context) => respondSafely(handler, event, context, logger)

  if (settings.applicationId === undefined) {
    logger.info('moesif disabled: MOESIF_APPLICATION_ID is not set')
    return respond
  }

  const applicationId = settings.applicationId
  const invocations = new AsyncLocalStorage<Invocation>()
  // Loaded on the first call, not at init: the library and its dependencies
  // cost tens of milliseconds of cold start, and a deployment without an
  // application id never pays them.
  let reporter: Promise<ReturnType<typeof moesif<ApiEvent, Context, APIGatewayProxyStructuredResultV2>>> | undefined
  const loadReporter = () =>
    (reporter ??= import('moesif-aws-lambda').then(({ default: createMoesif }) =>
      createMoesif<ApiEvent, Context, APIGatewayProxyStructuredResultV2>(
        {
          applicationId,
          baseUri: settings.baseUri,
          logBody: settings.logBody,
          identifyUser: (event) => authorizerValue(event, 'userId'),
          identifyCompany: (event) => authorizerValue(event, 'orgId'),
          // The default sends the API key; the request context would leak the authorizer context.
          getSessionToken: () => undefined,
          getMetadata: (_event, context) => ({ trace_id: context.awsRequestId, function_name: context.functionName }),
          maskContent: (eventData) => maskMoesifEvent(eventData, settings),
          // The library rejects (and, unpatched, crashes on) events without a method.
          skip: (event) => typeof (event.requestContext as Partial<ApiEvent['requestContext']> | undefined)?.http?.method !== 'string',
          callback: (error) => {
            if (error === null) return
            try {
              logger.warn('moesif event not sent', { errorCode: error.errorCode, errorMessage: error.errorMessage })
            } catch {
              // A failing log sink must not reach the library's request promise.
            }
          }
        },
        (event, context) => {
          const result = respond(event, context)
          const invocation = invocations.getStore()
          if (invocation !== undefined) {
            invocation.started = true
            invocation.resolve(result)
          }
          return result
        }
      )
    ))

  return async (event, context) => {
    const invocation = new Invocation()
    let sending: Promise<unknown>
    try {
      const reported = await loadReporter()
      sending = Promise.resolve(invocations.run(invocation, () => reported(event, context)))
    } catch (error) {
      sending = Promise.reject(error)
    }
    const sent: Promise<typeof SEND_SETTLED> = sending.then(
      () => SEND_SETTLED,
      (error: unknown) => {
        logger.warn('moesif logging failed', { error: describeError(error) })
        return SEND_SETTLED
      }
    )
    const first = await Promise.race([invocation.result, sent])
    let result: APIGatewayProxyStructuredResultV2
    if (first !== SEND_SETTLED) result = first
    else if (invocation.started) result = await invocation.result
    else result = await respond(event, context) // the library failed before calling the handler
    if (settings.maxWaitMs > 0) await settledOrTimeout(sent, settings.maxWaitMs)
    return result
  }
}

function authorizerValue(event: ApiEvent, key: 'userId' | 'orgId'): string | undefined {
  // Typed as always present, but absent on routes without the Lambda authorizer.
  const context = (event.requestContext as Partial<ApiEvent['requestContext']> | undefined)?.authorizer?.lambda
  const value = context?.[key]
  if (typeof value === 'string' && value !== '') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

function settledOrTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    timer.unref()
    void promise.then(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}

async function respondSafely(handler: ApiHandler, event: ApiEvent, context: Context, logger: Logger): Promise<APIGatewayProxyStructuredResultV2> {
  try {
    return await handler(event, context)
  } catch (error) {
    return errorToResponse(error, context.awsRequestId, logger)
  }
}

/** Name and message only: no stack, no cause, no attached data. */
function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message }
  return { name: 'NonError', message: `thrown value of type ${typeof error}` }
}
