/** errorToResponse: every thrown value becomes a JSON answer, and its detail goes to the log only. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { errorToResponse } from '../../../src/lib/http/error-response'
import { ConfigError, HttpError } from '../../../src/lib/runtime/errors'
import { Logger, setLogSink } from '../../../src/lib/runtime/logger'

const REQUEST_ID = 'req-error-response'
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }

let lines: Record<string, unknown>[] = []
let restoreSink: () => void = () => undefined
const logger = new Logger({ service: 'error-response-test', level: 'DEBUG' })

beforeEach(() => {
  lines = []
  restoreSink = setLogSink((line) => lines.push(JSON.parse(line) as Record<string, unknown>))
})

afterEach(() => {
  restoreSink()
})

const bodyOf = (response: { body?: string }): unknown => JSON.parse(response.body ?? 'null')

describe('errorToResponse for server errors', () => {
  it('answers a plain error with a generic 500 and logs its name, message and cause, never its stack', () => {
    // Prepare
    const error = new Error('database password is hunter2', { cause: new Error('deeper detail') })

    // Act
    const response = errorToResponse(error, REQUEST_ID, logger)

    // Assess
    expect(response).toEqual({
      statusCode: 500,
      headers: JSON_HEADERS,
      body: JSON.stringify({ message: 'Internal Server Error', code: 'ERR_INTERNAL', requestId: REQUEST_ID })
    })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ level: 'ERROR', message: 'request failed', status: 500, code: 'ERR_INTERNAL' })
    expect(lines[0]?.error).toEqual({ name: 'Error', message: 'database password is hunter2', cause: { name: 'Error', message: 'deeper detail' } })
    expect(JSON.stringify(lines)).not.toContain('    at ')
  })

  it('answers a ConfigError with the same generic 500 and logs its code and the variable', () => {
    // Act
    const response = errorToResponse(new ConfigError('MOESIF_MAX_WAIT_MS', 'a non-negative integer number of milliseconds'), REQUEST_ID, logger)

    // Assess
    expect(response.statusCode).toBe(500)
    expect(bodyOf(response)).toEqual({ message: 'Internal Server Error', code: 'ERR_INTERNAL', requestId: REQUEST_ID })
    expect(response.body).not.toContain('MOESIF')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({
      level: 'ERROR',
      status: 500,
      code: 'ERR_CONFIG',
      error: {
        name: 'ConfigError',
        code: 'ERR_CONFIG',
        message: 'Invalid configuration: MOESIF_MAX_WAIT_MS must be a non-negative integer number of milliseconds'
      }
    })
  })

  it('answers a 503 with a generic Service Unavailable', () => {
    // Act
    const response = errorToResponse(Object.assign(new Error('secret store throttled'), { statusCode: 503, expose: true }), REQUEST_ID, logger)

    // Assess
    expect(response.statusCode).toBe(503)
    expect(bodyOf(response)).toEqual({ message: 'Service Unavailable', code: 'ERR_UNAVAILABLE', requestId: REQUEST_ID })
    expect(lines[0]).toMatchObject({ level: 'ERROR', status: 503, code: 'ERR_INTERNAL' })
  })

  it('never shows the message of an exposed 5xx', () => {
    // Act
    const response = errorToResponse(Object.assign(new Error('upstream exploded'), { statusCode: 502, expose: true }), REQUEST_ID, logger)

    // Assess
    expect(response.statusCode).toBe(502)
    expect(bodyOf(response)).toEqual({ message: 'Internal Server Error', code: 'ERR_INTERNAL', requestId: REQUEST_ID })
  })

  it.each([
    ['a 2xx statusCode', Object.assign(new Error('x'), { statusCode: 200 })],
    ['a statusCode above 599', Object.assign(new Error('x'), { statusCode: 600 })],
    ['a fractional statusCode', Object.assign(new Error('x'), { statusCode: 404.5 })],
    ['a string statusCode', Object.assign(new Error('x'), { statusCode: '404' })],
    ['a thrown string', 'boom'],
    ['a thrown undefined', undefined],
    ['a thrown null', null]
  ])('answers %s with a generic 500', (_label, thrown) => {
    // Act
    const response = errorToResponse(thrown, REQUEST_ID, logger)

    // Assess
    expect(response.statusCode).toBe(500)
    expect(bodyOf(response)).toEqual({ message: 'Internal Server Error', code: 'ERR_INTERNAL', requestId: REQUEST_ID })
    expect(lines.map((l) => l.level)).toEqual(['ERROR'])
  })
})

describe('errorToResponse for client errors', () => {
  it('keeps the status, code and message of an exposed HttpError, and logs at INFO without the message', () => {
    // Act
    const response = errorToResponse(new HttpError(400, 'ERR_BAD_BODY', 'Body must be a JSON object'), REQUEST_ID, logger)

    // Assess
    expect(response).toEqual({
      statusCode: 400,
      headers: JSON_HEADERS,
      body: JSON.stringify({ message: 'Body must be a JSON object', code: 'ERR_BAD_BODY', requestId: REQUEST_ID })
    })
    expect(lines).toEqual([expect.objectContaining({ level: 'INFO', message: 'request refused', status: 400, code: 'ERR_BAD_BODY' })])
    expect(JSON.stringify(lines)).not.toContain('Body must be')
  })

  it("keeps another library's exposed 4xx message under ERR_REFUSED", () => {
    // Act
    const response = errorToResponse(Object.assign(new Error('short and stout'), { statusCode: 418, expose: true }), REQUEST_ID, logger)

    // Assess
    expect(response.statusCode).toBe(418)
    expect(bodyOf(response)).toEqual({ message: 'short and stout', code: 'ERR_REFUSED', requestId: REQUEST_ID })
  })

  it.each([
    ['expose false', { expose: false }],
    ['no expose', {}],
    ['expose not a boolean', { expose: 'yes' }]
  ])('hides a 4xx message with %s', (_label, extra) => {
    // Act
    const response = errorToResponse(Object.assign(new Error('internal reason'), { statusCode: 403 }, extra), REQUEST_ID, logger)

    // Assess
    expect(response.statusCode).toBe(403)
    expect(bodyOf(response)).toEqual({ message: 'Request refused', code: 'ERR_REFUSED', requestId: REQUEST_ID })
    expect(JSON.stringify(lines)).not.toContain('internal reason')
  })

  it('hides an exposed 4xx message that is not a string', () => {
    // Act
    const response = errorToResponse({ statusCode: 404, expose: true, message: { detail: 'x' } }, REQUEST_ID, logger)

    // Assess
    expect(bodyOf(response)).toEqual({ message: 'Request refused', code: 'ERR_REFUSED', requestId: REQUEST_ID })
  })
})
