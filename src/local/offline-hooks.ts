import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/**
 * What `npm start` changes in serverless-offline 14, which it runs in its own
 * process. Both hooks are plain wrappers around the (pinned) dependencies'
 * public objects, installed before serverless loads:
 *
 * - hapi, serverless-offline's HTTP server: every server it starts gets
 *   extensions. The HTTP API server drops the CORS headers serverless-offline
 *   reflects to *any* `Origin` (API Gateway sends them only to the configured
 *   origins), and refuses `sls-offline-authorizer-override`, a header with
 *   which a caller replaces the authorizer's context (the company). The
 *   Lambda Invoke API server (a Unix socket: config/local-functions.cjs)
 *   refuses every request.
 * - serverless's error reporter: a failure before serverless-offline is
 *   ready used to leave `npm start` running with nothing listening (dynalite
 *   and the helpers kept the process alive). It now reaches `onError`.
 */

/** The CORS response headers, all dropped when the caller's origin is not allowed. */
const CORS_HEADER = /^access-control-/i

/**
 * Whether a path belongs to the local stage's own page (`/`, `/local/*`):
 * no other origin may read those, even one in PORTAL_ORIGINS.
 *
 * @example
 * isLocalOnlyPath('/local/login') // true
 */
export function isLocalOnlyPath(path: string): boolean {
  return path === '/' || path.startsWith('/local/')
}

/**
 * Whether a response to `origin` for `path` may carry CORS headers: only for
 * the API's routes, and only for one of `allowedOrigins` (PORTAL_ORIGINS), as
 * API Gateway does.
 *
 * @example
 * corsAllowed('https://evil.example', '/create-key', ['http://127.0.0.1:4000']) // false
 */
export function corsAllowed(origin: string, path: string, allowedOrigins: readonly string[]): boolean {
  return !isLocalOnlyPath(path) && allowedOrigins.includes(origin)
}

/**
 * The one line a failed `serverless offline` start is reported with: the
 * innermost message of serverless's error (a config resolver's own message
 * rather than "Cannot resolve serverless.yml: Variables resolution errored
 * with:"), and where in serverless.yml it happened.
 *
 * @example
 * summarizeServerlessError('Cannot resolve serverless.yml: ...\n  - Cannot resolve variable at "custom.x": ... Received rejection: Error: X must be set\n    at ...')
 * // 'X must be set (resolving custom.x in serverless.yml)'
 */
export function summarizeServerlessError(message: string): string {
  const lines = message
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('at '))
  for (const line of lines) {
    const rejection = /Received rejection: (?:[A-Za-z]*Error: )?(.+)$/.exec(line)
    if (rejection !== null) {
      const at = /Cannot resolve variable at "([^"]+)"/.exec(line)
      return at === null ? (rejection[1] as string) : `${rejection[1]} (resolving ${at[1]} in serverless.yml)`
    }
  }
  const bullet = lines.find((line) => line.startsWith('- '))
  return bullet?.slice(2) ?? lines[0] ?? 'unknown error'
}

/** What {@link installOfflineHooks} needs. */
export interface OfflineHookOptions {
  /** serverless-offline's httpPort. */
  readonly httpPort: number
  /** PORTAL_ORIGINS: the origins API Gateway's CORS would answer. */
  readonly allowedOrigins: readonly string[]
  /** Called once the HTTP API server listens. */
  readonly onHttpListening: () => void
  /** Called with what serverless would have reported as its error (instead of reporting it). */
  readonly onError: (error: unknown) => void
}

/** The slice of hapi's request, toolkit and server the hooks use. */
interface HapiHeaders {
  [name: string]: unknown
}
interface HapiResponse {
  isBoom?: boolean
  headers?: HapiHeaders
  output?: { headers: HapiHeaders }
  code(status: number): HapiResponse
  header(name: string, value: string): HapiResponse
  takeover(): HapiResponse
}
interface HapiRequest {
  headers: Record<string, string | undefined>
  path: string
  response: HapiResponse | null
}
interface HapiToolkit {
  continue: symbol
  response(body: unknown): HapiResponse
}
type HapiExtension = (request: HapiRequest, h: HapiToolkit) => unknown
interface HapiServer {
  type: string
  settings: { port: unknown }
  ext(event: string, method: HapiExtension): void
  start(): Promise<void>
}

function refuse(h: HapiToolkit, message: string): HapiResponse {
  return h
    .response({ message, code: 'ERR_REFUSED', requestId: randomUUID() })
    .code(403)
    .header('content-type', 'application/json')
    .header('cache-control', 'no-store')
    .takeover()
}

const INSTALLED = Symbol.for('dev-portal-keys.offline-hooks')

/**
 * Install the hooks (once per process) before requiring serverless's bin.
 * `serverlessBin` is the resolved path of `serverless/bin/serverless.js`.
 *
 * @example
 * installOfflineHooks(require.resolve('serverless/bin/serverless.js'), { httpPort: 3000, allowedOrigins, onHttpListening, onError })
 */
export function installOfflineHooks(serverlessBin: string, options: OfflineHookOptions): void {
  const fromHere = createRequire(import.meta.url)
  // hapi as serverless-offline resolves it.
  const hapi = createRequire(fromHere.resolve('serverless-offline'))('@hapi/hapi') as { server: (options: object) => HapiServer }
  const prototype = Object.getPrototypeOf(hapi.server({ autoListen: false })) as HapiServer & { [INSTALLED]?: true }
  if (prototype[INSTALLED] !== true) {
    prototype[INSTALLED] = true
    const start = prototype.start
    prototype.start = async function (this: HapiServer): Promise<void> {
      const isInvokeApi = this.type === 'socket'
      const isHttpApi = this.type === 'tcp' && this.settings.port === options.httpPort
      if (isInvokeApi) {
        this.ext('onRequest', (_request, h) =>
          refuse(h, `The Lambda Invoke API is closed in the local stack: call the HTTP routes on http://127.0.0.1:${options.httpPort}/`)
        )
      }
      if (isHttpApi) {
        this.ext('onRequest', (request, h) =>
          request.headers['sls-offline-authorizer-override'] === undefined
            ? h.continue
            : refuse(h, 'The sls-offline-authorizer-override header is refused: the authorizer alone says who the caller is')
        )
        // Added after serverless-offline's own onPreResponse (it adds that one when it creates the server), so it runs after it.
        this.ext('onPreResponse', (request, h) => {
          const origin = request.headers.origin
          const response = request.response
          if (origin === undefined || response === null || corsAllowed(origin, request.path, options.allowedOrigins)) return h.continue
          const headers = response.isBoom === true ? response.output?.headers : response.headers
          for (const name of Object.keys(headers ?? {})) if (CORS_HEADER.test(name)) delete headers?.[name]
          return h.continue
        })
      }
      await start.call(this)
      if (isHttpApi) options.onHttpListening()
    }
  }

  // serverless reports a failure through lib/cli/handle-error.js and leaves the exit to the event
  // loop running dry, which never happens here: the module is swapped, in require's cache, for one
  // that hands the error to onError.
  const fromServerless = createRequire(serverlessBin)
  const reporter = join(dirname(serverlessBin), '..', 'lib', 'cli', 'handle-error.js')
  fromServerless(reporter)
  const cached = fromServerless.cache[fromServerless.resolve(reporter)]
  if (cached === undefined) throw new Error(`cannot hook serverless's error reporter (${reporter})`)
  cached.exports = (error: unknown) => options.onError(error)
}
