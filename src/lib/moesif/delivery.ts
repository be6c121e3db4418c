/**
 * Delivery of Moesif events: our own POST to the collector, in place of
 * moesifapi's, so that no event is ever sent twice and none is dropped
 * silently. moesif-aws-lambda still builds each event (masked, identified,
 * sampled) and hands it over through the patched `sendEvent` hook.
 *
 * The rule that keeps events single: each event is held by exactly one owner
 * at a time, either the buffer or one send, and a send's event goes back to
 * the buffer only when the collector cannot have recorded it:
 * - the send failed before its request was handed to the network whole (DNS,
 *   connect, TLS, or reset while writing: the collector never saw a complete
 *   request; "committed" below means the last byte was written);
 * - or the collector answered 408, 429 or a 5xx other than 502/504.
 * A send that is committed and then gets no answer (timeout, reset), or a
 * gateway's 502/504, may have been recorded: it is never retried and counts
 * as "unconfirmed". A send is never aborted to be retried: one still running
 * when the request's budget ends just finishes in the background (after the
 * Lambda thaws, if it was frozen), with the outcome handled as above.
 *
 * Buffered events are retried together (one `/v1/events/batch` POST per
 * ~200 KB) when the next invocation starts. Held events (buffered plus being
 * sent) are bounded in number and bytes; an event gets at most `maxAttempts`
 * sends. What is dropped, and what is unconfirmed, is counted and logged as
 * WARN lines with counts only, never event contents.
 *
 * Loaded lazily with moesif-aws-lambda, so a cold start without Moesif never
 * pays for `node:https`.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type RequestOptions } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import type { MoesifEventData } from 'moesif-aws-lambda'
import type { Logger } from '../runtime/logger'
import { serializeMoesifEvent } from './wire'

/** Bounds of a {@link MoesifDelivery}. */
export interface MoesifDeliveryLimits {
  /** Most events held at once, buffered or being sent. */
  maxHeldEvents: number
  /** Most bytes of serialized events held at once. */
  maxHeldBytes: number
  /** Sends per event, the first included; then it is dropped. */
  maxAttempts: number
  /** How long a send may wait for the collector's answer before it counts as failed. */
  responseTimeoutMs: number
  /** Largest retry batch, in bytes (Moesif takes batches under 250 KB). */
  maxBatchBytes: number
  /** Idle keep-alive connections are closed after this, before a collector's own idle timeout can leave us a dead one. */
  idleSocketMs: number
}

/** The default {@link MoesifDeliveryLimits}. */
export const MOESIF_DELIVERY_LIMITS: Readonly<MoesifDeliveryLimits> = Object.freeze({
  maxHeldEvents: 100,
  maxHeldBytes: 4 * 1024 * 1024,
  maxAttempts: 5,
  responseTimeoutMs: 10_000,
  maxBatchBytes: 200 * 1024,
  idleSocketMs: 4_000
})

/** Options for {@link MoesifDelivery}. */
export interface MoesifDeliveryOptions {
  applicationId: string
  /** Collector base URI, without a trailing slash. */
  baseUri: string
  logger: Logger
  limits?: Partial<MoesifDeliveryLimits>
}

/** Why an event was dropped. */
export type MoesifDropReason = 'bufferFull' | 'tooManyAttempts' | 'rejected'

/** Counters since the delivery was created. */
export interface MoesifDeliveryStats {
  buffered: number
  sending: number
  delivered: number
  dropped: Record<MoesifDropReason, number>
  unconfirmed: number
}

interface HeldEvent {
  readonly json: string
  readonly bytes: number
  attempts: number
}

type Outcome = { kind: 'delivered' } | { kind: 'retry' | 'rejected' | 'unconfirmed'; errorCode: string | number; errorMessage: string }

const gzipAsync = promisify(gzip)
const USER_AGENT = 'dev-portal-keys (moesif-aws-lambda 1.3.2)'

/**
 * One collector's outbox: sends events, buffers those that certainly did not
 * arrive, retries them at the next invocation. See the module comment for the
 * rules. One per wrapped handler; safe with concurrent invocations.
 *
 * @example
 * const delivery = new MoesifDelivery({ applicationId, baseUri, logger })
 * budget.track(delivery.retryBuffered()) // invocation start
 * budget.track(delivery.send(eventData)) // when moesif-aws-lambda hands the event over
 * await budget.drain()
 * delivery.reportDrops() // WARN lines with counts, if anything was dropped
 */
