import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { httpErrorsMiddleware } from '../../lib/http/http-errors-middleware'
import { configMiddleware } from '../../lib/runtime/config-middleware'
import type { Env } from '../../lib/runtime/env'
import { Logger } from '../../lib/runtime/logger'

type HttpCore<T> = (deps: T, event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>

/**
 * A deployable HTTP API handler around a core from src/lib: `load` builds the
 * core's dependencies (config and fetched secrets) once per cold start,
 * every request gets its id on the log lines, and any error becomes the JSON
 * answer `{ message, code, requestId }`.
 *
 * @example
 * export const handler = httpHandler('list-keys', (env) => loadPortalKeysDeps(env), listKeys)
 */
export function httpHandler<T extends object>(service: string, load: (env: Env, logger: Logger) => T | Promise<T>, core: HttpCore<T>) {
  const logger = new Logger({ service })
  const config = configMiddleware({ load: (env) => load(env, logger) })
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(httpErrorsMiddleware(logger))
    .use(config)
    .handler(async (event, context) => {
      logger.setPersistentKeys({ requestId: context.awsRequestId })
      return core(config.current(), event)
    })
}
