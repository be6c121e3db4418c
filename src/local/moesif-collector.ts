/**
 * A fake Moesif collector on loopback. It speaks just enough of the collector
 * API for the real `moesif-aws-lambda` / `moesifapi` client: it gunzips and
 * parses what the client POSTs to `/v1/events` and `/v1/events/batch`, records
 * the events as they arrived on the wire (snake_case), and answers
 * `GET /v1/config` with a config and an `x-moesif-config-etag` header. It also
 * answers `GET /local/events` with the retained events (`{ events }`, oldest
 * first), which the local key console shows.
 *
 * Dependency-free on purpose: unit tests, end-to-end tests and `npm start`
 * all reuse it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { gunzipSync } from 'node:zlib'

/** How the collector behaves: answer normally, or accept connections and never answer. */
export type MoesifCollectorMode = 'healthy' | 'hang'

/** Options for {@link startMoesifCollector}. */
export interface MoesifCollectorOptions {
  /** Defaults to `'healthy'`. */
  mode?: MoesifCollectorMode
  /** Body of `GET /v1/config`. Defaults to `{}` (the client then samples at 100 %). */
  config?: Record<string, unknown>
  /** Value of the `x-moesif-config-etag` header. Defaults to `'local-collector-etag'`. */
  configEtag?: string
  /** Called with each event as it arrives (for example to print it); a throw is ignored. */
  onEvent?: (event: MoesifWireEvent) => void
  /**
   * Keep only the newest `retain` events and requests (default: all). A
   * long-running local stack sets it so memory stays flat; `waitForEvents`
   * then counts the retained ones.
   */
  retain?: number
}

/** One API event as the client sent it (moesifapi's wire format, snake_case). */
export interface MoesifWireEvent {
  request: {
    time: string
    uri: string
    verb: string
    headers?: Record<string, unknown>
    api_version?: string
    ip_address?: string
    body?: unknown
    transfer_encoding?: string
  }
  response: {
    time: string
    status: number
    headers?: Record<string, unknown>
    body?: unknown
    transfer_encoding?: string
  }
  user_id?: string
  company_id?: string
  session_token?: string
  metadata?: Record<string, unknown>
  direction?: string
  weight?: number
}

/** Any request the collector received, answered or not. */
export interface MoesifCollectorRequest {
  method: string
  path: string
  /** The `X-Moesif-Application-Id` the client sent, if any. */
  applicationId: string | undefined
}

/** A running collector. */
export interface MoesifCollector {
  /** Pass this as the library's `baseUri` (no trailing slash). */
  readonly baseUri: string
  /** Events received so far, in arrival order. */
  readonly events: readonly MoesifWireEvent[]
  /** Every request received so far, including config fetches and hung ones. */
  readonly requests: readonly MoesifCollectorRequest[]
  /** Event payloads that could not be decoded (answered 400); should stay 0. */
  readonly malformedPayloads: number
  /** Resolve once at least `count` events arrived; reject after `timeoutMs`. */
  waitForEvents(count: number, timeoutMs: number): Promise<readonly MoesifWireEvent[]>
  /** Stop listening and destroy every open socket, hung ones included. Idempotent. */
  close(): Promise<void>
}

const MAX_BODY_BYTES = 5 * 1024 * 1024

/**
 * Start a fake Moesif collector on 127.0.0.1 with an ephemeral port.
 *
 * @example
 * const collector = await startMoesifCollector({ mode: 'healthy' })
 * const handler = withMoesif(core, { ...settings, baseUri: collector.baseUri })
 * await handler(event, context)
 * const [event] = await collector.waitForEvents(1, 2_000)
 * await collector.close()
 */
export async function startMoesifCollector(options: MoesifCollectorOptions = {}): Promise<MoesifCollector> {
  const mode = options.mode ?? 'healthy'
  const configBody = JSON.stringify(options.config ?? {})
  const configEtag = options.configEtag ?? 'local-collector-etag'

  const events: MoesifWireEvent[] = []
  const requests: MoesifCollectorRequest[] = []
  const sockets = new Set<Socket>()
  const waiters = new Set<() => void>()
  let malformedPayloads = 0

  const retain = options.retain ?? Number.POSITIVE_INFINITY
  const trim = (list: unknown[]): void => {
    if (list.length > retain) list.splice(0, list.length - retain)
  }

  const notify = (): void => {
    for (const waiter of [...waiters]) waiter()
  }

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const applicationId = req.headers['x-moesif-application-id']
    requests.push({ method: req.method ?? '', path, applicationId: typeof applicationId === 'string' ? applicationId : undefined })
    trim(requests)
    if (mode === 'hang') {
      // Accept and never answer: the client sits in its own 10 s timeout.
      req.resume()
      return
    }
    readBody(req)
      .then((raw) => {
        if (req.method === 'GET' && path === '/v1/config') {
          res.writeHead(200, { 'content-type': 'application/json', 'x-moesif-config-etag': configEtag })
          res.end(configBody)
          return
        }
        if (req.method === 'GET' && path === '/local/events') {
          // Not part of Moesif's API: what the local key console reads back.
          reply(res, 200, { events })
          return
        }
        if (req.method === 'POST' && (path === '/v1/events' || path === '/v1/events/batch')) {
          const decoded = decodeEvents(raw, req.headers['content-encoding'], path === '/v1/events/batch')
          if (decoded === undefined) {
            malformedPayloads += 1
            reply(res, 400, { message: 'malformed event payload' })
            return
          }
          events.push(...decoded)
          trim(events)
          reply(res, 201, {})
          for (const event of decoded) {
            try {
              options.onEvent?.(event)
            } catch {
              // A listener's bug must not turn into a collector failure the client would see.
            }
          }
          notify()
          return
        }
        if (req.method === 'POST') {
          // Users, companies, subscriptions: accepted, not recorded.
          reply(res, 201, {})
          return
        }
        reply(res, 404, { message: 'not found' })
      })
      .catch(() => {
        if (!res.headersSent) reply(res, 400, { message: 'unreadable body' })
      })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo

  let closing: Promise<void> | undefined

  return {
    baseUri: `http://127.0.0.1:${port}`,
    events,
    requests,
    get malformedPayloads() {
      return malformedPayloads
    },
    waitForEvents(count, timeoutMs) {
      return new Promise((resolve, reject) => {
        if (events.length >= count) {
          resolve(events)
          return
        }
        const check = (): void => {
          if (events.length < count) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve(events)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`moesif collector: expected ${count} event(s) within ${timeoutMs} ms, got ${events.length}`))
        }, timeoutMs)
        waiters.add(check)
      })
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
        server.closeAllConnections()
      })
      return closing
    }
  }
}

/**
 * A base URI on 127.0.0.1 where nothing listens (a port that was bound, then
 * released), for the "collector is down" case: connections are refused.
 *
 * @example
 * const baseUri = await closedPortBaseUri() // 'http://127.0.0.1:40123'
 */
export async function closedPortBaseUri(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function decodeEvents(raw: Buffer, contentEncoding: string | undefined, batch: boolean): MoesifWireEvent[] | undefined {
  let parsed: unknown
  try {
    const text = (contentEncoding === 'gzip' ? gunzipSync(raw) : raw).toString('utf8')
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  const items = batch ? parsed : [parsed]
  if (!Array.isArray(items) || !items.every(isWireEvent)) return undefined
  return items
}

function isWireEvent(value: unknown): value is MoesifWireEvent {
  if (!isObject(value) || !isObject(value.request) || !isObject(value.response)) return false
  return typeof value.request.verb === 'string' && typeof value.request.uri === 'string' && typeof value.response.status === 'number'
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}
