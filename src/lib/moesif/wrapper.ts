/**
 * Moesif API analytics around an HTTP API (payload 2.0) handler, made safe.
 *
 * The real `moesif-aws-lambda` 1.3.2 builds each event: it identifies the
 * user and company, calls our masking, and applies the sampling of the Moesif
 * app's config. `patches/moesif-aws-lambda+1.3.2.patch` fixes its crashes and
 * its always-built debug output, and adds a `sendEvent` hook through which it
 * hands us the finished event instead of sending it; our `MoesifDelivery`
 * (`./delivery`) sends it. Around the library, this module:
 * - runs the handler itself, at once, so Moesif never delays it, and turns a
 *   thrown error into a response with its real status first (the library
 *   recorded a thrown error as 200);
 * - shows the library only screened bodies (`./bodies`): a body too large or
 *   too deeply nested to log safely, or flagged base64 but not base64, is
 *   replaced by the marker "[body not logged: <reason>]" and
 *   `metadata.body_not_logged` says why, so no body can cost a call its event;
 * - masks every event (`./masking`);
 * - enforces Moesif's governance rules (`./governance`, fetched and kept by
 *   `./governance-rules`): a call a rule blocks gets the rule's answer and
 *   never reaches the handler; the headers of every rule that applies are
 *   added to the answer;
 * - bounds the time all Moesif work adds to a request (`./budget`).
 *
 * Guaranteed, with Moesif on, for each call to the wrapped handler:
 * 1. The caller gets the handler's own result (a thrown error as a response
 *    with its real status), with the headers of the governance rules that
 *    apply added (a header the handler set stays the handler's), whatever
 *    Moesif, the collector or the bodies do; or, when a rule blocks the
 *    call, the rule's status, body and headers plus `X-Moesif-Blocked-By:
 *    <rule id>`, and the handler never runs. With no rules (none fetched
 *    yet, Moesif down since the cold start) every call is allowed.
 * 2. All of the call's Moesif work adds at most `maxWaitMs`
 *    (MOESIF_MAX_WAIT_MS, plus timer jitter) to it, in total. Before any
 *    rules were fetched (the cold start), a call waits for the first fetch
 *    until `maxWaitMs` after it started at most, then goes on without rules;
 *    that wait is taken from the call's budget. After the handler's result
 *    is ready, the call waits for the rest of its budget at most. The rest
 *    of the work (loading the library on a cold start, retrying buffered
 *    events, refreshing stale rules, sending this call's event, and whatever
 *    later work is tracked on the call's budget) runs alongside the handler
 *    and within that bound; unfinished work goes on in the background, after
 *    the Lambda thaws if it was frozen meanwhile.
 * 3. Never two events for one call (a blocked call's event carries
 *    `blocked_by`, the rule's id). The call's event is handed to delivery
 *    once (the library's, or our fallback only when the library failed
 *    without handing one over), and delivery holds each event in one place at
 *    a time and sends it again only when the collector cannot have recorded
 *    it: the send failed before its request was written whole, or the
 *    collector answered 408, 429 or a 5xx other than 502/504. Nothing is
 *    aborted to be retried.
 * 4. Otherwise exactly one event arrives, possibly late (a send that outlives
 *    the budget finishes after a thaw; a retried event on a later
 *    invocation; Moesif meters by the event's own time), except when:
 *    a. the library leaves the call out on purpose: sampling set in the
 *       Moesif app, or no HTTP method (not an HTTP API call);
 *    b. it is dropped: more than 100 events or 4 MiB held at once (oldest
 *       buffered first), 5 failed sends, or a 4xx answer other than 408/429
 *       (the collector refused it); or it is
 *       unconfirmed: written whole but not answered in 10 s (or answered
 *       502/504), so it may or may not have arrived and is not retried.
 *       Both are counted and logged, counts only, as WARN lines
 *       "moesif events dropped" / "moesif events unconfirmed" at the end of
 *       the invocation that saw them;
 *    c. the environment is shut down first: buffered events are retried only
 *       at the start of a later invocation in the same environment, so they
 *       and sends still in flight are then lost, unlogged.
 *
 * One invocation with Moesif on (the steps are marked in the code):
 *
 * 1. Settings: given as a loader, they are read on the first call (a failure
 *    answers a generic 500 through `errorToResponse`, and the next call tries
 *    again); without an application id the wrapper is just the inner handler.
 * 2. Rules and budget: the governance modules are loaded and the rules'
 *    first fetch started when the settings are resolved (the cold start). A
 *    call that finds the rules older than MOESIF_RULES_TTL starts a refresh.
 *    Until the first fetch settles, a call waits for it (step 2 of the
 *    guarantees); then a fresh `moesifBudget` of `maxWaitMs` less that wait
 *    is made for the call, and tracks the refresh this call started and the
 *    retry of events buffered by earlier calls (started at once).
 * 3. Governance, then the handler: the rules in force are evaluated for the
 *    call (company and user from the authorizer context, as for the event).
 *    A blocked call's result is the rule's answer, and the handler is not
 *    called; otherwise the handler is started at once (errors already turned
 *    into responses) and the rules' headers are added to its result. Both
 *    bodies are screened for the library, the result's once it is ready.
 * 4. Report, tracked on the budget: the first call imports
 *    `moesif-aws-lambda` and `./delivery` (later calls reuse them), then
 *    `invocations.run(invocation, ...)` runs the library on the screened view
 *    with this call's `Invocation` in AsyncLocalStorage, so concurrent calls
 *    never mix. The library calls our inner handler, which returns the
 *    screened result of the handler already running (or of the block), builds
 *    the event, and hands it to `sendEvent`, which marks the `Invocation`
 *    handed over, adds `blockedBy` for a blocked call, and gives the event to
 *    delivery.
 * 5. Fallback: if the library (or its import) failed and handed nothing
 *    over, WARN "moesif logging failed" and deliver an event built here
 *    (`./fallback-event`, bodies replaced by the marker).
 * 6. Answer: await the handler's result, then `budget.drain()`: the tracked
 *    work gets at most `maxWaitMs` more.
 * 7. Log what delivery dropped or left unconfirmed (counts), and return the
 *    handler's result.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { APIGatewayProxyEventV2WithLambdaAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'
import type moesif from 'moesif-aws-lambda'
import { errorToResponse } from '../http/error-response'
import { Logger } from '../runtime/logger'
import { BODY_NOT_LOGGED, bodyNotLoggedMarker, screenBody, withBodiesNotLogged, type BodiesNotLogged, type ScreenedBody } from './bodies'
import { moesifBudget } from './budget'
import type { MoesifDelivery } from './delivery'
import { fallbackEventData, type CallIdentity } from './fallback-event'
import type { GovernanceVerdict } from './governance'
import type * as GovernanceRulesModule from './governance-rules'
import { maskMoesifEvent } from './masking'
import type { MoesifSettings, MoesifSettingsLoader } from './settings'
import type { MoesifEventWithBlock } from './wire'

/** The event our protected API receives: HTTP API 2.0 behind a simple-response Lambda authorizer. */
export type ApiEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<Record<string, unknown>>

