/**
 * The one place a thrown value becomes an HTTP answer: used by
 * `httpErrorsMiddleware` for middy handlers and by `withMoesif` around the
 * protected API, so both answer and log failures alike.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { DevPortalKeysError } from '../runtime/errors'
import type { Logger } from '../runtime/logger'
import { jsonResponse } from './http-response'

/**
 * The JSON answer `{ message, code, requestId }` for any thrown value. A 4xx
 * (an error with `statusCode` 400-499, ours or another library's) keeps its
 * message when marked `expose`; everything else becomes a generic 500 (or
 * 503), and the detail goes to the log only: by name, code, message and cause.
 * A 5xx of ours marked `expose` (a dependency that is down, such as billing)
 * keeps its code and message, so the portal can say "try again".
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
  if (error instanceof DevPortalKeysError && error.expose) return jsonResponse(status, { message: error.message, code, requestId })
  // The body stays generic: a misconfigured deploy is the operator's business, not the caller's.
  const body =
    status === 503 ? { message: 'Service Unavailable', code: 'ERR_UNAVAILABLE' } : { message: 'Internal Server Error', code: 'ERR_INTERNAL' }
  return jsonResponse(status, { ...body, requestId })
}
