/**
 * A fake Moesif collector on loopback. It speaks just enough of the collector
 * API for the real `moesif-aws-lambda` / `moesifapi` client: it gunzips and
 * parses what the client POSTs to `/v1/events` and `/v1/events/batch`, records
 * the events as they arrived on the wire (snake_case), and answers
 * `GET /v1/config` with a config and an `x-moesif-config-etag` header, and
 * `GET /v1/rules` with the governance rules (`[]` unless given). The rules and
 * the cohorts of the config can come from a file (`governanceFile`,
 * `{ "rules": [...], "config": {...} }`, reread whenever it changes), which
 * `npm start` keeps at `<LOCAL_STATE_DIR>/moesif-governance.json`. It also
 * answers `GET /local/events` with the retained events (`{ events }`, oldest
 * first), which the local key console shows.
 *
 * Dependency-free on purpose: unit tests, end-to-end tests and `npm start`
 * all reuse it.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { refuseForeignRequest } from './loopback-guard'
import { printable } from './printable'

/** How the collector behaves: answer normally, or accept connections and never answer. */
export type MoesifCollectorMode = 'healthy' | 'hang'

/** Options for {@link startMoesifCollector}. */
export interface MoesifCollectorOptions {
  /** Defaults to `'healthy'`. */
  mode?: MoesifCollectorMode
  /** Body of `GET /v1/config`. Defaults to `{}` (the client then samples at 100 %). */
  config?: Record<string, unknown>
  /** Value of the `x-moesif-config-etag` header. Defaults to `'local-collector-etag'`, or a hash of the config when governance is set. */
  configEtag?: string
  /** Governance rules and cohorts to serve at first (see {@link MoesifGovernanceDocument}); {@link MoesifCollector.setGovernance} changes them. */
  governance?: MoesifGovernanceDocument
  /**
   * A JSON file holding a {@link MoesifGovernanceDocument}, read on every
   * `GET /v1/rules` and `GET /v1/config` (so an edit applies at the next
   * fetch): it wins over `governance`. A missing file serves no rules; one
   * that is not such a document is answered 503, as a Moesif in trouble.
   */
  governanceFile?: string
  /** Called with each event as it arrives (for example to print it); a throw is ignored. */
  onEvent?: (event: MoesifWireEvent) => void
  /**
   * Keep only the newest `retain` events and requests (default: all). A
   * long-running local stack sets it so memory stays flat; `waitForEvents`
   * then counts the retained ones.
   */
  retain?: number
}

/**
 * What the collector serves to governance clients: `rules` as `GET /v1/rules`
 * (Moesif's rules: `_id`, `type`, `block`, `applied_to`, `regex_config`,
 * `variables`, `response`...), and `config` merged over the collector's config
 * as `GET /v1/config` (`company_rules`, `user_rules`, sample rates).
 */
