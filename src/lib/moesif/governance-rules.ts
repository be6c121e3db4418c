/**
 * The governance rules in force in this environment: both Moesif documents
 * (`GET /v1/rules`, `GET /v1/config`) fetched at cold start and again once
 * they are older than `MOESIF_RULES_TTL`, compiled once per fetch
 * (`./governance`), and kept as long as no better ones arrive.
 *
 * - A refresh is started by a call that finds the rules stale; it runs in the
 *   background, and the wrapper tracks it on that call's budget, so it delays
 *   the call by at most `MOESIF_MAX_WAIT_MS` (the budget's bound) and
 *   otherwise goes on after the answer. One refresh at a time.
 * - A refresh fails as a whole (Moesif down, slow beyond 10 s, an answer that
 *   is not 200, or a document that is not JSON of the right shape): the last
 *   good rules stay, one WARN line says so, and the next attempt comes a TTL
 *   after this one (never a storm of fetches at a Moesif that is down).
 * - With no good rules yet, every call is allowed (fail open).
 * - A document identical to the last good one is not compiled again.
 *
 * Loaded by the wrapper on its first call, so a deployment without
 * MOESIF_APPLICATION_ID never pays for it.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { gunzip } from 'node:zlib'
import type { Logger } from '../runtime/logger'
import { compileGovernance, type CompiledGovernance } from './governance'

/** Both documents as fetched, as text. */
export interface GovernanceDocuments {
  readonly rules: string
  readonly config: string
  /** The config's `x-moesif-config-etag`, if any. */
  readonly etag: string | undefined
}

/** Fetches both documents; rejects on any failure. */
export type GovernanceFetcher = () => Promise<GovernanceDocuments>

/** Options for {@link MoesifGovernanceRules}. */
export interface MoesifGovernanceRulesOptions {
  fetchDocuments: GovernanceFetcher
  /** How old the rules may get before a call refreshes them. */
  ttlMs: number
  logger: Logger
  /** The wall clock, in milliseconds (tests replace it). */
  now?: () => number
}

/**
 * The rules of one wrapped handler.
 *
 * @example
 * const rules = new MoesifGovernanceRules({ fetchDocuments: httpGovernanceFetcher({ applicationId, baseUri }), ttlMs: 60_000, logger })
 * const refresh = rules.refreshIfStale() // cold start: the first fetch
 * if (refresh) budget.track(refresh)
 * const verdict = rules.current && governRequest(rules.current, request, identity)
 */
export class MoesifGovernanceRules {
  readonly #fetchDocuments: GovernanceFetcher
  readonly #ttlMs: number
  readonly #logger: Logger
  readonly #now: () => number
  #current: CompiledGovernance | undefined
  #lastTexts: { rules: string; config: string } | undefined
  /** When the last fetch started (wall clock), successful or not. */
  #attemptedAt = Number.NEGATIVE_INFINITY
  #inFlight: Promise<void> | undefined
  /** The first fetch, until it settles, and when it started (performance.now()). */
  #first: { settled: Promise<void>; startedAt: number } | undefined
  #firstSettled = false
  #failures = 0

  constructor(options: MoesifGovernanceRulesOptions) {
    if (!Number.isFinite(options.ttlMs) || options.ttlMs <= 0)
      throw new TypeError('MoesifGovernanceRules: ttlMs must be a positive number of milliseconds')
    this.#fetchDocuments = options.fetchDocuments
    this.#ttlMs = options.ttlMs
    this.#logger = options.logger
    this.#now = options.now ?? Date.now
  }

  /** The rules in force; undefined until a fetch has succeeded (calls are then allowed). */
  get current(): CompiledGovernance | undefined {
    return this.#current
  }

  /** Refreshes that failed so far. */
  get failures(): number {
    return this.#failures
  }

  /**
   * Start a refresh when none is running and the last attempt is at least a
   * TTL old (or there was none: the cold start). Returns the refresh it
   * started, for the call's budget, or undefined. The promise never rejects.
   */
  refreshIfStale(): Promise<void> | undefined {
    if (this.#inFlight !== undefined || this.#now() - this.#attemptedAt < this.#ttlMs) return undefined
    this.#attemptedAt = this.#now()
    const refresh = this.#refresh().finally(() => {
      this.#inFlight = undefined
    })
    this.#inFlight = refresh
    if (!this.#firstSettled && this.#first === undefined) {
      this.#first = { settled: refresh, startedAt: performance.now() }
      void refresh.finally(() => {
        this.#firstSettled = true
        this.#first = undefined
      })
    }
    return refresh
  }

  /**
   * At cold start, before any rules: a promise that resolves when the first
   * fetch settles or `maxWaitMs` after it started, whichever comes first
   * (and the time left until then, in ms). Undefined once there are rules,
   * once the first fetch has settled, or once that time has passed: a call
   * then never waits for rules.
   */
  coldStartWait(maxWaitMs: number): { done: Promise<void>; ms: number } | undefined {
    const first = this.#first
    if (first === undefined || this.#current !== undefined) return undefined
    const ms = first.startedAt + maxWaitMs - performance.now()
    if (ms <= 0) return undefined
    return { done: first.settled, ms }
  }

  async #refresh(): Promise<void> {
    try {
      const documents = await this.#fetchDocuments()
      const last = this.#lastTexts
      if (this.#current !== undefined && last?.rules === documents.rules && last.config === documents.config) return
      const compiled = compileGovernance(documents.rules, documents.config)
      this.#current = compiled
      this.#lastTexts = { rules: documents.rules, config: documents.config }
      this.#log('info', 'moesif governance rules loaded', { rules: compiled.ruleCount, ignored: compiled.ignored.length, etag: documents.etag })
      if (compiled.ignored.length > 0) {
        this.#log('warn', 'moesif governance rules ignored', { ignored: compiled.ignored.slice(0, 20) })
      }
    } catch (error) {
      this.#failures += 1
      this.#log('warn', 'moesif governance rules not refreshed', {
        ...describeFailure(error),
        kept: this.#current === undefined ? 'no rules: calls are allowed' : `the last good rules (${this.#current.ruleCount})`,
        retryInSeconds: Math.round(this.#ttlMs / 1000)
      })
    }
  }

  #log(level: 'info' | 'warn', message: string, extra: Record<string, unknown>): void {
    try {
      this.#logger[level](message, extra)
    } catch {
      // A failing log sink must not fail a refresh, nor a call.
    }
  }
}

