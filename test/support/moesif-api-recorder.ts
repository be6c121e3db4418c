/**
 * A Moesif collector (`MOESIF_BASE_URI`) that records the profile and
 * subscription calls the portal routes make (`POST /v1/companies`,
 * `/v1/users`, `/v1/subscriptions`) with their bodies, on 127.0.0.1, and can
 * fail them on purpose. The project's collector (src/local/moesif-collector.ts)
 * records events; this one is for what the portal sends besides.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** One call received. */
export interface RecordedMoesifCall {
  readonly path: string
  readonly applicationId: string | undefined
  readonly body: unknown
}

/** A running recorder. */
export interface MoesifApiRecorder {
  readonly baseUri: string
  readonly calls: RecordedMoesifCall[]
  /** The calls to one path (`/v1/subscriptions`...). */
  readonly callsTo: (path: string) => RecordedMoesifCall[]
  /** Answer every call with this status from now on (201 is healthy). */
  setStatus(status: number): void
  close(): Promise<void>
}

/**
 * Start a recorder on an ephemeral loopback port.
 *
 * @example
 * const recorder = await startMoesifApiRecorder()
 * // MOESIF_APPLICATION_ID=app MOESIF_BASE_URI=recorder.baseUri
 */
export async function startMoesifApiRecorder(): Promise<MoesifApiRecorder> {
  const calls: RecordedMoesifCall[] = []
  const sockets = new Set<Socket>()
  let status = 201
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      let body: unknown = text
      try {
        body = JSON.parse(text)
      } catch {
        // Kept as text.
      }
      const applicationId = req.headers['x-moesif-application-id']
      calls.push({ path: (req.url ?? '/').split('?')[0] ?? '/', applicationId: typeof applicationId === 'string' ? applicationId : undefined, body })
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end('{}')
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUri: `http://127.0.0.1:${port}`,
    calls,
    callsTo: (path) => calls.filter((call) => call.path === path),
    setStatus(next) {
      status = next
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
  }
}
