/**
 * A Moesif collector on loopback whose answers to event POSTs are scripted,
 * for delivery tests. It records an event the moment it has read it whole,
 * before answering, as a real collector commits it: so a send that is
 * answered late, or not at all, still counts as arrived, and sending it again
 * would show up as a duplicate in `recorded`.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { gunzipSync } from 'node:zlib'
import type { MoesifWireEvent } from '../../../src/local/moesif-collector'

/**
 * How the collector answers one event POST:
 * - `'ok'`: record, answer 201;
 * - `{ status }`: answer that status; record only if it is 2xx;
 * - `{ delayMs }`: record, answer 201 after `delayMs` (a slow collector);
 * - `'hang'`: record, never answer;
 * - `'reset'`: record, then reset the connection without answering.
 */
export type ScriptedReply = 'ok' | 'hang' | 'reset' | { status: number } | { delayMs: number }

/** One event POST as received. */
export interface ScriptedPost {
  path: string
  traceIds: string[]
  reply: ScriptedReply
}

export interface ScriptedCollector {
  readonly baseUri: string
  /** Events recorded (see {@link ScriptedReply}), in arrival order. */
  readonly recorded: readonly MoesifWireEvent[]
  readonly posts: readonly ScriptedPost[]
  /** Replies for the next event POSTs, in order; after them, `fallback`. */
  script(replies: ScriptedReply[], fallback?: ScriptedReply): void
  /** Resolve once `count` events are recorded; reject after `timeoutMs`. */
  waitForRecorded(count: number, timeoutMs: number): Promise<readonly MoesifWireEvent[]>
  /** Stop listening (connections are then refused) and drop open connections; `listen()` takes the same port again. */
  stop(): Promise<void>
  listen(): Promise<void>
  close(): Promise<void>
}

/** trace_id of each recorded event, counted: a duplicate shows as 2. */
export function traceIdCounts(events: readonly MoesifWireEvent[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const event of events) {
    const id = String(event.metadata?.trace_id)
    counts[id] = (counts[id] ?? 0) + 1
  }
  return counts
}

export async function startScriptedCollector(): Promise<ScriptedCollector> {
  const recorded: MoesifWireEvent[] = []
  const posts: ScriptedPost[] = []
  const sockets = new Set<Socket>()
  let queue: ScriptedReply[] = []
  let fallback: ScriptedReply = 'ok'

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('error', () => undefined)
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/'
      if (req.method === 'GET' && (path === '/v1/config' || path === '/v1/rules')) {
        // No governance rules: these tests are about delivery.
        res.writeHead(200, { 'content-type': 'application/json', 'x-moesif-config-etag': 'scripted' })
        res.end(path === '/v1/rules' ? '[]' : '{}')
        return
      }
      if (req.method !== 'POST' || (path !== '/v1/events' && path !== '/v1/events/batch')) {
        res.writeHead(201, { 'content-type': 'application/json' })
        res.end('{}')
        return
      }
      const raw = Buffer.concat(chunks)
      const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8')
      const parsed = JSON.parse(text) as MoesifWireEvent | MoesifWireEvent[]
      const events = Array.isArray(parsed) ? parsed : [parsed]
      const reply = queue.shift() ?? fallback
      posts.push({ path, traceIds: events.map((e) => String(e.metadata?.trace_id)), reply })
      const record = typeof reply === 'object' && 'status' in reply ? reply.status >= 200 && reply.status < 300 : true
      if (record) recorded.push(...events)
      if (reply === 'hang') return
      if (reply === 'reset') {
        req.socket.resetAndDestroy()
        return
      }
      const answer = (): void => {
        const status = typeof reply === 'object' && 'status' in reply ? reply.status : 201
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end('{}')
      }
      if (typeof reply === 'object' && 'delayMs' in reply) setTimeout(answer, reply.delayMs)
      else answer()
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  let port = 0
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        port = (server.address() as AddressInfo).port
        resolve()
      })
    })
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) {
        resolve()
        return
      }
      server.close(() => resolve())
      for (const socket of sockets) socket.destroy()
    })
  await listen()

  return {
    baseUri: `http://127.0.0.1:${port}`,
    recorded,
    posts,
    script(replies, next = 'ok') {
      queue = [...replies]
      fallback = next
    },
    async waitForRecorded(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs
      while (recorded.length < count) {
        if (Date.now() > deadline) throw new Error(`scripted collector: expected ${count} event(s) within ${timeoutMs} ms, got ${recorded.length}`)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      return recorded
    },
    stop,
    listen,
    close: stop
  }
}
