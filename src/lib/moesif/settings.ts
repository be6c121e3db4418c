/**
 * Moesif settings: the MOESIF_* environment variables, parsed and validated.
 * Read on a handler's first request (see `withMoesif` in `./wrapper`), so a
 * bad value fails that request with a `ConfigError` like every other handler's
 * configuration, rather than the module load.
 */
import { ConfigError } from '../runtime/errors'
import { readEnv, readList } from '../runtime/env'

/** Moesif settings, parsed once per cold start by {@link moesifSettingsFromEnv}. */
export interface MoesifSettings {
  /** Moesif is off when undefined. */
  applicationId: string | undefined
  /** Collector base URI, without a trailing slash. */
  baseUri: string
  /** Longest extra delay a call may wait for its event to be sent. */
  maxWaitMs: number
  /** Whether request and response bodies are sent at all. */
  logBody: boolean
  /** Body field names (case-insensitive, any depth) whose values are masked. */
  maskFields: readonly string[]
  /** How old the governance rules may get before a call refreshes them (`MOESIF_RULES_TTL`, given in seconds). */
  rulesTtlMs: number
}

/** Reads {@link MoesifSettings} when first needed; may throw a `ConfigError`. */
export type MoesifSettingsLoader = () => MoesifSettings

/** Default collector. */
export const MOESIF_DEFAULT_BASE_URI = 'https://api.moesif.net'

/** Default for `MOESIF_MAX_WAIT_MS`. */
export const MOESIF_DEFAULT_MAX_WAIT_MS = 100

/** Default for `MOESIF_RULES_TTL`, in seconds. */
export const MOESIF_DEFAULT_RULES_TTL_SECONDS = 60

/** Longest `MOESIF_RULES_TTL`: a day. */
const MOESIF_MAX_RULES_TTL_SECONDS = 86_400

/**
 * Read the Moesif settings from the environment. An empty value counts as
 * unset. A bad value throws a `ConfigError` naming the variable and what was
 * expected (never the value: the application id is a credential).
 *
 * - `MOESIF_APPLICATION_ID`: optional; Moesif is off without it.
 * - `MOESIF_BASE_URI`: an http(s) URL, default `https://api.moesif.net`.
 * - `MOESIF_MAX_WAIT_MS`: a non-negative integer, default 100.
 * - `MOESIF_LOG_BODY`: `true`, `false`, `1` or `0`, default true.
 * - `MOESIF_MASK_FIELDS`: comma-separated body field names, default none.
 * - `MOESIF_RULES_TTL`: whole seconds from 1 to 86400, default 60: how old the
 *   governance rules may get before a call refreshes them.
 *
 * @example
 * const settings = moesifSettingsFromEnv({ MOESIF_APPLICATION_ID: 'app-id', MOESIF_MASK_FIELDS: 'password,secret' })
 * settings.maxWaitMs // 100
 */
export function moesifSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): MoesifSettings {
  return Object.freeze({
    applicationId: readEnv(env, 'MOESIF_APPLICATION_ID'),
    baseUri: parseBaseUri(readEnv(env, 'MOESIF_BASE_URI')),
    maxWaitMs: parseMaxWaitMs(readEnv(env, 'MOESIF_MAX_WAIT_MS')),
    logBody: parseLogBody(readEnv(env, 'MOESIF_LOG_BODY')),
    maskFields: Object.freeze(readList(env, 'MOESIF_MASK_FIELDS') ?? []),
    rulesTtlMs: parseRulesTtlSeconds(readEnv(env, 'MOESIF_RULES_TTL')) * 1000
  })
}

function parseBaseUri(value: string | undefined): string {
  if (value === undefined) return MOESIF_DEFAULT_BASE_URI
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ConfigError('MOESIF_BASE_URI', 'an http(s) URL such as https://api.moesif.net')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('MOESIF_BASE_URI', 'an http(s) URL such as https://api.moesif.net')
  }
  return value.replace(/\/+$/, '')
}

function parseMaxWaitMs(value: string | undefined): number {
  if (value === undefined) return MOESIF_DEFAULT_MAX_WAIT_MS
  const ms = /^\d+$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(ms)) throw new ConfigError('MOESIF_MAX_WAIT_MS', 'a non-negative integer number of milliseconds')
  return ms
}

function parseRulesTtlSeconds(value: string | undefined): number {
  if (value === undefined) return MOESIF_DEFAULT_RULES_TTL_SECONDS
  const seconds = /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN
  if (!(seconds >= 1 && seconds <= MOESIF_MAX_RULES_TTL_SECONDS)) {
    throw new ConfigError('MOESIF_RULES_TTL', `a whole number of seconds from 1 to ${MOESIF_MAX_RULES_TTL_SECONDS}`)
  }
  return seconds
}

function parseLogBody(value: string | undefined): boolean {
  if (value === undefined) return true
  switch (value.toLowerCase()) {
    case 'true':
    case '1':
      return true
    case 'false':
    case '0':
      return false
    default:
      throw new ConfigError('MOESIF_LOG_BODY', 'one of true, false, 1, 0')
  }
}