export interface MoesifGovernanceDocument {
  rules: unknown[]
  config: Record<string, unknown>
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
  /** The governance rule that blocked the call, if one did. */
  blocked_by?: string
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
  /** Serve these rules and cohorts from now on (undefined: none); a `governanceFile` still wins. */
  setGovernance(governance: MoesifGovernanceDocument | undefined): void
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
  const baseConfig = options.config ?? {}
  let governance = options.governance
  const governanceFile = options.governanceFile === undefined ? undefined : governanceFileReader(options.governanceFile)
  /** The two governance answers as of now: from the file, else as set; a file that cannot be used is a 503. */
  const governanceAnswers = (): { rules: string; config: string; etag: string } | { problem: string } => {
    const document = governanceFile !== undefined ? governanceFile() : { document: governance }
    if ('problem' in document) return document
    const config = JSON.stringify({ ...baseConfig, ...document.document?.config })
    const etag =
      options.configEtag ??
      (document.document === undefined ? 'local-collector-etag' : createHash('sha256').update(config).digest('base64url').slice(0, 16))
    return { rules: JSON.stringify(document.document?.rules ?? []), config, etag }
  }

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
    // Programs on this machine only: no browser, no other Host (DNS rebinding), so no page can read the events or forge one.
    if (refuseForeignRequest(req, res, 'programs')) return
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
        if (req.method === 'GET' && (path === '/v1/config' || path === '/v1/rules')) {
          const answers = governanceAnswers()
          if ('problem' in answers) {
            reply(res, 503, { message: answers.problem })
            return
          }
          res.writeHead(200, { 'content-type': 'application/json', 'x-moesif-config-etag': answers.etag })
          res.end(path === '/v1/config' ? answers.config : answers.rules)
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
    setGovernance(next) {
      governance = next
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
 * The line `npm start` prints for an event: method, URI, status, company,
 * user and the Authorization header as Moesif got it (masked), and the
 * governance rule that blocked the call, if one did. Every value is
 * passed through {@link printable}: they come from callers (a company id is a
 * claim of the key), and a newline in one must not print a line of its own.
 *
 * @example
 * describeMoesifEvent(event) // 'moesif event: GET /v1/whoami -> 200 company_id=acme user_id=auth0|alice authorization=*****'
 */
export function describeMoesifEvent(event: MoesifWireEvent): string {
  const headers = event.request.headers ?? {}
  const auth = Object.entries(headers).find(([name]) => name.toLowerCase() === 'authorization')?.[1]
  return printable(
    `moesif event: ${event.request.verb} ${event.request.uri} -> ${event.response.status}` +
      ` company_id=${event.company_id ?? '-'} user_id=${event.user_id ?? '-'} authorization=${auth === undefined ? '(absent)' : String(auth)}` +
      (event.blocked_by === undefined ? '' : ` blocked_by=${event.blocked_by}`)
  )
}

/** Where `npm start` keeps the local collector's governance rules, under its state folder. */
export const MOESIF_GOVERNANCE_FILE = 'moesif-governance.json'

/** The rule id of the example's block, for the docs and tests. */
export const EXAMPLE_BLOCK_RULE_ID = 'local-block-blocked-co'

/**
 * What {@link ensureMoesifGovernanceFile} writes: a company rule that blocks
 * the company `blocked-co` with a 402 and a JSON body that names the company
 * through a variable (with a default), and a regex rule that adds `X-Plan`
 * to every call under `/v1/`. Edit the file while the stack runs: the API
 * applies the change within MOESIF_RULES_TTL.
 */
export const EXAMPLE_GOVERNANCE: MoesifGovernanceDocument = {
  rules: [
    {
      _id: EXAMPLE_BLOCK_RULE_ID,
      name: 'Block blocked-co until it pays',
      type: 'company',
      block: true,
      applied_to: 'matching',
      applied_to_unidentified: false,
      regex_config: [],
      variables: [{ name: '0', path: 'company_id' }],
      response: {
        status: 402,
        headers: { 'X-Blocked-Reason': 'payment-required' },
        body: {
          code: 'ERR_PAYMENT_REQUIRED',
          message: 'API access for {{0|your company}} is suspended: update your plan in the developer portal.'
        }
      }
    },
    {
      _id: 'local-plan-header',
      name: 'Tell every API caller its plan',
      type: 'regex',
      block: false,
      regex_config: [{ conditions: [{ path: 'request.route', value: '^/v1/' }] }],
      response: { headers: { 'X-Plan': 'local-free' } }
    }
  ],
  config: {
    sample_rate: 100,
    company_rules: { 'blocked-co': [{ rules: EXAMPLE_BLOCK_RULE_ID, values: { '0': 'blocked-co' } }] },
    user_rules: {}
  }
}

/**
 * Create `<stateDir>/moesif-governance.json` with {@link EXAMPLE_GOVERNANCE}
 * unless it exists (an edited file is never overwritten), and return its path
 * for the collector's `governanceFile`.
 *
 * @example
 * const collector = await startMoesifCollector({ governanceFile: ensureMoesifGovernanceFile(stateDir) })
 */
export function ensureMoesifGovernanceFile(stateDir: string): string {
  const path = join(stateDir, MOESIF_GOVERNANCE_FILE)
  mkdirSync(stateDir, { recursive: true })
  try {
    writeFileSync(path, `${JSON.stringify(EXAMPLE_GOVERNANCE, null, 2)}\n`, { flag: 'wx', mode: 0o600 })
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EEXIST') throw error
  }
  return path
}

/** Reads the file on each call, parsing it again only when its text changed. */
function governanceFileReader(path: string): () => { document: MoesifGovernanceDocument | undefined } | { problem: string } {
  let lastText: string | undefined
  let last: { document: MoesifGovernanceDocument | undefined } | { problem: string } = { document: undefined }
  return () => {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return { document: undefined }
      return { problem: `${MOESIF_GOVERNANCE_FILE} cannot be read` }
    }
    if (text === lastText) return last
    lastText = text
    last = parseGovernanceDocument(text)
    return last
  }
}

function parseGovernanceDocument(text: string): { document: MoesifGovernanceDocument } | { problem: string } {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return { problem: `${MOESIF_GOVERNANCE_FILE} is not JSON` }
  }
  if (!isObject(parsed) || !Array.isArray(parsed.rules) || (parsed.config !== undefined && !isObject(parsed.config))) {
    return { problem: `${MOESIF_GOVERNANCE_FILE} must be {"rules": [...], "config": {...}}` }
  }
  return { document: { rules: parsed.rules, config: parsed.config ?? {} } }
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
