/**
 * A local Stripe stand-in: an HTTP server on 127.0.0.1 that answers the
 * Stripe API calls the developer portal makes (customers, subscriptions,
 * Checkout Sessions, prices, products, events) in Stripe's wire format, so
 * the official `stripe` SDK works against it unchanged:
 *
 *     new Stripe(standIn.apiKey, { host: '127.0.0.1', port: standIn.port, protocol: 'http' })
 *
 * It authenticates `Authorization: Bearer <apiKey>` (or Basic, as Stripe
 * does), decodes form-encoded bracket parameters, answers Stripe's error
 * objects with Stripe's statuses, honours `Idempotency-Key`, `expand[]` and
 * `Stripe-Version` (which decides the `ui_mode` values Checkout accepts),
 * emits the events a real account would and, given a `webhookUrl`, delivers
 * them signed as Stripe does. Admin endpoints under `/_stand-in/` (see
 * admin-routes.ts) play what happens outside the API, and inject faults.
 *
 * Two processes: with `statePath`, the running stand-in owns that JSON file
 * (rewritten atomically after each change) and a lock next to it naming its
 * URL; a CLI finds it with `findRunningStripeStandIn(statePath)` and drives
 * it over HTTP (admin-client.ts), never by editing the file. See state-file.ts.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { routeStandInAdmin, type Delivered, type StandInAdminOperations, type StripeStandInFault } from './admin-routes'
import { routeStripeApi } from './api-routes'
import { buildStripeCatalog, DEFAULT_STRIPE_CATALOG, type StripeCatalog, type StripeCatalogSpec } from './catalog'
import { authenticationFailed, fail, invalidRequest, ok, resourceMissing, serverError, type StripeApiError, type StripeResult } from './errors'
import { parseStripeForm } from './form-body'
import { stripeId } from './ids'
import { acquireStandInLock, loadStandInState, moveAside, saveStandInState, type StandInLock, type StandInLockInfo } from './state-file'
import { emptyStandInState, StripeStandInStore, type RequestContext, type StripeStandInState } from './store'
import { deliverWebhook, type WebhookDelivery } from './webhook'
import type { WireEvent } from './wire'

/**
 * The API version `stripe` 23.1.0 pins (`Stripe.API_VERSION`), used as the
 * account's default version: what events carry, and what a request without
 * a `Stripe-Version` header gets.
 *
 * @example
 * await startStripeStandIn({ apiVersion: STAND_IN_API_VERSION }) // the default
 */
export const STAND_IN_API_VERSION = '2026-10-28.endive'

/** Options of {@link startStripeStandIn}. */
export interface StripeStandInOptions {
  /** The secret key callers must present. Default: the one saved in `statePath`, else a fresh `sk_test_...`. */
  apiKey?: string
  /** The `whsec_...` secret webhooks are signed with. Default: the saved one, else a fresh one. */
  webhookSecret?: string
  /** Keep the state in this JSON file (created if missing, mode 0600) and lock it for this process. Default: memory only. */
  statePath?: string
  /** Products and prices to sell instead of {@link DEFAULT_STRIPE_CATALOG}. */
  catalog?: StripeCatalogSpec
  /** Customers are found by search only this long after their creation (Stripe: usually under a minute). Default 0. */
  searchLagMs?: number
  /** Deliver every event, signed, to this endpoint (in order, once, no retries). */
  webhookUrl?: string
  /** The account's API version. Default {@link STAND_IN_API_VERSION}. */
  apiVersion?: string
  /** Listen on this port of 127.0.0.1. Default 0 (any free port). */
  port?: number
  /** Milliseconds since the epoch; tests pass a fake clock. */
  clock?: () => number
  /** Start with a fault in force. */
  fault?: StripeStandInFault
  /** Called with every event as it is created (a throw is ignored). */
  onEvent?: (event: WireEvent) => void
}