/** An HTTP API handler as `withMoesif` takes and returns it. */
export type ApiHandler = (event: ApiEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>

type ApiResult = APIGatewayProxyStructuredResultV2

/** One call's state, shared by the outer handler and the library's hooks. */
class Invocation {
  /** Set once this call's event went to delivery, from the library or the fallback: never twice. */
  handedOver = false
  /** The id of the governance rule that blocked this call, if one did. */
  blockedBy: string | undefined
  /** Bodies replaced by the screening, for `metadata.body_not_logged`. */
  readonly notLogged: BodiesNotLogged = {}
  /**
   * What the library sees of the event, taken before the handler runs (which
   * may rewrite `event.body` or the headers): headers always present, the body
   * screened.
   */
  readonly libraryEvent: ApiEvent
  /** The handler's result, once {@link start} is called. Never rejects. */
  readonly result: Promise<ApiResult>
  /** What the library sees of the result: a status always, the body screened. */
  readonly libraryResult: Promise<ApiResult>
  #start!: (result: Promise<ApiResult>) => void

  constructor(
    event: ApiEvent,
    readonly context: Context,
    logBody: boolean
  ) {
    const request = this.#screen('request', logBody, () => screenBody(event.body, event.isBase64Encoded))
    const headers = (event.headers as ApiEvent['headers'] | undefined) ?? {}
    this.libraryEvent = { ...event, headers: { ...headers }, body: request.body, isBase64Encoded: request.isBase64Encoded }
    this.result = new Promise((resolve) => {
      this.#start = resolve
    })
    this.libraryResult = this.result.then((value) => this.#libraryResultOf(value, logBody))
    // Consumed by the library; if it never loads, a failure here must not become an unhandled rejection.
    this.libraryResult.catch(() => undefined)
  }

  /** Hand over the running handler's result. */
  start(result: Promise<ApiResult>): void {
    this.#start(result)
  }

  #libraryResultOf(result: ApiResult, logBody: boolean): ApiResult {
    if (typeof result === 'object' && result !== null && Boolean(result.statusCode)) {
      const response = this.#screen('response', logBody, () => screenBody(result.body, result.isBase64Encoded))
      return { ...result, body: response.body, isBase64Encoded: response.isBase64Encoded }
    }
    // Without a status, API Gateway answers 200 with the whole result as a JSON body; the
    // library would JSON.stringify it itself, unscreened, so that is done (and screened) here.
    const response = this.#screen('response', logBody, () => {
      let text: string | undefined
      try {
        text = JSON.stringify(result)
      } catch {
        return {
          body: JSON.stringify(bodyNotLoggedMarker(BODY_NOT_LOGGED.unserializable)),
          isBase64Encoded: false,
          notLogged: BODY_NOT_LOGGED.unserializable
        }
      }
      return screenBody(text, false)
    })
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: response.body, isBase64Encoded: false }
  }

  #screen(part: keyof BodiesNotLogged, logBody: boolean, screen: () => ScreenedBody): ScreenedBody {
    // Without logBody the library reads no body, so it gets none.
    if (!logBody) return { body: undefined, isBase64Encoded: false }
    const screened = screen()
    if (screened.notLogged !== undefined) this.notLogged[part] = screened.notLogged
    return screened
  }
}

