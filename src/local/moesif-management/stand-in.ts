/**
 * A local stand-in for the three calls of Moesif's management API the
 * portal routes make, on 127.0.0.1, answering in Moesif's shapes:
 *
 * | Call | Answer |
 * | --- | --- |
 * | `GET /v1/~/billing/catalog/plans?includes=prices&provider=stripe` | `{ hits: [plan...] }`: the Stripe account's products and prices |
 * | `GET /v1/search/~/users/:id` | the user `:id` (a Stripe customer) with `company.subscriptions` from its Stripe subscriptions; 404 for another id |
 * | `POST /v1/portal/~/workspaces/:id/access_token?expiration=<ISO>` | `{ _id, token }` for the two template workspaces it knows |
 *
 * Its data come from a Stripe account through Stripe's own API (the local
 * Stripe stand-in, in this process or another): plans from its catalog,
 * subscriptions from its subscriptions, so what checkout creates shows up
 * here at once (Moesif itself syncs within 10-15 minutes). Every call needs
 * `Authorization: Bearer <token>`; browsers are refused, like the other
 * local helpers. `setFault` makes it fail or hang, for tests.
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { refuseForeignRequest } from '../loopback-guard'
import type { WireCustomer, WireDeletedCustomer, WirePrice, WireProduct, WireSubscription } from '../stripe/wire'
import { moesifPlansFromStripe } from './catalog'
import { moesifSubscriptionsFromStripe } from './subscriptions'

/** A Stripe account the stand-in reads through Stripe's API: a running Stripe stand-in fits (it has both). */
export interface StripeAccountAccess {
  /** `http://127.0.0.1:<port>` of the Stripe stand-in (or `https://api.stripe.com`). */
  readonly url: string
  readonly apiKey: string
}

/** The two workspace templates the portal's dashboard embeds. */
export interface StandInWorkspaces {
  readonly liveEventLog: string
  readonly timeSeries: string
}

/**
 * The workspace ids the stand-in knows unless told others (Moesif's ids are
 * 24 hex digits). `npm start` in stripe mode sets
 * `MOESIF_TEMPLATE_WORKSPACE_ID_*` to these.
 *
 * @example
 * DEFAULT_STAND_IN_WORKSPACES.liveEventLog // '64f0000000000000000e0001'
 */
export const DEFAULT_STAND_IN_WORKSPACES: StandInWorkspaces = Object.freeze({
  liveEventLog: '64f0000000000000000e0001',
  timeSeries: '64f0000000000000000e0002'
})

/** How the stand-in answers: normally, with an error status, or never. */
export type MoesifManagementFault = { mode: 'none' } | { mode: 'error'; status?: number } | { mode: 'hang' }

/** One request the stand-in received (the token never). */
export interface MoesifManagementRequest {
  method: string
  path: string
  query: Record<string, string>
  body: unknown
  status: number | undefined
}

/** A workspace access token the stand-in handed out. */
export interface IssuedWorkspaceToken {
  workspaceId: string
  userId: string
  expiration: string
  token: string
}

/** Options of {@link startMoesifManagementStandIn}. */
export interface MoesifManagementStandInOptions {
  /** The Stripe account whose catalog and subscriptions Moesif would have synced. */
  stripe: StripeAccountAccess
  /** The management token callers must present. Default: a fresh random one. */
  token?: string
  workspaces?: StandInWorkspaces
  /**
   * The `provider` values the catalog answers the Stripe account's plans for.
   * Default `['stripe']`; add `'custom'` to stand in for a custom-billing
   * catalog (`APP_PAYMENT_PROVIDER=custom`) with the same plans.
   */
  providers?: readonly string[]
  /** Listen on this port of 127.0.0.1. Default 0 (any free port). */
  port?: number
  fault?: MoesifManagementFault
  /** Longest wait for the Stripe account's answer. Default 5000 ms. */
  stripeTimeoutMs?: number
}