/** One request the stand-in received. */
export interface StandInRequestRecord {
  method: string
  /** Path and query. */
  url: string
  status: number | undefined
  requestId: string
}

/** A running stand-in. The admin operations answer values: the outcome, or the Stripe error answer. */
export interface StripeStandIn extends StandInAdminOperations {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string
  readonly host: '127.0.0.1'
  readonly port: number
  readonly apiKey: string
  readonly webhookSecret: string
  readonly catalog: StripeCatalog
  readonly statePath: string | undefined
  /** The last 500 requests, oldest first. */
  readonly requests: readonly StandInRequestRecord[]
  /** Every event so far (the newest 1000), oldest first. */
  readonly events: readonly WireEvent[]
  /** Every webhook delivery attempted, oldest first. */
  readonly deliveries: readonly WebhookDelivery[]
  /** The config to pass to `new Stripe(apiKey, config)`: `{ host, port, protocol: 'http' }`. */
  stripeConfig(): { host: string; port: number; protocol: 'http' }
  /** Deliver events to this endpoint from now on (`undefined`: stop). */
  setWebhookUrl(url: string | undefined): void
  /** Wait until every queued webhook delivery is done. */
  settled(): Promise<void>
  /** Stop listening, drop every connection, abort deliveries, release the state file. Idempotent. */
  close(): Promise<void>
}

/**
 * Another live process (or stand-in) already owns the state file.
 *
 * @example
 * try { await startStripeStandIn({ statePath }) } catch (error) { if (error instanceof StripeStandInBusyError) console.error(`use ${error.holder.url}`) }
 */
export class StripeStandInBusyError extends Error {
  readonly holder: StandInLockInfo
  constructor(statePath: string, holder: StandInLockInfo) {
    super(
      `a Stripe stand-in (pid ${holder.pid}, ${holder.url}) already owns ${statePath}: drive that one over HTTP ` +
        `(its /_stand-in/ admin endpoints, see src/local/stripe/admin-client.ts), or give this one another statePath`
    )
    this.name = 'StripeStandInBusyError'
    this.holder = holder
  }
}

const MAX_BODY_BYTES = 1024 * 1024
const RETAIN_REQUESTS = 500
const HOST = '127.0.0.1'

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/** The secret key in `Authorization` (Bearer, or Basic with the key as user name), or `undefined`. */
function presentedKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (bearer !== null) return bearer[1]
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
  if (basic !== null)
    return Buffer.from(basic[1] as string, 'base64')
      .toString('utf8')
      .split(':')[0]
  return header.trim() === '' ? undefined : header.trim()
}

function sameKey(presented: string | undefined, expected: string): boolean {
  return presented !== undefined && timingSafeEqual(digest(presented), digest(expected))
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        resolve(undefined)
        req.resume()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  const json = JSON.stringify(body, null, 2)
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-cache, no-store',
    'content-length': String(Buffer.byteLength(json)),
    ...headers
  })
  res.end(json)
}

/**
 * Start a Stripe stand-in on 127.0.0.1 (an ephemeral port unless `port` is given).
 * Throws {@link StripeStandInBusyError} when a live stand-in already owns `statePath`.
 *
 * @example
 * const standIn = await startStripeStandIn({ webhookUrl: 'http://127.0.0.1:3000/stripe/webhook' })
 * const stripe = new Stripe(standIn.apiKey, standIn.stripeConfig())
 * const customer = await stripe.customers.create({ email: 'alice@acme.test', metadata: { authUserId: 'auth0|alice' } })
 * const outcome = await standIn.subscribe({ email: 'alice@acme.test', priceId: 'price_basic' })
 * await standIn.close()
 */
