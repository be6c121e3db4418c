import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { httpErrorsMiddleware } from '../lib/http/http-errors-middleware'
import { jsonResponse } from '../lib/http/http-response'
import { Logger } from '../lib/runtime/logger'
import { OPENAPI_DOCUMENT } from '../lib/http/openapi'

const logger = new Logger({ service: 'openapi' })

/** `GET /openapi.json`: the OpenAPI 3.1 document of these endpoints. Open, like the JWKS. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorsMiddleware(logger))
  .handler(async () => jsonResponse(200, OPENAPI_DOCUMENT, { 'cache-control': 'public, max-age=300' }))