/** A running stand-in. */
export interface MoesifManagementStandIn {
  /** `http://127.0.0.1:<port>`: the `MOESIF_MANAGEMENT_API_BASE`. */
  readonly url: string
  readonly port: number
  /** The `MOESIF_MANAGEMENT_TOKEN`. */
  readonly token: string
  readonly workspaces: StandInWorkspaces
  /** The last 500 requests, oldest first. */
  readonly requests: readonly MoesifManagementRequest[]
  /** Every workspace token handed out, oldest first (the newest 500). */
  readonly tokens: readonly IssuedWorkspaceToken[]
  readonly fault: MoesifManagementFault
  setFault(fault: MoesifManagementFault): void
  /** Stop listening and drop every connection (hung ones too). Idempotent. */
  close(): Promise<void>
}

const HOST = '127.0.0.1'
const RETAIN = 500
const MAX_BODY_BYTES = 64 * 1024

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(json)) })
  res.end(json)
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) chunks.push(chunk)
    })
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** An answer the Stripe account gave, or why there is none. */
class StripeAccountError extends Error {}

/**
 * Start the stand-in on 127.0.0.1 (an ephemeral port unless `port` is given).
 *
 * @example
 * const stripe = await startStripeStandIn()
 * const moesif = await startMoesifManagementStandIn({ stripe })
 * // MOESIF_MANAGEMENT_API_BASE=moesif.url MOESIF_MANAGEMENT_TOKEN=moesif.token
 * await moesif.close()
 */