/** Bounds of {@link httpGovernanceFetcher}. */
const RESPONSE_TIMEOUT_MS = 10_000
const MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
const USER_AGENT = 'dev-portal-keys (governance)'

/**
 * Fetch both documents from Moesif (`{baseUri}/v1/rules` and
 * `{baseUri}/v1/config`, with `X-Moesif-Application-Id`), side by side. A
 * document must come back 200, whole, within `responseTimeoutMs` (10 s) and
 * under 32 MiB (gzip is accepted); otherwise the fetch rejects with a code
 * and message only, never the answer's body.
 *
 * @example
 * const fetchDocuments = httpGovernanceFetcher({ applicationId, baseUri: 'https://api.moesif.net' })
 */
export function httpGovernanceFetcher(options: { applicationId: string; baseUri: string; responseTimeoutMs?: number }): GovernanceFetcher {
  const applicationId = options.applicationId
  const responseTimeoutMs = options.responseTimeoutMs ?? RESPONSE_TIMEOUT_MS
  const baseUri = options.baseUri.replace(/\/+$/, '')
  const https = new URL(baseUri).protocol === 'https:'
  // Idle sockets closed after 4 s: a Lambda frozen longer than that never reuses one the server has dropped.
  const agentOptions = { keepAlive: true, maxSockets: 2, timeout: 4_000 }
  const agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions)
  const request = https ? httpsRequest : httpRequest
  const headers = { accept: 'application/json', 'accept-encoding': 'gzip', 'x-moesif-application-id': applicationId, 'user-agent': USER_AGENT }

  const get = (path: string): Promise<{ text: string; etag: string | undefined }> =>
    new Promise((resolve, reject) => {
      let settled = false
      let req: ClientRequest | undefined
      const finish = (error: Error | undefined, result?: { text: string; etag: string | undefined }): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (error === undefined && result !== undefined) {
          resolve(result)
          return
        }
        req?.destroy()
        reject(error ?? new Error(`GET ${path} failed`))
      }
      const failure = (code: string, message: string): Error => Object.assign(new Error(message), { code })
      // Set before the request exists; it only runs once the request is made.
      const timer = setTimeout(() => finish(failure('ETIMEDOUT', `no whole answer to GET ${path} within ${responseTimeoutMs} ms`)), responseTimeoutMs)
      timer.unref()
      try {
        req = request(new URL(baseUri + path), { method: 'GET', agent, headers })
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)))
        return
      }
      req.on('error', (error) => finish(error))
      req.on('response', (response: IncomingMessage) => {
        if (response.statusCode !== 200) {
          response.resume()
          finish(failure(`HTTP ${response.statusCode ?? 0}`, `GET ${path} answered ${response.statusCode ?? 0}`))
          return
        }
        const chunks: Buffer[] = []
        let size = 0
        response.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > MAX_DOCUMENT_BYTES) finish(failure('ETOOBIG', `GET ${path} answered more than ${MAX_DOCUMENT_BYTES} bytes`))
          else chunks.push(chunk)
        })
        response.on('error', (error) => finish(error))
        response.on('close', () => {
          if (!response.complete) finish(failure('ECONNRESET', `GET ${path}: the answer was cut short`))
        })
        response.on('end', () => {
          const raw = Buffer.concat(chunks)
          const etagHeader = response.headers['x-moesif-config-etag']
          const etag = typeof etagHeader === 'string' ? etagHeader : undefined
          if (response.headers['content-encoding'] !== 'gzip') {
            finish(undefined, { text: raw.toString('utf8'), etag })
            return
          }
          gunzip(raw, { maxOutputLength: MAX_DOCUMENT_BYTES }, (error, text) => {
            if (error) finish(failure('EGUNZIP', `GET ${path} answered a body that does not gunzip`))
            else finish(undefined, { text: text.toString('utf8'), etag })
          })
        })
      })
      req.end()
    })

  return async () => {
    const [rules, config] = await Promise.all([get('/v1/rules'), get('/v1/config')])
    return { rules: rules.text, config: config.text, etag: config.etag }
  }
}

/** Code and message only: never a response body. */
function describeFailure(error: unknown): { errorCode: string; errorMessage: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return { errorCode: typeof code === 'string' ? code : error.name, errorMessage: error.message }
  }
  return { errorCode: 'NonError', errorMessage: `thrown value of type ${typeof error}` }
}

// What the wrapper needs on each call, loaded with this module.
export { governRequest } from './governance'
export { blockedResult, governanceRequestOf, withRuleHeaders } from './governance-event'
