/**
 * The lite DynamoDB client's HTTP: one POST over node:http(s), bounded in time.
 *
 * node:http(s) rather than fetch: fetch's first use loads undici, ~30 ms of a
 * cold start that the lite client exists to save. node:http(s) itself is
 * loaded on the first POST (another ~7 ms that a deployment without a key
 * table never pays), so this module imports only types from it. Keep-alive
 * agents reuse connections across warm invocations; idle sockets are unref'd,
 * so they never hold a process open.
 */
import type { Agent as HttpAgent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http'

/** An answer to {@link post}: any status, its headers and its body as text. */
export interface PostAnswer {
  /** Whether the status is 2xx. */
  readonly ok: boolean
  readonly status: number
  /** A header by name, case-insensitively (several values joined with `, `), or `null`. */
  readonly headers: { get(name: string): string | null }
  readonly text: string
}

type Transport = { request: (url: URL, options: RequestOptions, callback: (res: IncomingMessage) => void) => ClientRequest; agent: HttpAgent }
const transports: Partial<Record<'http:' | 'https:', Promise<Transport>>> = {}
function transportFor(protocol: 'http:' | 'https:'): Promise<Transport> {
  return (transports[protocol] ??= (protocol === 'https:' ? import('node:https') : import('node:http')).then((module) => ({
    request: module.request,
    agent: new module.Agent({ keepAlive: true })
  })))
}

/**
 * POST `body` to `url` (http: or https:) with `headers` plus its
 * `content-length`, bounded by `timeoutMs` from the first byte sent to the
 * last byte read. Answers whatever status the server sends. Rejects with an
 * error named `TimeoutError` when the bound passes, else with node's own
 * error (its `code`, e.g. `ECONNREFUSED`, says what failed).
 *
 * @example
 * const answer = await post(new URL('http://127.0.0.1:8000'), { 'content-type': 'application/x-amz-json-1.0' }, '{}', 1500)
 * if (answer.ok) JSON.parse(answer.text)
 */
export async function post(url: URL, headers: Readonly<Record<string, string>>, body: string, timeoutMs: number): Promise<PostAnswer> {
  const transport = await transportFor(url.protocol as 'http:' | 'https:')
  return new Promise<PostAnswer>((resolve, reject) => {
    const signal = AbortSignal.timeout(timeoutMs)
    const request = transport.request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent: transport.agent, signal },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const status = res.statusCode ?? 0
          const get = (name: string): string | null => {
            const value = res.headers[name.toLowerCase()]
            return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value
          }
          resolve({ ok: status >= 200 && status < 300, status, headers: { get }, text: Buffer.concat(chunks).toString('utf8') })
        })
      }
    )
    request.on('error', (error) => reject(signal.aborted ? Object.assign(new Error('timed out', { cause: error }), { name: 'TimeoutError' }) : error))
    request.end(body)
  })
}
