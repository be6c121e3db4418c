import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { configMiddleware } from '../../lib/runtime/config-middleware'
import { httpErrorsMiddleware } from '../../lib/http/http-errors-middleware'
import { HttpError } from '../../lib/runtime/errors'
import { Logger } from '../../lib/runtime/logger'
import { localOnly } from '../loopback-guard'
import { loadLocalStripeDeps, localStripeAction, localStripeStatus } from '../local-stripe'

const logger = new Logger({ service: 'local-stripe' })

/**
 * Local stage only (config/local-functions.cjs): the key console's stripe mode.
 * `GET /local/stripe`, `POST /local/stripe/subscribe`, `POST /local/stripe/cancel`
 * (see src/local/local-stripe.ts).
 */
const config = configMiddleware({ load: (env) => loadLocalStripeDeps(env) })

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorsMiddleware(logger))
  // Only this machine's own page and programs: see src/local/loopback-guard.ts.
  .use(localOnly())
  .use(config)
  .handler(async (event, context) => {
    logger.setPersistentKeys({ requestId: context.awsRequestId })
    const method = event.requestContext?.http?.method ?? 'GET'
    const path = event.rawPath ?? event.requestContext?.http?.path
    if (method === 'GET' && path === '/local/stripe') return localStripeStatus(config.current(), event)
    if (method === 'POST' && path === '/local/stripe/subscribe') return localStripeAction(config.current(), event, 'subscribe')
    if (method === 'POST' && path === '/local/stripe/cancel') return localStripeAction(config.current(), event, 'cancel')
    throw new HttpError(404, 'ERR_NOT_FOUND', 'Not Found')
  })
