import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { configMiddleware } from '../../lib/runtime/config-middleware'
import { httpErrorsMiddleware } from '../../lib/http/http-errors-middleware'
import { Logger } from '../../lib/runtime/logger'
import { localOnly } from '../loopback-guard'
import { loadMoesifEventsFeedDeps, recentMoesifEvents } from '../moesif-events-feed'

const logger = new Logger({ service: 'local-moesif-events' })

/** Local stage only (config/local-functions.cjs): `GET /local/moesif-events`, what the local Moesif collector received. */
const config = configMiddleware({ load: (env) => loadMoesifEventsFeedDeps(env) })

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorsMiddleware(logger))
  // Only this machine's own page and programs: see src/local/loopback-guard.ts.
  .use(localOnly())
  .use(config)
  .handler(async () => recentMoesifEvents(config.current()))
