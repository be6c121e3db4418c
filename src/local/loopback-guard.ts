import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import type { MiddlewareObj } from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'
import { readEnv } from '../lib/runtime/env'
import { ConfigError, HttpError } from '../lib/runtime/errors'

/**
 * The local stack mints ID tokens for anyone who asks (`POST /local/login`)
 * and its helpers hold the key table and the Moesif events, so only this
 * machine's own pages and programs may talk to them. A browser visiting any
 * website can reach 127.0.0.1 too: cross-site (a form or `fetch` with a
 * "simple" content type needs no preflight), or through DNS rebinding (a
 * hostname of the attacker's that resolves to 127.0.0.1, so the page is
 * "same-origin" with the stack). Both are told apart by headers a page
 * cannot forge: the browser sets `Host` to the name it connected to, `Origin`
 * to the calling page's origin and `Sec-Fetch-Site` to how the two relate.
 */

/** Headers as an HTTP API event (lower-case names) or node:http gives them. */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>

/** Who may call: the stack's own page (`'own-page'`), or programs only (`'programs'`: no browser at all). */
export type Audience = 'own-page' | 'programs'

const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost)(?::(\d{1,5}))?$/i
const LOOPBACK_ADDRESS = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/

function header(headers: RequestHeaders, name: string): string | undefined {
  const direct = headers[name]
  const value = direct !== undefined ? direct : Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1]
  return Array.isArray(value) ? value.join(',') : value
}

/**
 * The origins of a stack on `port`: `http://127.0.0.1:<port>` and `http://localhost:<port>`.
 *
 * @example
 * ownOrigins(3000) // ['http://127.0.0.1:3000', 'http://localhost:3000']
 */
export function ownOrigins(port: number): string[] {
  const suffix = port === 80 ? '' : `:${port}`
  return [`http://127.0.0.1${suffix}`, `http://localhost${suffix}`]
}

/**
 * Why a request to a loopback server on `port` is not from this machine's
 * own page or program, or `undefined` when it is. Accepted: `Host`
 * `127.0.0.1:<port>` or `localhost:<port>`, a loopback peer address (when
 * known), and for `'own-page'` an `Origin` that is absent or one of
 * {@link ownOrigins}, with a `Sec-Fetch-Site` (when sent) of `same-origin` or
 * `none` (or a top-level navigation to a page). For `'programs'`, any sign of
 * a browser (`Origin`, `Sec-Fetch-*`) is refused.
 *
 * @example
 * foreignRequestReason({ host: 'evil.example:3000' }, 3000, 'own-page') // 'Host evil.example:3000 is not 127.0.0.1:3000 or localhost:3000'
 */
export function foreignRequestReason(
  headers: RequestHeaders,
  port: number,
  audience: Audience,
  peerAddress?: string | undefined
): string | undefined {
  if (peerAddress !== undefined && peerAddress !== '' && !LOOPBACK_ADDRESS.test(peerAddress)) return 'the caller is not on this machine'
  const host = header(headers, 'host')
  const hostMatch = host === undefined ? null : LOOPBACK_HOST.exec(host.trim())
  if (hostMatch === null || Number(hostMatch[1] ?? 80) !== port) {
    return `Host ${host === undefined ? '(absent)' : JSON.stringify(host.slice(0, 80))} is not 127.0.0.1:${port} or localhost:${port}`
  }
  const origin = header(headers, 'origin')
  const site = header(headers, 'sec-fetch-site')
  if (audience === 'programs') {
    if (origin !== undefined || site !== undefined) return 'browsers may not call this server'
    return undefined
  }
  if (origin !== undefined && !ownOrigins(port).includes(origin.trim().toLowerCase())) {
    return `Origin ${JSON.stringify(origin.slice(0, 80))} is not this stack's own`
  }
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    const navigation = header(headers, 'sec-fetch-mode') === 'navigate' && header(headers, 'sec-fetch-dest') === 'document'
    if (!navigation) return `a ${site} request`
  }
  return undefined
}

/**
 * The 403 every local-only endpoint answers a foreign request with.
 *
 * @example
 * throw refusal('Origin "https://evil.example" is not this stack\'s own', 3000)
 */
export function refusal(reason: string, port: number): HttpError {
  return new HttpError(
    403,
    'ERR_REFUSED',
    `Refused: the local stack answers only its own page and programs on http://127.0.0.1:${port} or http://localhost:${port} (${reason})`
  )
}

/**
 * Middy middleware for the local-stage handlers (`/`, `/local/*`): refuses
 * with 403 `ERR_REFUSED` ({@link foreignRequestReason} with `'own-page'`)
 * before the handler runs. The stack's port comes from `LOCAL_STACK_PORT`,
 * which config/local-functions.cjs sets; without it every request fails
 * closed with a ConfigError. Place it after the error middleware.
 *
 * @example
 * middy().use(httpErrorsMiddleware(logger)).use(localOnly()).handler(...)
 */
export function localOnly(): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context> {
  return {
    name: 'local-only',
    before: (request) => {
      const raw = readEnv(process.env, 'LOCAL_STACK_PORT')
      const port = Number(raw)
      if (raw === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new ConfigError('LOCAL_STACK_PORT', 'the port npm start serves on (set by config/local-functions.cjs)')
      }
      const event = request.event
      const reason = foreignRequestReason(event.headers ?? {}, port, 'own-page', event.requestContext?.http?.sourceIp)
      if (reason !== undefined) throw refusal(reason, port)
    }
  }
}

/**
 * For the stack's own node:http servers (the Moesif collector, dynalite):
 * answer a foreign request ({@link foreignRequestReason} with `audience`)
 * with 403 `{ message, code: 'ERR_REFUSED', requestId }` and return true;
 * return false, touching nothing, otherwise. The port is the server's own.
 *
 * @example
 * if (refuseForeignRequest(req, res, 'programs')) return
 */
export function refuseForeignRequest(req: IncomingMessage, res: ServerResponse, audience: Audience): boolean {
  const address = req.socket.address()
  const port = typeof address === 'object' && 'port' in address ? address.port : 0
  const reason = foreignRequestReason(req.headers as IncomingHttpHeaders, port, audience, req.socket.remoteAddress)
  if (reason === undefined) return false
  const error = refusal(reason, port)
  req.resume()
  res.writeHead(403, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify({ message: error.message, code: error.code, requestId: randomUUID() }))
  return true
}
