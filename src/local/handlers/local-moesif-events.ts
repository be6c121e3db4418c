import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { configFrom, configMiddleware } from '../../lib/runtime/config-middleware'
import { httpErrorsMiddleware } from '../../lib/http/http-errors-middleware'
import { Logger } from '../../lib/runtime/logger'
import { loadMoesifEventsFeedDeps, recentMoesifEvents, type MoesifEventsFeedDeps } from '../moesif-events-feed'

const logger = new Logger({ service: 'local-moesif-events' })

/** Local stage only (config/local-functions.cjs): `GET /local/moesif-events`, what the local Moesif collector received. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorsMiddleware(logger))
  .use(configMiddleware({ load: (env) => loadMoesifEventsFeedDeps(env) }))
  .handler(async (_event, context) => recentMoesifEvents(configFrom<MoesifEventsFeedDeps>(context)))
