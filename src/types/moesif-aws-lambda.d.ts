/**
 * Types for moesif-aws-lambda 1.3.2, which ships none. Only what this project
 * uses is described; see `src/lib/moesif/` for the safe wrapper around it.
 * The package is CommonJS (`module.exports = function (options, handler)`).
 */
declare module 'moesif-aws-lambda' {
  namespace moesif {
    /** The request half of an event, as built by the library before `maskContent`. */
    interface MoesifEventRequest {
      time: Date | number
      uri: string
      verb: string
      headers: Record<string, unknown>
      apiVersion?: string | undefined
      ipAddress?: string | undefined
      /** Parsed JSON, or a base64 string when `transferEncoding` is `'base64'`. */
      body?: unknown
      transferEncoding?: 'base64' | undefined
    }

    /** The response half of an event. `status` is 599 when the result had no status. */
    interface MoesifEventResponse {
      time: Date | number
      status: number
      headers: Record<string, unknown>
      body?: unknown
      transferEncoding?: 'base64' | undefined
    }

    /** What `maskContent` receives and must return (user and company are added after it). */
    interface MoesifEventData {
      request: MoesifEventRequest
      response: MoesifEventResponse
      metadata?: Record<string, unknown> | undefined
      userId?: string | undefined
      companyId?: string | undefined
      sessionToken?: string | undefined
      direction?: string | undefined
      weight?: number | undefined
    }

    /** Error passed to `callback` when a send fails (moesifapi's shape). */
    interface MoesifSendError {
      errorMessage?: string
      errorCode?: string | number
      /** The collector's response body; may echo data, do not log it. */
      errorResponse?: unknown
    }

    /** Options read by the factory. Every function runs once per invocation. */
    interface MoesifOptions<TEvent, TContext> {
      /** Required; the factory throws without it (it also falls back to `MOESIF_APPLICATION_ID`). */
      applicationId: string
      /** Collector base URI. Written to moesifapi's process-global configuration. */
      baseUri?: string
      /** Defaults to true. */
      logBody?: boolean
      /** Prints every event, unmasked, with console.log. Never enable outside a laptop. */
      debug?: boolean
      /** Batching applies to outgoing-call capture only; incoming events are sent one by one. */
      disableBatching?: boolean
      batchSize?: number
      batchMaxTime?: number
      identifyUser?: (event: TEvent, context: TContext) => string | undefined | Promise<string | undefined>
      identifyCompany?: (event: TEvent, context: TContext) => string | undefined | Promise<string | undefined>
      getSessionToken?: (event: TEvent, context: TContext) => string | undefined
      getMetadata?: (event: TEvent, context: TContext) => Record<string, unknown>
      getApiVersion?: (event: TEvent, context: TContext) => string | undefined
      maskContent?: (eventData: MoesifEventData) => MoesifEventData
      skip?: (event: TEvent, context: TContext) => boolean
      /** Called after each send attempt by moesifapi (not called for events given to `sendEvent`). */
      callback?: (error: MoesifSendError | null, eventData: MoesifEventData) => void
      /**
       * Added by `patches/moesif-aws-lambda+1.3.2.patch`: receives each event
       * the library would send (masked, identified, with its sampling weight;
       * not for skipped or sampled-out calls) and delivers it instead of
       * moesifapi. The wrapped handler's promise waits for the returned one;
       * a throw or rejection rejects it.
       */
      sendEvent?: (eventData: MoesifEventData) => Promise<void> | void
    }

    /** User fields accepted by `updateUser`. */
    interface MoesifUser {
      userId: string
      companyId?: string
      metadata?: Record<string, unknown>
    }

    /** Company fields accepted by `updateCompany`. */
    interface MoesifCompany {
      companyId: string
      metadata?: Record<string, unknown>
    }

    /**
     * The wrapped handler. It resolves with the inner handler's result only
     * after the event send finished (up to moesifapi's 10 s timeout, or
     * whatever `sendEvent` returns), and rejects with the inner handler's
     * error, or (patched) with an error from building or handing over the event.
     */
    type MoesifHandler<TEvent, TContext, TResult> = ((event: TEvent, context: TContext) => Promise<TResult>) & {
      updateUser(user: MoesifUser, callback?: (error: MoesifSendError | null) => void): void
      updateCompany(company: MoesifCompany, callback?: (error: MoesifSendError | null) => void): void
      startCaptureOutgoing(): void
    }
  }

  /** Wrap an async Lambda handler so each invocation is sent to Moesif. */
  function moesif<TEvent, TContext, TResult>(
    options: moesif.MoesifOptions<TEvent, TContext>,
    handler: (event: TEvent, context: TContext) => Promise<TResult>
  ): moesif.MoesifHandler<TEvent, TContext, TResult>

  export = moesif
}
