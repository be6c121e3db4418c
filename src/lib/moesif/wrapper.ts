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
 * - it sends every header and body as is, so events go through
 *   `maskMoesifEvent` (`./masking`) first.
 *
 * One invocation with Moesif on (the steps are marked in the code):
 *
 * 1. Settings: given as a loader, they are read on the first call (a failure
 *    answers a generic 500 through `errorToResponse`, and the next call tries
 *    again); without an application id the wrapper is just the inner handler.
 * 2. Load the reporter lazily: the first call imports `moesif-aws-lambda` and
 *    builds the reporter around our inner handler; later calls reuse it.
 * 3. `invocations.run(invocation, () => reported(event, context))`: a fresh
 *    `Invocation` is put in AsyncLocalStorage for this call only, so
 *    concurrent calls never see each other's result.
 * 4. The library identifies the user and company, then calls our inner
 *    handler, which starts the real handler (errors already turned into
 *    responses), finds its `Invocation` with `invocations.getStore()`, marks it
 *    started and resolves it with the result promise, before anything is sent.
 * 5. Race: `invocation.result` against `sent`, the library's own promise,
 *    which settles once the event is sent or has failed (a failure is logged
 *    as WARN "moesif logging failed" and never reaches the caller). The
 *    result normally wins.
 * 6. Fallback: if `sent` settles first and the handler started, await its
 *    result; if it never started, the library (or its import) failed before
 *    calling the handler, so the real handler is called here, unreported.
 * 7. Bounded wait: the send gets at most `maxWaitMs` more (an unref'd timer),
 *    then the result is returned; a slower send finishes in the background.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { APIGatewayProxyEventV2WithLambdaAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'
import type moesif from 'moesif-aws-lambda'
import { errorToResponse } from '../http/error-response'
import { Logger } from '../runtime/logger'
import { maskMoesifEvent } from './masking'
import type { MoesifSettings, MoesifSettingsLoader } from './settings'

/** The event our protected API receives: HTTP API 2.0 behind a simple-response Lambda authorizer. */
export type ApiEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<Record<string, unknown>>

/** An HTTP API handler as `withMoesif` takes and returns it. */
export type ApiHandler = (event: ApiEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>

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
 * `settings` is either the settings themselves, used at once, or a loader
 * (such as `() => moesifSettingsFromEnv()`) called on the first call, so a bad
 * MOESIF_* value fails that call, not the module load. A loader's success is
 * kept for the life of the process; its failure (a `ConfigError`, say) is
 * answered like any handler error, as a generic JSON 500 with the error
 * logged, and the next call reads the settings again.
 *
 * Without an application id Moesif is off: one INFO line is logged when the
 * settings are resolved, and the error-to-status conversion still applies.
 *
 * moesif-aws-lambda writes `applicationId` and `baseUri` into moesifapi's
 * process-global configuration when it is set up, so with several wrapped
 * handlers in one process the last one set up wins.
 *
 * @example
 * export const handler = withMoesif(protectedApi, () => moesifSettingsFromEnv(), logger)
 */
export function withMoesif(
  handler: ApiHandler,
  settings: MoesifSettings | MoesifSettingsLoader,
  logger: Logger = new Logger({ service: 'dev-portal-keys' })
): ApiHandler {
  const respond: ApiHandler = (event, context) => respondSafely(handler, event, context, logger)
  if (typeof settings !== 'function') return reporting(respond, settings, logger)

  // Step 1, with a loader.
  const load = settings
  let ready: ApiHandler | undefined
  return async (event, context) => {
    if (ready === undefined) {
      try {
        ready = reporting(respond, load(), logger)
      } catch (error) {
        // Not cached: the next call reads the settings again.
        return errorToResponse(error, context.awsRequestId, logger)
      }
    }
    return ready(event, context)
  }
}

/** `respond` reported to Moesif per `settings` (the sequence in the module comment), or `respond` alone when Moesif is off. */
function reporting(respond: ApiHandler, settings: MoesifSettings, logger: Logger): ApiHandler {
  if (!Number.isFinite(settings.maxWaitMs) || settings.maxWaitMs < 0) {
    throw new TypeError('withMoesif: settings.maxWaitMs must be a non-negative number of milliseconds')
  }

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
        // Step 4: the library calls this with the event; hand the result back at once.
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
    // Steps 2 and 3: load the reporter, run the library with this call's Invocation in scope.
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
    // Steps 5 and 6: the handler's result against the send, and the fallback.
    const first = await Promise.race([invocation.result, sent])
    let result: APIGatewayProxyStructuredResultV2
    if (first !== SEND_SETTLED) result = first
    else if (invocation.started) result = await invocation.result
    else result = await respond(event, context) // the library failed before calling the handler
    // Step 7: give the send its bounded chance.
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