export async function startStripeStandIn(options: StripeStandInOptions = {}): Promise<StripeStandIn> {
  const clock = options.clock ?? Date.now
  const accountApiVersion = options.apiVersion ?? STAND_IN_API_VERSION
  const catalog = options.catalog === undefined ? DEFAULT_STRIPE_CATALOG : buildStripeCatalog(options.catalog)
  const statePath = options.statePath

  const sockets = new Set<Socket>()
  const requests: StandInRequestRecord[] = []
  const deliveries: WebhookDelivery[] = []
  const idempotency = new Map<string, { fingerprint: string; status: number; body: unknown }>()
  const pending = new Map<string, Promise<WebhookDelivery>>()
  const closing = new AbortController()
  let webhookUrl = options.webhookUrl
  let fault: StripeStandInFault = options.fault ?? { mode: 'none' }
  let faultTimer: NodeJS.Timeout | undefined
  let queue: Promise<unknown> = Promise.resolve()
  let listening = false
  let lock: StandInLock | undefined
  let closed = false
  // Requests that arrive while the state is still loading wait for it.
  let markReady: () => void = () => undefined
  const ready = new Promise<void>((resolve) => (markReady = resolve))

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('[stripe stand-in] request failed:', error)
      if (!res.headersSent) send(res, 500, serverError(500).body, {})
      else res.destroy()
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, HOST, () => {
        server.off('error', reject)
        listening = true
        resolve((server.address() as AddressInfo).port)
      })
    })
  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      if (!listening) {
        resolve()
        return
      }
      listening = false
      server.close(() => resolve())
      for (const socket of sockets) socket.destroy()
    })

  const port = await listen(options.port ?? 0)
  const url = `http://${HOST}:${port}`

  // The state: owned by this process once the lock is taken.
  let initial: StripeStandInState | undefined
  if (statePath !== undefined) {
    const taken = acquireStandInLock(statePath, url)
    if ('holder' in taken) {
      await stopListening()
      throw new StripeStandInBusyError(statePath, taken.holder)
    }
    lock = taken
    const loaded = loadStandInState(statePath)
    if (loaded !== undefined && 'problem' in loaded) {
      const kept = moveAside(statePath)
      console.warn(`[stripe stand-in] ${statePath} is not a stand-in state (${loaded.problem}); moved it to ${kept} and started empty`)
    } else if (loaded !== undefined) {
      initial = loaded.state
    }
  }
  const state = initial ?? emptyStandInState(options.apiKey ?? stripeId('apiKey'), options.webhookSecret ?? stripeId('webhookSecret'))
  if (options.apiKey !== undefined) state.apiKey = options.apiKey
  if (options.webhookSecret !== undefined) state.webhookSecret = options.webhookSecret
  if (state.webhookSecret === '') state.webhookSecret = stripeId('webhookSecret')

  const persist = (): void => {
    if (statePath !== undefined && !closed) saveStandInState(statePath, store.state)
  }

  const enqueue = (event: WireEvent, target: string): Promise<WebhookDelivery> => {
    const delivery = queue.then(() =>
      deliverWebhook(event, { url: target, webhookSecret: store.state.webhookSecret, timeoutMs: 5_000, signal: closing.signal })
    )
    const recorded = delivery.then((result) => {
      deliveries.push(result)
      if (deliveries.length > 1000) deliveries.splice(0, deliveries.length - 1000)
      if (!result.ok) console.warn(`[stripe stand-in] webhook ${result.type} (${result.eventId}) not delivered: ${result.reason}`)
      return result
    })
    queue = recorded
    return recorded
  }

  const store = new StripeStandInStore(state, catalog, {
    clock,
    searchLagMs: options.searchLagMs ?? 0,
    accountApiVersion,
    pendingWebhooks: () => (webhookUrl === undefined ? 0 : 1),
    onChange: persist,
    onEvent: (event) => {
      try {
        options.onEvent?.(event)
      } catch {
        // A listener's bug is not the account's.
      }
      if (webhookUrl === undefined || closed) return
      const delivery = enqueue(event, webhookUrl)
      pending.set(event.id, delivery)
      void delivery.finally(() => pending.delete(event.id))
    }
  })
  persist()

  /** Wait for the deliveries of `events` (queued as they were emitted). */
  const delivered = async <T extends { events: WireEvent[] }>(result: StripeResult<T>): Promise<StripeResult<Delivered<T>>> => {
    if (!result.ok) return result
    const outcomes = await Promise.all(result.value.events.map((event) => pending.get(event.id)))
    return ok({ ...result.value, deliveries: outcomes.filter((outcome): outcome is WebhookDelivery => outcome !== undefined) })
  }

  const setFault = async (next: StripeStandInFault, faultOptions: { forMs?: number } = {}): Promise<void> => {
    if (closed) return
    if (faultTimer !== undefined) clearTimeout(faultTimer)
    faultTimer = undefined
    fault = next
    if (next.mode === 'unreachable') await stopListening()
    else if (!listening) await listen(port)
    if (faultOptions.forMs !== undefined && next.mode !== 'none') {
      faultTimer = setTimeout(() => {
        faultTimer = undefined
        setFault({ mode: 'none' }).catch((error: unknown) => console.warn(`[stripe stand-in] could not listen on ${url} again:`, error))
      }, faultOptions.forMs)
    }
  }

  const record = (req: IncomingMessage, requestId: string): StandInRequestRecord => {
    const entry: StandInRequestRecord = { method: req.method ?? '', url: req.url ?? '/', status: undefined, requestId }
    requests.push(entry)
    if (requests.length > RETAIN_REQUESTS) requests.splice(0, requests.length - RETAIN_REQUESTS)
    return entry
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await ready
    const requestId = stripeId('request')
    const entry = record(req, requestId)
    const target = new URL(req.url ?? '/', url)
    const method = req.method ?? 'GET'
    const versionHeader = req.headers['stripe-version']
    const apiVersion = typeof versionHeader === 'string' && versionHeader !== '' ? versionHeader : accountApiVersion
    const headers = { 'request-id': requestId, 'stripe-version': apiVersion }
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      entry.status = status
      send(res, status, body, { ...headers, ...extra })
    }
    const answerError = (error: StripeApiError): void =>
      answer(error.status, error.body, error.status === 401 ? { 'www-authenticate': 'Bearer realm="Stripe"' } : {})

    const isApi = target.pathname.startsWith('/v1/')
    const isAdmin = target.pathname.startsWith('/_stand-in/')
    if (isApi && fault.mode === 'hang') {
      req.resume()
      return
    }
    if (isApi && fault.mode === 'error') {
      req.resume()
      answerError(serverError(fault.status ?? 500))
      return
    }
    const raw = await readBody(req)
    if (!sameKey(presentedKey(req.headers.authorization), store.state.apiKey)) {
      answerError(authenticationFailed(presentedKey(req.headers.authorization)))
      return
    }
    if (raw === undefined) {
      answerError(invalidRequest(`The request body is larger than ${MAX_BODY_BYTES} bytes.`))
      return
    }

    if (isAdmin) {
      let body: unknown
      if (raw.trim() !== '') {
        const json = (req.headers['content-type'] ?? '').includes('json')
        if (json) {
          try {
            body = JSON.parse(raw)
          } catch {
            answerError(invalidRequest('The body is not valid JSON.'))
            return
          }
        } else {
          const form = parseStripeForm(raw)
          if (!form.ok) {
            answerError(invalidRequest(form.message, form.param))
            return
          }
          body = form.params
        }
      }
      const { result, after } = await routeStandInAdmin(operations, method, target.pathname.slice('/_stand-in/'.length), body)
      if (!result.ok) answerError(result.error)
      else answer(200, result.value)
      if (after !== undefined) res.on('finish', () => void after().catch((error: unknown) => console.warn('[stripe stand-in]', error)))
      return
    }

    const form = parseStripeForm(method === 'POST' ? raw : target.search.slice(1))
    if (!form.ok) {
      answerError(invalidRequest(form.message, form.param))
      return
    }
    const idempotencyHeader = req.headers['idempotency-key']
    const idempotencyKey = method === 'POST' && typeof idempotencyHeader === 'string' && idempotencyHeader !== '' ? idempotencyHeader : null
    const fingerprint = `${method} ${target.pathname} ${raw}`
    if (idempotencyKey !== null) {
      const seen = idempotency.get(idempotencyKey)
      if (seen !== undefined) {
        if (seen.fingerprint !== fingerprint) {
          answer(400, {
            error: {
              type: 'idempotency_error',
              message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`
            }
          })
          return
        }
        answer(seen.status, seen.body, { 'idempotent-replayed': 'true', 'original-request': requestId })
        return
      }
    }
    const context: RequestContext = { requestId, idempotencyKey }
    const result = routeStripeApi(store, { method, path: target.pathname, params: form.params, context, apiVersion })
    const status = result.ok ? 200 : result.error.status
    const body = result.ok ? result.value : result.error.body
    if (idempotencyKey !== null) {
      idempotency.set(idempotencyKey, { fingerprint, status, body })
      if (idempotency.size > 1000) idempotency.delete(idempotency.keys().next().value as string)
    }
    if (idempotencyKey !== null) answer(status, body, { 'idempotency-key': idempotencyKey })
    else answer(status, body)
  }

  const operations: StripeStandIn = {
    url,
    host: HOST,
    port,
    apiVersion: accountApiVersion,
    get apiKey() {
      return store.state.apiKey
    },
    get webhookSecret() {
      return store.state.webhookSecret
    },
    catalog,
    statePath,
    requests,
    get events() {
      return store.state.events
    },
    deliveries,
    get fault() {
      return fault
    },
    get webhookUrl() {
      return webhookUrl
    },
    get state() {
      return store.state
    },
    stripeConfig: () => ({ host: HOST, port, protocol: 'http' }),
    setWebhookUrl(next) {
      webhookUrl = next
    },
    settled: async () => {
      await queue
    },
    subscribe: async (input) => delivered(store.subscribe(input)),
    cancel: async (input) => delivered(store.cancel(input)),
    completeCheckout: async (sessionId, input = {}) => delivered(store.completeCheckout(sessionId, input)),
    setSubscriptionStatus: async (subscriptionId, status) => delivered(store.setSubscriptionStatus(subscriptionId, status)),
    redeliver: async (eventId, input = {}) => {
      const event = store.state.events.find((candidate) => candidate.id === eventId)
      if (event === undefined) return fail(resourceMissing('event', eventId))
      const target = input.url ?? webhookUrl
      if (target === undefined) return fail(invalidRequest('No webhook endpoint: start the stand-in with webhookUrl, or give url.', 'url'))
      return ok(await enqueue(event, target))
    },
    setFault,
    reset: () => {
      // Replaying an answer about objects that are gone would be an answer no account could give.
      idempotency.clear()
      store.reset()
    },
    close: async () => {
      if (closed) return
      if (faultTimer !== undefined) clearTimeout(faultTimer)
      closing.abort()
      await queue.catch(() => undefined)
      persist()
      closed = true
      await stopListening()
      lock?.release()
    }
  }
  markReady()
  if (fault.mode === 'unreachable') await stopListening()
  return operations
}

export { connectToStripeStandIn, stripeStandInAdminClient, type StripeStandInAdminClient } from './admin-client'
export type { StripeStandInFault, StripeStandInFaultMode } from './admin-routes'
export { buildStripeCatalog, DEFAULT_STRIPE_CATALOG, DEFAULT_STRIPE_CATALOG_SPEC, type StripeCatalog, type StripeCatalogSpec } from './catalog'
export { findRunningStripeStandIn } from './state-file'
export { deliverWebhook, stripeSignatureHeader, webhookPayload, type WebhookDelivery } from './webhook'
