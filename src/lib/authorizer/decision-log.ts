import { readEnv, type Env } from '../runtime/env'
import { ConfigError } from '../runtime/errors'

/**
 * Share of allow decisions the authorizer writes to the log when
 * `LOG_ALLOW_SAMPLE_RATE` is unset: one in a hundred. Deny decisions are
 * always written. A logged allow costs about 5 µs of CPU (as much as an HS256
 * verification) and a CloudWatch event; the per-request record of who called
 * what is API Gateway's access log and Moesif's event, not this line, which
 * API Gateway's authorizer cache already thins out. See the README
 * ("Decision logs") for the trade-off.
 */
export const DEFAULT_LOG_ALLOW_SAMPLE_RATE = 0.01

/** A decimal from 0 to 1: `0`, `1`, `0.05`, `.5`, `1.0`. No exponents, signs or percentages. */
const RATE = /^(?:[01](?:\.\d{1,12})?|\.\d{1,12})$/

/**
 * `LOG_ALLOW_SAMPLE_RATE`: the share of allow decisions written to the log, a
 * number from 0 (none) to 1 (every one); {@link DEFAULT_LOG_ALLOW_SAMPLE_RATE}
 * when unset. Anything else is a {@link ConfigError} naming the variable.
 *
 * @example
 * readAllowSampleRate({ LOG_ALLOW_SAMPLE_RATE: '0.25' }) // 0.25
 * readAllowSampleRate({}) // 0.01
 */
export function readAllowSampleRate(env: Env): number {
  const raw = readEnv(env, 'LOG_ALLOW_SAMPLE_RATE')
  if (raw === undefined) return DEFAULT_LOG_ALLOW_SAMPLE_RATE
  const rate = RATE.test(raw) ? Number(raw) : Number.NaN
  if (!(rate >= 0 && rate <= 1)) throw new ConfigError('LOG_ALLOW_SAMPLE_RATE', 'a number from 0 to 1 (the share of allow decisions logged)')
  return rate
}

/**
 * Whether to log this allow decision: true for a share `rate` of calls, at
 * random (`Math.random()` is in [0, 1), so 1 always logs and 0 never does).
 * Each call is drawn on its own, so no key or client can steer which of its
 * calls are logged.
 *
 * @example
 * if (sampled(config.allowSampleRate)) logger.info('allow', { decision: 'allow', keyId, orgId })
 */
export function sampled(rate: number): boolean {
  return Math.random() < rate
}
