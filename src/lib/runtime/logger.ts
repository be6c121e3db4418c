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

import { writeSync } from 'node:fs'

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'

const LEVEL_RANK: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 }

/** Anything that looks like a compact JWT/JWS (2+ dots, base64url JSON header) or a PEM body. */
const TOKEN_LIKE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_.-]*/g
const PEM_LIKE = /-----BEGIN [A-Z ]+-----[\s\S]*?(-----END [A-Z ]+-----|$)/g

/** Where log lines go; tests swap it to capture output. */
export type LogSink = (line: string) => void

/** Set once a line could not go straight to fd 1: from then on every line goes through process.stdout, in order. */
let throughStream = false

/**
 * Standard output, one write(2) per line straight to fd 1. process.stdout
 * would do the same write, but creating it costs about 1 ms of the cold start
 * on a pipe (as stdout is on Lambda), and its stream machinery a few µs per
 * line. A line written in one write() is never split by another writer's (a
 * pipe keeps writes of up to 4096 bytes whole). If fd 1 cannot take the whole
 * line now (a non-blocking pipe that is full, EAGAIN) or fails, the rest of
 * the line and every later one go through process.stdout, which queues them.
 */
const stdoutSink: LogSink = (line) => {
  const text = `${line}\n`
  if (!throughStream) {
    try {
      const written = writeSync(1, text)
      if (written === Buffer.byteLength(text)) return
      throughStream = true
      process.stdout.write(Buffer.from(text).subarray(written))
      return
    } catch {
      throughStream = true
    }
  }
  process.stdout.write(text)
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
  if (value === null || typeof value !== 'object') return value
  // Deeper than anything we log on purpose: cut, rather than write strings there unscrubbed (or loop on a cycle).
  if (depth > 4) return '[nested too deep]'
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
  // Object.keys, not Object.entries: no [key, value] pair per key (this runs for every line and every request).
  for (const k of Object.keys(value)) out[k] = scrubValue((value as Record<string, unknown>)[k], depth + 1)
  return out
}

/** The line's own keys, in order; a persistent or extra key of the same name takes the generic path. */
const LINE_KEYS = new Set(['level', 'message', 'timestamp', 'service'])

/**
 * Whether `key` can be appended to a line as text: a key of the same name as
 * one already in the line would replace that one's value in place, and an
 * array-index key ("0", "42") would be ordered before the others, so either
 * takes the generic path; so does `__proto__`, which an assignment would not keep.
 */
function isAppendableKey(key: string): boolean {
  const first = key.charCodeAt(0)
  return !(first >= 48 && first <= 57) && key !== '__proto__' && !LINE_KEYS.has(key)
}

const pad = (value: number, width: number): string => String(value).padStart(width, '0')

/**
 * The date and time up to the minute, `YYYY-MM-DDTHH:MM:`, of the minute
 * `minute` since the epoch, in the proleptic Gregorian calendar (UTC), with
 * toISOString's years: four digits from 0 to 9999, else a sign and six.
 * Arithmetic only (H. Hinnant's civil_from_days): the first
 * `Date.prototype.toISOString()` of a process costs about 0.25 ms of its cold start.
 */
function minutePrefix(minute: number): string {
  const days = Math.floor(minute / 1440)
  const minuteOfDay = minute - days * 1440
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const dayOfEra = z - era * 146_097
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365)
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100))
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153)
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
  const yearText = year >= 0 && year <= 9999 ? pad(year, 4) : `${year < 0 ? '-' : '+'}${pad(Math.abs(year), 6)}`
  return `${yearText}-${pad(month, 2)}-${pad(day, 2)}T${pad(Math.floor(minuteOfDay / 60), 2)}:${pad(minuteOfDay % 60, 2)}:`
}

/** The largest time value a Date holds (±8.64e15 ms). */
const MAX_TIME = 8.64e15
let timestampMinute = Number.NaN
let timestampPrefix = ''

/**
 * `new Date().toISOString()`, cheaper: the text up to the minute is worked out
 * once a minute, seconds and milliseconds are appended.
 */