/**
 * Wrap an HTTP API handler so every call is reported to Moesif, once, through
 * the real `moesif-aws-lambda` (see the module comment for exactly what is
 * guaranteed):
 * - the caller gets the handler's result, at most `maxWaitMs` after it is
 *   ready; Moesif work still running then goes on in the background (its
 *   timers are unref'd; a send waiting for the collector's answer keeps its
 *   connection open for at most 10 s);
 * - a thrown error becomes a JSON response with its real status
 *   (`statusCode` 400-599, else 500): 5xx bodies say only "Internal Server
 *   Error" and the error's name and message are logged; a 4xx shows its message
 *   only when `expose` is true. Moesif records that status;
 * - users and companies come from the Lambda authorizer context (`userId`,
 *   `orgId`); metadata holds only the request id and function name (and
 *   `body_not_logged` when a body was replaced); no session token is sent;
 *   see {@link maskMoesifEvent} for masking;
 * - Moesif's governance rules are enforced, by the same company and user: a
 *   blocked call gets the rule's answer (status, JSON body, headers and
 *   `X-Moesif-Blocked-By`) without the handler running, and its event carries
 *   `blocked_by`; the rules are fetched at cold start (waited for within
 *   `maxWaitMs`) and refreshed in the background once older than
 *   `rulesTtlMs`; without rules every call is allowed.
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
 * Each wrapped handler has its own delivery (collector, buffer). The library
 * still writes `applicationId` and `baseUri` into moesifapi's process-global
 * configuration, which only its config fetch uses now: with several wrapped
 * handlers in one process, the last one set up picks the sampling config.
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

  // Step 2: governance, loaded now and its first fetch started (the cold start); a failure to load
  // leaves every call allowed.
  let governance: typeof GovernanceRulesModule | undefined
  let rules: GovernanceRulesModule.MoesifGovernanceRules | undefined
  const governanceLoaded: Promise<GovernanceRulesModule.MoesifGovernanceRules | undefined> = import('./governance-rules').then(
    (module) => {
      governance = module
      rules = new module.MoesifGovernanceRules({
        fetchDocuments: module.httpGovernanceFetcher({ applicationId, baseUri: settings.baseUri }),
        ttlMs: settings.rulesTtlMs,
        logger
      })
      rules.refreshIfStale()
      return rules
    },
    (error: unknown) => {
      warnSafely(logger, 'moesif governance unavailable: calls are allowed', { error: describeError(error) })
      return undefined
    }
  )
  // Both loaded on the first call, not at init: the library and its dependencies
  // cost tens of milliseconds of cold start, and a deployment without an
  // application id never pays them.
  let delivery: MoesifDelivery | undefined
  let deliveryLoaded: Promise<MoesifDelivery> | undefined
  const loadDelivery = () =>
    (deliveryLoaded ??= import('./delivery').then(({ MoesifDelivery }) => {
      delivery = new MoesifDelivery({ applicationId, baseUri: settings.baseUri, logger })
      return delivery
    }))
  let reporter: Promise<ReturnType<typeof moesif<ApiEvent, Context, ApiResult>>> | undefined
  const loadReporter = () =>
    (reporter ??= Promise.all([import('moesif-aws-lambda'), loadDelivery()]).then(([{ default: createMoesif }, outbox]) =>
      createMoesif<ApiEvent, Context, ApiResult>(
        {
          applicationId,
          baseUri: settings.baseUri,
          logBody: settings.logBody,
          identifyUser: (event) => authorizerValue(event, 'userId'),
          identifyCompany: (event) => authorizerValue(event, 'orgId'),
          // The default sends the API key; the request context would leak the authorizer context.
          getSessionToken: () => undefined,
          getMetadata: (_event, context) =>
            withBodiesNotLogged({ trace_id: context.awsRequestId, function_name: context.functionName }, invocations.getStore()?.notLogged ?? {}) ??
            {},
          maskContent: (eventData) => maskMoesifEvent(eventData, settings),
          // The library rejects (and, unpatched, crashes on) events without a method.
          skip: (event) => typeof (event.requestContext as Partial<ApiEvent['requestContext']> | undefined)?.http?.method !== 'string',
          // Step 4: the finished event, once per call.
          sendEvent: (eventData) => {
            const invocation = invocations.getStore()
            if (invocation?.handedOver === true) return undefined
            if (invocation !== undefined) invocation.handedOver = true
            return outbox.send(withBlockedBy(eventData, invocation?.blockedBy))
          }
        },
        // Step 4: the library calls this with its view of the event; the handler is already running.
        () => invocations.getStore()?.libraryResult ?? Promise.reject(new Error('withMoesif: no invocation in scope'))
      )
    ))

  /** Steps 4 and 5; never rejects. */
  const report = async (invocation: Invocation): Promise<void> => {
    try {
      const reported = await loadReporter()
      await invocations.run(invocation, () => reported(invocation.libraryEvent, invocation.context))
      return
    } catch (error) {
      warnSafely(logger, 'moesif logging failed', { error: describeError(error) })
    }
    if (invocation.handedOver) return
    invocation.handedOver = true
    try {
      const event = invocation.libraryEvent
      const eventData = fallbackEventData(event, invocation.context, await invocation.result, identify(event), settings)
      if (eventData !== undefined) await (await loadDelivery()).send(withBlockedBy(eventData, invocation.blockedBy))
    } catch (error) {
      warnSafely(logger, 'moesif fallback event not sent', { error: describeError(error) })
    }
  }

  /**
   * Step 3: the verdict of the rules in force; undefined when none apply, for
   * a call that is not an HTTP API call (no method: not reported either), or
   * on any failure (the call is then allowed).
   */
  const govern = (event: ApiEvent): GovernanceVerdict | undefined => {
    const current = rules?.current
    if (current === undefined || governance === undefined) return undefined
    try {
      if (typeof (event.requestContext as Partial<ApiEvent['requestContext']> | undefined)?.http?.method !== 'string') return undefined
      const identity = identify(event)
      return governance.governRequest(current, governance.governanceRequestOf(event), { companyId: identity.companyId, userId: identity.userId })
    } catch (error) {
      warnSafely(logger, 'moesif governance failed: the call is allowed', { error: describeError(error) })
      return undefined
    }
  }

  return async (event, context) => {
    // Step 2.
    const arrived = performance.now()
    const retry = delivery?.retryBuffered()
    const refresh = (rules ?? (await untilDeadline(governanceLoaded, settings.maxWaitMs)))?.refreshIfStale()
    const coldStart = rules?.coldStartWait(settings.maxWaitMs)
    if (coldStart !== undefined) await untilDeadline(coldStart.done, Math.min(coldStart.ms, arrived + settings.maxWaitMs - performance.now()))
    const budget = moesifBudget(Math.max(0, settings.maxWaitMs - (performance.now() - arrived)))
    if (retry !== undefined) budget.track(retry)
    if (refresh !== undefined) budget.track(refresh)
    // Step 3: the library's view of the event first, then the verdict, then the handler (unless blocked).
    const invocation = new Invocation(event, context, settings.logBody)
    const verdict = govern(event)
    const blocked = verdict?.blocked
    if (verdict !== undefined && blocked !== undefined && governance !== undefined) {
      invocation.blockedBy = blocked.ruleId
      invocation.start(Promise.resolve(governance.blockedResult({ ...verdict, blocked })))
      infoSafely(logger, 'moesif governance blocked the call', { ruleId: blocked.ruleId, status: blocked.status })
    } else if (verdict !== undefined && governance !== undefined) {
      const { withRuleHeaders } = governance
      invocation.start(
        respond(event, context).then((result) => {
          try {
            return withRuleHeaders(result, verdict.headers)
          } catch {
            return result // the handler's own result rather than none
          }
        })
      )
    } else {
      invocation.start(respond(event, context))
    }
    // Steps 4 and 5.
    budget.track(report(invocation))
    // Step 6.
    const result = await invocation.result
    await budget.drain()
    // Step 7.
    try {
      delivery?.reportDrops()
    } catch {
      // A failing log sink must not fail the call.
    }
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

/** For the fallback event: each field on its own, so one that cannot be read costs only itself. */
function identify(event: ApiEvent): CallIdentity {
  const read = (key: 'userId' | 'orgId'): string | undefined => {
    try {
      return authorizerValue(event, key)
    } catch {
      return undefined
    }
  }
  return { userId: read('userId'), companyId: read('orgId') }
}

async function respondSafely(handler: ApiHandler, event: ApiEvent, context: Context, logger: Logger): Promise<ApiResult> {
  try {
    return await handler(event, context)
  } catch (error) {
    return errorToResponse(error, context.awsRequestId, logger)
  }
}

/** The event with the id of the rule that blocked its call, if one did. */
function withBlockedBy(eventData: MoesifEventWithBlock, blockedBy: string | undefined): MoesifEventWithBlock {
  if (blockedBy === undefined) return eventData
  const blockedEvent: MoesifEventWithBlock = { ...eventData, blockedBy }
  return blockedEvent
}

/**
 * `work`'s value, or undefined once `ms` have passed first (at once when `ms`
 * is not positive). Never rejects when `work` does not; the timer never holds
 * the process open.
 */
function untilDeadline<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  if (!(ms > 0)) return Promise.resolve(undefined)
  return new Promise<T | undefined>((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms)
    timer.unref()
    work.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error instanceof Error ? error : new Error(String(error)))
      }
    )
  })
}

function infoSafely(logger: Logger, message: string, extra: Record<string, unknown>): void {
  try {
    logger.info(message, extra)
  } catch {
    // A failing log sink must not reach the caller.
  }
}

function warnSafely(logger: Logger, message: string, extra: Record<string, unknown>): void {
  try {
    logger.warn(message, extra)
  } catch {
    // A failing log sink must not reach the caller.
  }
}

/** Name and message only: no stack, no cause, no attached data. */
function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message }
  return { name: 'NonError', message: `thrown value of type ${typeof error}` }
}
