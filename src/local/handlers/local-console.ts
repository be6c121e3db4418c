import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { httpErrorsMiddleware } from '../../lib/http/http-errors-middleware'
import { Logger } from '../../lib/runtime/logger'
import { localOnly } from '../loopback-guard'
import { consoleAsset } from '../console-assets'

const logger = new Logger({ service: 'local-console' })

/**
 * Local stage only (config/local-functions.cjs): `GET /` serves the key
 * console page, `GET /local/console.js` and `/local/console.css` its files.
 */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorsMiddleware(logger))
  // Only this machine's own page and programs: see src/local/loopback-guard.ts.
  .use(localOnly())
  .handler(async (event) => consoleAsset(process.env.LOCAL_CONSOLE_DIR || 'src/local/console', event.rawPath ?? event.requestContext.http.path))