function timestampNow(): string {
  // A Date truncates a fractional time value; one out of range throws, as toISOString does.
  const now = Math.trunc(Date.now())
  if (!(Math.abs(now) <= MAX_TIME)) return new Date(now).toISOString()
  const minute = Math.floor(now / 60_000)
  if (minute !== timestampMinute) {
    timestampPrefix = minutePrefix(minute)
    timestampMinute = minute
  }
  const inMinute = now - minute * 60_000
  const seconds = Math.floor(inMinute / 1000)
  const millis = inMinute - seconds * 1000
  return `${timestampPrefix}${seconds < 10 ? '0' : ''}${seconds}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`
}

/** A structured logger bound to a service name and persistent keys. */
export class Logger {
  readonly #service: string
  /** `,"service":"<name>"`, written once. */
  readonly #serviceJson: string
  readonly #minRank: number
  #keys: Record<string, unknown>
  /** The persistent keys as JSON members (`,"k":v,...`), once a line needs them; `null` when a key name rules the fast path out. */
  #keysJson: string | null | undefined

  constructor(options: { service: string; level?: string | undefined; keys?: Record<string, unknown> }) {
    this.#service = options.service
    this.#serviceJson = `,"service":${JSON.stringify(options.service)}`
    const level = (options.level ?? process.env.LOG_LEVEL ?? 'INFO').toUpperCase() as LogLevel
    this.#minRank = LEVEL_RANK[level] ?? LEVEL_RANK.INFO
    this.#keys = scrubValue({ ...options.keys }) as Record<string, unknown>
  }

  /** Keys added to every following line (for example the request id), replacing earlier ones. Scrubbed (and so copied) once, here. */
  setPersistentKeys(keys: Record<string, unknown>): void {
    this.#keys = scrubValue({ ...keys }) as Record<string, unknown>
    this.#keysJson = undefined
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
    sink(this.#fastLine(level, message, extra) ?? this.#line(level, message, extra))
  }

  /** The line: one JSON object, its keys in this order. */
  #line(level: LogLevel, message: string, extra?: Record<string, unknown>): string {
    const line = {
      level,
      message: scrubSecrets(message),
      timestamp: timestampNow(),
      service: this.#service,
      ...this.#keys,
      ...(extra ? (scrubValue(extra) as object) : {})
    }
    return JSON.stringify(line)
  }

  /**
   * The same text as {@link Logger.#line}, written member by member instead of
   * through two spread copies and a stringify of the whole: it is on the
   * authorizer's hot path (every deny). Only for what it writes exactly as
   * JSON.stringify would: persistent keys without a name clash, and extra
   * keys whose values are strings (scrubbed), numbers, booleans, null or
   * undefined (left out) and whose names neither clash nor are array indexes.
   * Anything else: `undefined`, and the generic line.
   */
  #fastLine(level: LogLevel, message: string, extra?: Record<string, unknown>): string | undefined {
    const keysJson = (this.#keysJson ??= this.#membersOf(this.#keys))
    if (keysJson === null) return undefined
    let members = ''
    if (extra !== undefined) {
      // A plain object only: an Error or a class instance is written through scrubValue's rules.
      const proto = Object.getPrototypeOf(extra) as unknown
      if (proto !== Object.prototype && proto !== null) return undefined
      for (const key of Object.keys(extra)) {
        if (!isAppendableKey(key) || Object.hasOwn(this.#keys, key)) return undefined
        const value = extra[key]
        if (value === undefined) continue
        const type = typeof value
        if (type === 'string') members += `,${JSON.stringify(key)}:${JSON.stringify(scrubSecrets(value as string))}`
        else if (type === 'number' || type === 'boolean' || value === null) members += `,${JSON.stringify(key)}:${JSON.stringify(value)}`
        else return undefined
      }
    }
    return `{"level":"${level}","message":${JSON.stringify(scrubSecrets(message))},"timestamp":"${timestampNow()}"${this.#serviceJson}${keysJson}${members}}`
  }

  /** The scrubbed persistent keys as JSON members, or `null` when one of their names needs the generic line. */
  #membersOf(keys: Record<string, unknown>): string | null {
    for (const key of Object.keys(keys)) if (!isAppendableKey(key)) return null
    const json = JSON.stringify(keys)
    return json === '{}' ? '' : `,${json.slice(1, -1)}`
  }
}
