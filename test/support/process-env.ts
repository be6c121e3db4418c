/**
 * Set `process.env` for a handler test. Handlers read `process.env` when
 * their config middleware first runs, so a test sets it before invoking and
 * re-imports the handler module (vi.resetModules) for each configuration.
 */
import { vi } from 'vitest'
import type { EnvRecord } from './keys'

/** Every variable this project reads, so a value left in the shell cannot leak into a test. */
const PROJECT_VARIABLE =
  /^(PLUGIN_)?JWT_|^PORTAL_|^AUTH_PROVIDER$|^AUTH0_|^OKTA_|^LOG_LEVEL$|^KEYS_TABLE$|^DYNAMODB_ENDPOINT$|^REVOCATION_|^MOESIF_|^HTTP_API_THROTTLE_|^MAX_ACTIVE_KEYS_PER_COMPANY$|^APP_PAYMENT_PROVIDER$|^STRIPE_/

/**
 * Replace the project's variables in `process.env` with exactly `env` (via
 * vi.stubEnv; undo with vi.unstubAllEnvs in afterEach).
 *
 * @example
 * useProcessEnv(envFor('HS256'))
 */
export function useProcessEnv(env: EnvRecord): void {
  for (const name of Object.keys(process.env)) {
    if (PROJECT_VARIABLE.test(name)) vi.stubEnv(name, undefined)
  }
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value)
}
