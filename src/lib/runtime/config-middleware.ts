import type { MiddlewareObj } from '@middy/core'
import type { Context } from 'aws-lambda'
import type { Env } from './env'

/** The Lambda context once {@link configMiddleware} has run: it carries the frozen config. */
export type ContextWithConfig<T> = Context & { config: T }

/**
 * Middy middleware that loads and validates configuration once per cold
 * start and hands every invocation the same frozen object on
 * `context.config`.
 *
 * `load` receives the environment and the Lambda context, so values that an
 * earlier middleware put on the context (a secret from SSM, say) can take part.
 * A failed load is not cached: the next invocation tries again, which matters
 * when the failure was a throttled secret store rather than a bad variable.
 *
 * @example
 * middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>()
 *   .use(configMiddleware({ load: (env) => loadApiKeyConfig(env, 'verify') }))
 *   .handler(async (event, context) => core(configFrom<ApiKeyConfig>(context), event))
 */
export function configMiddleware<T extends object>(options: {
  load: (env: Env, context: Context) => T | Promise<T>
  env?: Env
}): MiddlewareObj<unknown, unknown, Error, Context> {
  if (typeof options.load !== 'function') throw new TypeError('configMiddleware: options.load must be a function')
  const env = options.env ?? process.env
  let loaded: Promise<T> | undefined
  let ready: T | undefined

  return {
    name: 'config',
    before: async (request) => {
      // Warm path: no promise to await once the config is known.
      if (ready !== undefined) {
        ;(request.context as ContextWithConfig<T>).config = ready
        return
      }
      loaded ??= Promise.resolve()
        .then(() => options.load(env, request.context))
        .then((config) => Object.freeze(config))
      try {
        ready = await loaded
        ;(request.context as ContextWithConfig<T>).config = ready
      } catch (error) {
        loaded = undefined
        throw error
      }
    }
  }
}

/**
 * The config {@link configMiddleware} put on the context. Handlers keep the
 * plain Lambda `Context` type (that is what the runtime passes) and read the
 * config through this.
 *
 * @example
 * const apiKeys = configFrom<ApiKeyConfig>(context)
 */
export function configFrom<T>(context: Context): T {
  const config = (context as Partial<ContextWithConfig<T>>).config
  if (config === undefined) throw new TypeError('configFrom: configMiddleware has not run for this handler')
  return config
}
