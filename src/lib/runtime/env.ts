import { parseDurationSeconds } from './duration'
import { ConfigError } from './errors'

/** The environment as handed to a Lambda: names to string values. */
export type Env = Readonly<Record<string, string | undefined>>

/**
 * Read one variable. An empty or blank value counts as missing. `JWT_*` names
 * are also looked up with the reference portal plugin's `PLUGIN_` prefix, the
 * plain name winning when both are set. Values are trimmed unless
 * `trim: false` (an HMAC secret is used byte for byte, as the reference plugin does).
 *
 * @example
 * readEnv(process.env, 'JWT_ALGORITHM') // reads JWT_ALGORITHM, then PLUGIN_JWT_ALGORITHM
 */
export function readEnv(env: Env, name: string, options: { trim?: boolean } = {}): string | undefined {
  const trim = options.trim ?? true
  const plain = env[name]
  if (plain !== undefined && plain.trim() !== '') return trim ? plain.trim() : plain
  if (name.startsWith('JWT_')) {
    const prefixed = env[`PLUGIN_${name}`]
    if (prefixed !== undefined && prefixed.trim() !== '') return trim ? prefixed.trim() : prefixed
  }
  return undefined
}

/**
 * Read a variable that must be set.
 *
 * @example
 * const alg = requireEnv(process.env, 'JWT_ALGORITHM', 'one of HS256, RS256')
 */
export function requireEnv(env: Env, name: string, expected: string, options: { trim?: boolean } = {}): string {
  const value = readEnv(env, name, options)
  if (value === undefined) throw new ConfigError(name, `set (${expected})`)
  return value
}

/**
 * Read a comma-separated list, trimming items and dropping empty ones.
 *
 * @example
 * readList({ PORTAL_ORIGINS: 'https://a, https://b' }, 'PORTAL_ORIGINS') // ['https://a', 'https://b']
 */
export function readList(env: Env, name: string): string[] | undefined {
  const value = readEnv(env, name)
  if (value === undefined) return undefined
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  return items.length === 0 ? undefined : items
}

/**
 * Read a whole number from `min` to `max`, `fallback` when unset; anything
 * else is a {@link ConfigError} naming the range.
 *
 * @example
 * readWholeNumber(process.env, 'MAX_ACTIVE_KEYS_PER_COMPANY', 100, 1, 10_000) // 100
 */
export function readWholeNumber(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = readEnv(env, name)
  if (raw === undefined) return fallback
  const value = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN
  if (!(value >= min && value <= max)) throw new ConfigError(name, `a whole number from ${min} to ${max}`)
  return value
}

/**
 * Read a duration in whole seconds (`30`, `30d`, `12h`), `fallback` when unset.
 * An unparseable value is a {@link ConfigError} saying what was `expected`.
 *
 * @example
 * readDurationSeconds(process.env, 'JWT_EXPIRES_IN', '30d', 'a duration such as 30d') // 2592000
 */
export function readDurationSeconds(env: Env, name: string, fallback: string, expected: string): number {
  const seconds = parseDurationSeconds(readEnv(env, name) ?? fallback)
  if (seconds === undefined) throw new ConfigError(name, expected)
  return seconds
}