export class MoesifDelivery {
  readonly #applicationId: string
  readonly #baseUri: string
  readonly #logger: Logger
  readonly #limits: MoesifDeliveryLimits
  readonly #agent: HttpAgent
  readonly #request: (url: URL, options: RequestOptions) => ClientRequest
  readonly #buffer: HeldEvent[] = []
  #heldEvents = 0
  #heldBytes = 0
  #sending = 0
  #delivered = 0
  #unconfirmed = 0
  readonly #dropped: Record<MoesifDropReason, number> = { bufferFull: 0, tooManyAttempts: 0, rejected: 0 }
  /** Counts not yet logged by {@link reportDrops}. */
  readonly #unreported = { bufferFull: 0, tooManyAttempts: 0, rejected: 0, unconfirmed: 0 }

  constructor(options: MoesifDeliveryOptions) {
    this.#applicationId = options.applicationId
    this.#baseUri = options.baseUri.replace(/\/+$/, '')
    this.#logger = options.logger
    this.#limits = { ...MOESIF_DELIVERY_LIMITS, ...options.limits }
    const https = new URL(this.#baseUri).protocol === 'https:'
    // `timeout` closes idle pooled sockets (and Node also honours a `Keep-Alive: timeout=` hint).
    const agentOptions = { keepAlive: true, maxSockets: 8, timeout: this.#limits.idleSocketMs }
    this.#agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions)
    this.#request = https ? httpsRequest : httpRequest
  }

  /**
   * Send one event now (moesif-aws-lambda's event data, as handed over).
   * Resolves when the outcome is known: delivered, buffered for retry, dropped
   * or unconfirmed; that can outlive the request, which waits only as long as
   * its budget allows. Never rejects.
   */
  send(eventData: MoesifEventData): Promise<void> {
    const json = serializeMoesifEvent(eventData)
    const event: HeldEvent = { json, bytes: Buffer.byteLength(json), attempts: 0 }
    if (!this.#admit(event)) return Promise.resolve()
    return this.#attempt([event], false)
  }

  /** Send every buffered event again, in batches. Call it when an invocation starts. Never rejects. */
  retryBuffered(): Promise<void> {
    if (this.#buffer.length === 0) return Promise.resolve()
    const events = this.#buffer.splice(0)
    const batches: HeldEvent[][] = []
    let batch: HeldEvent[] = []
    let bytes = 2
    for (const event of events) {
      if (batch.length > 0 && bytes + event.bytes + 1 > this.#limits.maxBatchBytes) {
        batches.push(batch)
        batch = []
        bytes = 2
      }
      batch.push(event)
      bytes += event.bytes + 1
    }
    batches.push(batch)
    return Promise.all(batches.map((b) => this.#attempt(b, true))).then(() => undefined)
  }

  /** Log what was dropped or left unconfirmed since the last call, as WARN lines with counts only. Call it as an invocation ends. */
  reportDrops(): void {
    const { bufferFull, tooManyAttempts, rejected, unconfirmed } = this.#unreported
    const dropped = bufferFull + tooManyAttempts + rejected
    if (dropped > 0) {
      const droppedTotal = this.#dropped.bufferFull + this.#dropped.tooManyAttempts + this.#dropped.rejected
      this.#warn('moesif events dropped', { dropped, bufferFull, tooManyAttempts, rejected, droppedTotal })
    }
    if (unconfirmed > 0) this.#warn('moesif events unconfirmed', { unconfirmed, unconfirmedTotal: this.#unconfirmed })
    Object.assign(this.#unreported, { bufferFull: 0, tooManyAttempts: 0, rejected: 0, unconfirmed: 0 })
  }

  /** Counters since creation. */
  stats(): MoesifDeliveryStats {
    return {
      buffered: this.#buffer.length,
      sending: this.#sending,
      delivered: this.#delivered,
      dropped: { ...this.#dropped },
      unconfirmed: this.#unconfirmed
    }
  }

  /** Make room for `event` by dropping the oldest buffered ones; false (and counted) if it still does not fit. */
  #admit(event: HeldEvent): boolean {
    const fits = (): boolean => this.#heldEvents + 1 <= this.#limits.maxHeldEvents && this.#heldBytes + event.bytes <= this.#limits.maxHeldBytes
    while (!fits()) {
      const oldest = this.#buffer.shift()
      if (oldest === undefined) break
      this.#release(oldest)
      this.#drop('bufferFull', 1)
    }
    if (!fits()) {
      this.#drop('bufferFull', 1)
      return false
    }
    this.#heldEvents += 1
    this.#heldBytes += event.bytes
    return true
  }

  #release(event: HeldEvent): void {
    this.#heldEvents -= 1
    this.#heldBytes -= event.bytes
  }

  #drop(reason: MoesifDropReason, count: number): void {
    this.#dropped[reason] += count
    this.#unreported[reason] += count
  }

  async #attempt(events: HeldEvent[], batch: boolean): Promise<void> {
    this.#sending += events.length
    for (const event of events) event.attempts += 1
    let outcome: Outcome
    try {
      outcome = await this.#post(
        batch ? '/v1/events/batch' : '/v1/events',
        batch ? `[${events.map((e) => e.json).join(',')}]` : (events[0]?.json ?? '')
      )
    } catch (error) {
      // #post does not throw; if it ever did, nothing was sent.
      outcome = { kind: 'retry', ...describeFailure(error) }
    }
    this.#sending -= events.length
    this.#settle(events, outcome)
  }

  #settle(events: HeldEvent[], outcome: Outcome): void {
    if (outcome.kind === 'delivered') {
      for (const event of events) this.#release(event)
      this.#delivered += events.length
      return
    }
    const next =
      outcome.kind === 'retry' ? 'retry at the next invocation' : outcome.kind === 'rejected' ? 'dropped' : 'not retried: it may have arrived'
    this.#warn('moesif event not sent', { events: events.length, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage, next })
    for (const event of events) {
      if (outcome.kind === 'retry' && event.attempts < this.#limits.maxAttempts) {
        this.#buffer.push(event) // still held: no bound is crossed
        continue
      }
      this.#release(event)
      if (outcome.kind === 'unconfirmed') {
        this.#unconfirmed += 1
        this.#unreported.unconfirmed += 1
      } else {
        this.#drop(outcome.kind === 'rejected' ? 'rejected' : 'tooManyAttempts', 1)
      }
    }
  }

  /** POST `json` gzipped; resolves with what we know of its fate. Never rejects. */
  async #post(path: string, json: string): Promise<Outcome> {
    let payload: Buffer
    let encoding: string | undefined
    try {
      payload = await gzipAsync(json)
      encoding = 'gzip'
    } catch {
      payload = Buffer.from(json)
    }
    // One trip through the timers phase first: after a Lambda thaw, the agent's
    // idle timeouts fire there, so a pooled connection the collector has since
    // closed is discarded instead of being written to and failing after commit.
    await new Promise((resolve) => setTimeout(resolve, 0))

    return new Promise<Outcome>((resolve) => {
      let settled = false
      let committed = false
      const finish = (outcome: Outcome): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(outcome)
      }
      // Set before the request exists; it is cleared by finish() and only read once the request is made.
      const timer = setTimeout(() => {
        // Wait out one poll phase: after a thaw, timers run before pending socket
        // reads, and an answer that arrived meanwhile should still count.
        setImmediate(() => {
          if (!settled) request.destroy(Object.assign(new Error('no answer from the Moesif collector in time'), { code: 'ETIMEDOUT' }))
        })
      }, this.#limits.responseTimeoutMs)
      timer.unref()

      let request: ClientRequest
      try {
        request = this.#request(new URL(this.#baseUri + path), {
          method: 'POST',
          agent: this.#agent,
          headers: {
            'content-type': 'application/json; charset=utf-8',
            ...(encoding === undefined ? {} : { 'content-encoding': encoding }),
            'content-length': String(payload.length),
            'x-moesif-application-id': this.#applicationId,
            'user-agent': USER_AGENT
          }
        })
      } catch (error) {
        finish({ kind: 'retry', ...describeFailure(error) })
        return
      }
      // 'finish': the last byte has been handed to the network; from here the collector may record it.
      request.on('finish', () => {
        committed = true
      })
      request.on('response', (response) => {
        response.on('error', () => undefined)
        response.resume() // drain, so the connection goes back to the pool
        finish(outcomeOfStatus(response.statusCode ?? 0))
      })
      request.on('error', (error) => {
        finish({ kind: committed ? 'unconfirmed' : 'retry', ...describeFailure(error) })
      })
      request.end(payload)
    })
  }

  #warn(message: string, extra: Record<string, unknown>): void {
    try {
      this.#logger.warn(message, extra)
    } catch {
      // A failing log sink must not break delivery.
    }
  }
}

function outcomeOfStatus(status: number): Outcome {
  if (status >= 200 && status < 300) return { kind: 'delivered' }
  const failure = { errorCode: status, errorMessage: `HTTP ${status}` }
  // A gateway's 502/504: the collector behind it may have recorded the event.
  if (status === 502 || status === 504) return { kind: 'unconfirmed', ...failure }
  if (status >= 500 || status === 408 || status === 429) return { kind: 'retry', ...failure }
  return { kind: 'rejected', ...failure }
}

/** Code and message only: never a response body, which may echo the event. */
function describeFailure(error: unknown): { errorCode: string; errorMessage: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return { errorCode: typeof code === 'string' ? code : error.name, errorMessage: error.message }
  }
  return { errorCode: 'NonError', errorMessage: `thrown value of type ${typeof error}` }
}
