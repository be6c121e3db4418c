import type { MiddlewareObj } from '@middy/core'
import type { Context } from 'aws-lambda'
import type { Env } from './env'

/** A {@link configMiddleware}: use it on the handler, then read the typed config with `current()`. */
export interface ConfigMiddleware<T> extends MiddlewareObj<unknown, unknown, Error, Context> {
  /**
   * The loaded, frozen config. Valid inside the handler (and later
   * middlewares) of the middy chain this middleware runs in; before the first
   * successful load it throws.
   */
  readonly current: () => T
}

/**
 * Middy middleware that loads and validates configuration once per cold
 * start; the handler reads the same frozen, typed object with `current()` on
 * every invocation. The config's type is what `load` returns, so no handler
 * casts, and the handler keeps the plain Lambda `Context` the runtime passes.
 *
 * `load` may be async: secrets fetched from SSM or Secrets Manager are part of
 * the load (see `envWithSecrets` in src/lib/keys/secret-sources.ts), so a bad
 * setting and a missing secret fail the same way, on the first request, as a
 * `ConfigError` or a store error. A failed load is not cached: the next
 * invocation tries again, which matters when the failure was a throttled
 * secret store rather than a bad variable.
 *
 * @example
 * const config = configMiddleware({ load: async (env) => loadApiKeyConfig(await envWithSecrets(env, 'verify'), 'verify') })
 * export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>()
 *   .use(config)
 *   .handler(async (event) => core(config.current(), event))
 */
export function configMiddleware<T extends object>(options: { load: (env: Env) => T | Promise<T>; env?: Env }): ConfigMiddleware<T> {
  if (typeof options.load !== 'function') throw new TypeError('configMiddleware: options.load must be a function')
  const env = options.env ?? process.env
  let loaded: Promise<T> | undefined
  let ready: T | undefined

  return {
    name: 'config',
    before: async () => {
      // Warm path: nothing to await once the config is known.
      if (ready !== undefined) return
      loaded ??= Promise.resolve()
        .then(() => options.load(env))
        .then((config) => Object.freeze(config))
      try {
        ready = await loaded
      } catch (error) {
        loaded = undefined
        throw error
      }
    },
    current: () => {
      if (ready === undefined)
        throw new TypeError('configMiddleware: current() called before the config was loaded (is the middleware in the chain?)')
      return ready
    }
  }
}
