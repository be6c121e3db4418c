import type { MiddlewareObj } from '@middy/core'
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'
import { DevPortalKeysError } from './errors'
import { jsonResponse } from './http-response'
import type { Logger } from './logger'

/**
 * Turn any error into a JSON answer `{ message, code, requestId }`. A 4xx
 * whose error is marked `expose` keeps its message; everything else becomes a
 * generic 500 and the detail goes to the log only (by name, code and message:
 * errors here never carry secrets, and the logger scrubs token shapes anyway).
 *
 * @example
 * middy(core).use(httpErrorsMiddleware(logger))
 */
export function httpErrorsMiddleware(logger: Logger): MiddlewareObj<unknown, APIGatewayProxyStructuredResultV2, Error, Context> {
  return {
    name: 'http-errors',
    onError: (request) => {
      const error = request.error
      const requestId = request.context.awsRequestId
      if (error instanceof DevPortalKeysError && error.expose && error.statusCode < 500) {
        logger.info('request refused', { status: error.statusCode, code: error.code })
        request.response = jsonResponse(error.statusCode, { message: error.message, code: error.code, requestId })
        return
      }
      const code = error instanceof DevPortalKeysError ? error.code : 'ERR_INTERNAL'
      const status = error instanceof DevPortalKeysError && error.statusCode >= 500 ? error.statusCode : 500
      logger.error('request failed', { status, code, error })
      // The body stays generic: a misconfigured deploy is the operator's business, not the caller's.
      const body = status === 503 ? { message: 'Service Unavailable', code: 'ERR_UNAVAILABLE' } : { message: 'Internal Server Error', code: 'ERR_INTERNAL' }
      request.response = jsonResponse(status, { ...body, requestId })
    }
  }
}
