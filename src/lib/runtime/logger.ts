/**
 * Structured JSON-lines logger, in the shape of Powertools Logger (level,
 * message, timestamp, service, requestId plus keys), without its weight on the
 * authorizer's cold start.
 *
 * Defence in depth: every string value is scrubbed of JWT-shaped text (a
 * compact token whose header starts `{"`, encoded `eyJ`) and PEM blocks before
 * it is written. No code path passes a token to the logger; this is the
 * second line.
 */

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'

const LEVEL_RANK: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 }

/** Anything that looks like a compact JWT/JWS (2+ dots, base64url JSON header) or a PEM body. */
const TOKEN_LIKE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_.-]*/g
const PEM_LIKE = /-----BEGIN [A-Z ]+-----[\s\S]*?(-----END [A-Z ]+-----|$)/g

/** Where log lines go; tests swap it to capture output. */
export type LogSink = (line: string) => void

const stdoutSink: LogSink = (line) => {
  process.stdout.write(line + '\n')
}

let sink: LogSink = stdoutSink

/**
 * Replace the sink for every logger (tests only). Returns a function that restores the previous sink.
 *
 * @example
 * const lines: string[] = []
 * const restore = setLogSink((l) => lines.push(l))
 */
export function setLogSink(next: LogSink): () => void {
  const previous = sink
  sink = next
  return () => {
    sink = previous
  }
}

/** Remove token- and key-shaped substrings from a string. */
export function scrubSecrets(value: string): string {
  // Fast path for the common case: nothing token- or key-shaped can be in it.
  if (!value.includes('eyJ') && !value.includes('-----BEGIN')) return value
  return value.replace(TOKEN_LIKE, '[redacted-token]').replace(PEM_LIKE, '[redacted-pem]')
}

function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value)
  if (depth > 4 || value === null || typeof value !== 'object') return value
  if (value instanceof Error) {
    // The cause carries the detail a generic 5xx answer hides (HttpError keeps it for the logs).
    const cause = value.cause === undefined || depth > 2 ? undefined : scrubValue(value.cause, depth + 1)
    return {
      name: value.name,
      message: scrubSecrets(value.message),
      code: (value as { code?: unknown }).code,
      ...(cause === undefined ? {} : { cause })
    }
  }
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = scrubValue(v, depth + 1)
  return out
}

/** A structured logger bound to a service name and persistent keys. */
export class Logger {
  readonly #service: string
  readonly #minRank: number
  #keys: Record<string, unknown>

  constructor(options: { service: string; level?: string | undefined; keys?: Record<string, unknown> }) {
    this.#service = options.service
    const level = (options.level ?? process.env.LOG_LEVEL ?? 'INFO').toUpperCase() as LogLevel
    this.#minRank = LEVEL_RANK[level] ?? LEVEL_RANK.INFO
    this.#keys = scrubValue({ ...options.keys }) as Record<string, unknown>
  }

  /** Keys added to every following line (for example the request id), replacing earlier ones. Scrubbed once, here. */
  setPersistentKeys(keys: Record<string, unknown>): void {
    this.#keys = scrubValue({ ...keys }) as Record<string, unknown>
  }

  debug(message: string, extra?: Record<string, unknown>): void {
    this.#write('DEBUG', message, extra)
  }

  info(message: string, extra?: Record<string, unknown>): void {
    this.#write('INFO', message, extra)
  }

  warn(message: string, extra?: Record<string, unknown>): void {
    this.#write('WARN', message, extra)
  }

  error(message: string, extra?: Record<string, unknown>): void {
    this.#write('ERROR', message, extra)
  }

  #write(level: LogLevel, message: string, extra?: Record<string, unknown>): void {
    if (LEVEL_RANK[level] < this.#minRank) return
    const line = {
      level,
      message: scrubSecrets(message),
      timestamp: new Date().toISOString(),
      service: this.#service,
      ...this.#keys,
      ...(extra ? (scrubValue(extra) as object) : {})
    }
    sink(JSON.stringify(line))
  }
}
