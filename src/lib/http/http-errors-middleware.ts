import type { MiddlewareObj } from '@middy/core'
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'
import { errorToResponse } from './error-response'
import type { Logger } from '../runtime/logger'

/**
 * Middy middleware answering any error with {@link errorToResponse}.
 *
 * @example
 * middy(core).use(httpErrorsMiddleware(logger))
 */
export function httpErrorsMiddleware(logger: Logger): MiddlewareObj<unknown, APIGatewayProxyStructuredResultV2, Error, Context> {
  return {
    name: 'http-errors',
    onError: (request) => {
      request.response = errorToResponse(request.error, request.context.awsRequestId, logger)
    }
  }
}