export async function startMoesifManagementStandIn(options: MoesifManagementStandInOptions): Promise<MoesifManagementStandIn> {
  const token = options.token ?? `moesif_local_${randomBytes(24).toString('base64url')}`
  const workspaces = options.workspaces ?? DEFAULT_STAND_IN_WORKSPACES
  const stripeTimeoutMs = options.stripeTimeoutMs ?? 5000
  const providers = options.providers ?? ['stripe']
  const requests: MoesifManagementRequest[] = []
  const tokens: IssuedWorkspaceToken[] = []
  const sockets = new Set<Socket>()
  let fault: MoesifManagementFault = options.fault ?? { mode: 'none' }

  /** GET on the Stripe account's API; `undefined` for a 404. */
  const stripeGet = async <T>(path: string): Promise<T | undefined> => {
    let response: Response
    try {
      response = await fetch(new URL(path, options.stripe.url), {
        headers: { authorization: `Bearer ${options.stripe.apiKey}` },
        signal: AbortSignal.timeout(stripeTimeoutMs)
      })
    } catch (error) {
      throw new StripeAccountError(`the Stripe account did not answer ${path.split('?')[0]}: ${(error as Error).message}`)
    }
    if (response.status === 404) {
      await response.body?.cancel()
      return undefined
    }
    if (!response.ok) {
      await response.body?.cancel()
      throw new StripeAccountError(`the Stripe account answered ${path.split('?')[0]} with HTTP ${response.status}`)
    }
    return (await response.json()) as T
  }

  const plans = async (): Promise<unknown[]> => {
    const [products, prices] = await Promise.all([
      stripeGet<{ data: WireProduct[] }>('/v1/products?limit=100'),
      stripeGet<{ data: WirePrice[] }>('/v1/prices?limit=100&expand[]=data.tiers')
    ])
    return moesifPlansFromStripe(products?.data ?? [], prices?.data ?? [])
  }

  const user = async (id: string): Promise<object | undefined> => {
    if (!/^cus_[A-Za-z0-9]+$/.test(id)) return undefined
    const customer = await stripeGet<WireCustomer | WireDeletedCustomer>(`/v1/customers/${encodeURIComponent(id)}`)
    if (customer === undefined || ('deleted' in customer && customer.deleted === true)) return undefined
    const listed = await stripeGet<{ data: WireSubscription[] }>(`/v1/subscriptions?customer=${encodeURIComponent(id)}&status=all&limit=100`)
    const email = 'email' in customer ? customer.email : null
    return {
      user_id: id,
      company_id: id,
      metadata: email === null ? {} : { email },
      company: { company_id: id, subscriptions: moesifSubscriptionsFromStripe(listed?.data ?? []) }
    }
  }

  async function route(method: string, path: string, query: URLSearchParams, raw: string): Promise<{ status: number; body: unknown }> {
    if (method === 'GET' && path === '/v1/~/billing/catalog/plans') {
      // Moesif's catalog for another billing provider would hold that provider's plans: none here.
      return { status: 200, body: { hits: providers.includes(query.get('provider') ?? '') ? await plans() : [] } }
    }
    const userMatch = /^\/v1\/search\/~\/users\/([^/]+)$/.exec(path)
    if (method === 'GET' && userMatch !== null) {
      const found = await user(decodeURIComponent(userMatch[1] as string))
      return found === undefined ? { status: 404, body: { message: 'User not found' } } : { status: 200, body: found }
    }
    const workspaceMatch = /^\/v1\/portal\/~\/workspaces\/([^/]+)\/access_token$/.exec(path)
    if (method === 'POST' && workspaceMatch !== null) {
      const workspaceId = decodeURIComponent(workspaceMatch[1] as string)
      if (workspaceId !== workspaces.liveEventLog && workspaceId !== workspaces.timeSeries) {
        return { status: 404, body: { message: `No workspace ${workspaceId}` } }
      }
      const expiration = query.get('expiration') ?? ''
      if (Number.isNaN(Date.parse(expiration))) return { status: 400, body: { message: 'expiration must be an ISO 8601 date' } }
      let body: unknown
      try {
        body = JSON.parse(raw)
      } catch {
        return { status: 400, body: { message: 'The body must be JSON' } }
      }
      const userId = (body as { template?: { values?: { user_id?: unknown } } } | null)?.template?.values?.user_id
      if (typeof userId !== 'string' || userId === '') return { status: 400, body: { message: 'template.values.user_id is required' } }
      const issued = { workspaceId, userId, expiration, token: `ws_local_${randomBytes(24).toString('base64url')}` }
      tokens.push(issued)
      if (tokens.length > RETAIN) tokens.splice(0, tokens.length - RETAIN)
      return { status: 200, body: { _id: workspaceId, token: issued.token } }
    }
    return { status: 404, body: { message: `No route ${method} ${path}` } }
  }

  const server: Server = createServer((req, res) => {
    if (refuseForeignRequest(req, res, 'programs')) return
    const target = new URL(req.url ?? '/', `http://${HOST}`)
    const entry: MoesifManagementRequest = {
      method: req.method ?? 'GET',
      path: target.pathname,
      query: Object.fromEntries(target.searchParams),
      body: undefined,
      status: undefined
    }
    requests.push(entry)
    if (requests.length > RETAIN) requests.splice(0, requests.length - RETAIN)
    const answer = (status: number, body: unknown): void => {
      entry.status = status
      send(res, status, body)
    }
    if (fault.mode === 'hang') {
      req.resume()
      return
    }
    if (fault.mode === 'error') {
      req.resume()
      answer(fault.status ?? 500, { message: 'The local Moesif stand-in is failing on purpose' })
      return
    }
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1]
    if (presented === undefined || !timingSafeEqual(digest(presented), digest(token))) {
      req.resume()
      answer(401, { message: 'Unauthorized: a management API token is required' })
      return
    }
    readBody(req)
      .then(async (raw) => {
        if (raw === undefined) return answer(413, { message: 'Body too large' })
        if (raw !== '') {
          try {
            entry.body = JSON.parse(raw)
          } catch {
            entry.body = raw
          }
        }
        const { status, body } = await route(entry.method, target.pathname, target.searchParams, raw)
        answer(status, body)
      })
      .catch((error: unknown) => {
        if (res.headersSent) return
        // The Stripe account failing is Moesif failing, as far as the portal can tell.
        answer(error instanceof StripeAccountError ? 503 : 500, { message: error instanceof Error ? error.message : 'failed' })
      })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, HOST, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  let closing: Promise<void> | undefined

  return {
    url: `http://${HOST}:${port}`,
    port,
    token,
    workspaces,
    requests,
    tokens,
    get fault() {
      return fault
    },
    setFault(next) {
      fault = next
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
      return closing
    }
  }
}
