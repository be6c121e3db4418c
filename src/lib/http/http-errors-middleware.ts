import type { MiddlewareObj } from '@middy/core'
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'
import { DevPortalKeysError } from '../runtime/errors'
import { jsonResponse } from './http-response'
import type { Logger } from '../runtime/logger'

/**
 * The JSON answer `{ message, code, requestId }` for any thrown value. A 4xx
 * (an error with `statusCode` 400-499, ours or another library's) keeps its
 * message when marked `expose`; everything else becomes a generic 500 (or
 * 503), and the detail goes to the log only: by name, code, message and cause.
 * Errors here never carry secrets, and the logger scrubs token shapes anyway.
 *
 * @example
 * catch (error) { return errorToResponse(error, context.awsRequestId, logger) }
 */
export function errorToResponse(error: unknown, requestId: string, logger: Logger): APIGatewayProxyStructuredResultV2 {
  const fields =
    typeof error === 'object' && error !== null ? (error as { statusCode?: unknown; expose?: unknown; message?: unknown; code?: unknown }) : {}
  const status =
    typeof fields.statusCode === 'number' && Number.isInteger(fields.statusCode) && fields.statusCode >= 400 && fields.statusCode <= 599
      ? fields.statusCode
      : 500
  const code = error instanceof DevPortalKeysError ? error.code : status < 500 ? 'ERR_REFUSED' : 'ERR_INTERNAL'
  if (status < 500) {
    logger.info('request refused', { status, code })
    const message = fields.expose === true && typeof fields.message === 'string' ? fields.message : 'Request refused'
    return jsonResponse(status, { message, code, requestId })
  }
  logger.error('request failed', { status, code, error })
  // The body stays generic: a misconfigured deploy is the operator's business, not the caller's.
  const body =
    status === 503 ? { message: 'Service Unavailable', code: 'ERR_UNAVAILABLE' } : { message: 'Internal Server Error', code: 'ERR_INTERNAL' }
  return jsonResponse(status, { ...body, requestId })
}

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
