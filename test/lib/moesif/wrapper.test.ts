/**
 * withMoesif: the real moesif-aws-lambda (patched) against a fake collector on
 * loopback. Nothing here is mocked: events are what the library actually POSTed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Logger, setLogSink } from '../../../src/lib/runtime/logger'
import { ConfigError } from '../../../src/lib/runtime/errors'
import { withMoesif, type ApiEvent, type ApiHandler } from '../../../src/lib/moesif/wrapper'
import { closedPortBaseUri, startMoesifCollector, type MoesifCollector, type MoesifWireEvent } from '../../../src/local/moesif-collector'
// The library's config manager is a process-wide singleton: resetLibraryState makes every case start with "no config
// yet", so each call fetches /v1/config from that case's collector (the fetch whose error path crashed).
import { APPLICATION_ID, configManager, lambdaContext, recordCrashes, resetLibraryState, settingsFor } from './fixtures'

const BEARER = 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl'
const COOKIE_SECRET = 'session=cookie-secret-value'
const API_KEY_SECRET = 'x-api-key-secret-value'
const BODY_SECRET = 'body-secret-value'

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return true
}

function apiEvent(overrides: { headers?: Record<string, string>; body?: string; authorizer?: Record<string, unknown> | undefined } = {}): ApiEvent {
  const event: ApiEvent = {
    version: '2.0',
    routeKey: 'POST /v1/widgets',
    rawPath: '/v1/widgets',
    rawQueryString: 'page=2',
    headers: { 'content-type': 'application/json', 'x-trace': 'trace-1', ...overrides.headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api-id',
      authorizer: { lambda: overrides.authorizer ?? { orgId: 'org-42', userId: 'user-7' } },
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: { method: 'POST', path: '/v1/widgets', protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'vitest' },
      requestId: 'gateway-request-id',
      routeKey: 'POST /v1/widgets',
      stage: '$default',
      time: '28/Nov/2026:16:00:00 +0000',
      timeEpoch: Date.now()
    },
    isBase64Encoded: false
  }
  if (overrides.body !== undefined) event.body = overrides.body
  return event
}

const okResult = {
  statusCode: 201,
  headers: { 'content-type': 'application/json', 'Set-Cookie': 'session=response-cookie-secret; HttpOnly' },
  body: JSON.stringify({ id: 'widget-1', owner: { name: 'Ada', secret: BODY_SECRET } })
}
const okHandler: ApiHandler = async () => structuredClone(okResult)

function eventFor(events: readonly MoesifWireEvent[], traceId: string): MoesifWireEvent {
  const found = events.find((e) => e.metadata?.trace_id === traceId)
  if (found === undefined) throw new Error(`no event with trace_id ${traceId}`)
  return found
}

// A crash in the library surfaces as an unhandled rejection (its callbacks run
// inside axios' promise chain), which Node and the Lambda runtime turn into a
// process exit. Both hooks are watched for the whole file.
const crashes = recordCrashes()

let logLines: Record<string, unknown>[] = []
let restoreSink: () => void = () => undefined
let collector: MoesifCollector | undefined
const logger = new Logger({ service: 'moesif-test', level: 'DEBUG' })

beforeEach(() => {
  resetLibraryState()
  logLines = []
  restoreSink = setLogSink((line) => logLines.push(JSON.parse(line) as Record<string, unknown>))
})

afterEach(async () => {
  restoreSink()
  await collector?.close()
  collector = undefined
})

describe('withMoesif against a healthy collector', () => {
  it('sends one masked, identified event per call', async () => {
    // Prepare
    collector = await startMoesifCollector({ mode: 'healthy' })
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, maskFields: ['password', 'Secret'] }), logger)
    const requestHeaders: Record<string, string>[] = [
      { Authorization: BEARER, Cookie: COOKIE_SECRET, 'X-Api-Key': API_KEY_SECRET },
      { authorization: BEARER, cookie: COOKIE_SECRET, 'x-api-key': API_KEY_SECRET },
      { AUTHORIZATION: BEARER, COOKIE: COOKIE_SECRET, 'X-API-KEY': API_KEY_SECRET }
    ]
    const body = JSON.stringify({ name: 'w', credentials: [{ PASSWORD: BODY_SECRET, hint: 'kept' }] })

    // Act
    const results = []
    for (const [i, headers] of requestHeaders.entries()) {
      results.push(await handler(apiEvent({ headers, body }), lambdaContext(`req-${i}`)))
    }
    const events = await collector.waitForEvents(requestHeaders.length, 2_000)

    // Assess
    expect(results).toEqual(requestHeaders.map(() => okResult))
    expect(events).toHaveLength(requestHeaders.length)
    expect(collector.malformedPayloads).toBe(0)
    expect(collector.requests.filter((r) => r.path === '/v1/events').every((r) => r.applicationId === APPLICATION_ID)).toBe(true)
    for (const [i, headers] of requestHeaders.entries()) {
      const event = eventFor(events, `req-${i}`)
      expect(event.company_id).toBe('org-42')
      expect(event.user_id).toBe('user-7')
      expect(event.session_token).toBeUndefined()
      expect(event.metadata).toEqual({ trace_id: `req-${i}`, function_name: 'protected-api' })
      expect(event.request.verb).toBe('POST')
      expect(event.request.uri).toBe('/v1/widgets?page=2')
      for (const name of Object.keys(headers)) expect(event.request.headers?.[name]).toBe('*****')
      expect(event.request.headers?.['x-trace']).toBe('trace-1')
      expect(event.request.body).toEqual({ name: 'w', credentials: [{ PASSWORD: '*****', hint: 'kept' }] })
      expect(event.response.status).toBe(201)
      expect(event.response.headers?.['Set-Cookie']).toBe('*****')
      expect(event.response.headers?.['content-type']).toBe('application/json')
      expect(event.response.body).toEqual({ id: 'widget-1', owner: { name: 'Ada', secret: '*****' } })
    }
    const wire = JSON.stringify(events)
    for (const secret of ['eyJhbGci', 'cookie-secret-value', API_KEY_SECRET, BODY_SECRET, 'response-cookie-secret', 'gateway-request-id']) {
      expect(wire).not.toContain(secret)
    }
  })

  it('sends no bodies when logBody is false', async () => {
    // Prepare
    collector = await startMoesifCollector({ mode: 'healthy' })
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, logBody: false }), logger)

    // Act
    const result = await handler(apiEvent({ body: JSON.stringify({ a: 1 }) }), lambdaContext('no-body'))
    const [event] = await collector.waitForEvents(1, 2_000)

    // Assess
    expect(result).toEqual(okResult)
    expect(event?.response.status).toBe(201)
    expect(event?.request).not.toHaveProperty('body')
    expect(event?.response).not.toHaveProperty('body')
  })

  it('records a returned 502 as 502', async () => {
    // Prepare
    const announced: MoesifWireEvent[] = []
    collector = await startMoesifCollector({ mode: 'healthy', onEvent: (event) => announced.push(event) })
    const badGateway = { statusCode: 502, body: JSON.stringify({ message: 'upstream down' }) }
    const handler = withMoesif(async () => ({ ...badGateway }), settingsFor({ baseUri: collector.baseUri }), logger)

    // Act
    const result = await handler(apiEvent(), lambdaContext('returned-502'))
    const [event] = await collector.waitForEvents(1, 2_000)

    // Assess
    expect(result).toEqual(badGateway)
    expect(event?.response.status).toBe(502)
    expect(announced).toEqual([event])
  })

  it('turns a thrown error into a generic 500, logs it, and records 500', async () => {
    // Prepare
    collector = await startMoesifCollector({ mode: 'healthy' })
    const failure = new Error('database password is hunter2', { cause: new Error('deeper detail') })
    const handler = withMoesif(
      async () => {
        throw failure
      },
      settingsFor({ baseUri: collector.baseUri }),
      logger
    )

    // Act
    const result = await handler(apiEvent(), lambdaContext('thrown-500'))
    const [event] = await collector.waitForEvents(1, 2_000)

    // Assess
    expect(result.statusCode).toBe(500)
    expect(JSON.parse(result.body ?? '')).toEqual({ message: 'Internal Server Error', code: 'ERR_INTERNAL', requestId: 'thrown-500' })
    expect(event?.response.status).toBe(500)
    expect(event?.response.body).toEqual({ message: 'Internal Server Error', code: 'ERR_INTERNAL', requestId: 'thrown-500' })
    const errors = logLines.filter((l) => l.level === 'ERROR')
    expect(errors).toHaveLength(1)
    // Name, message and cause (for the operator), never the stack; the body above stays generic.
    expect(errors[0]?.error).toEqual({ name: 'Error', message: 'database password is hunter2', cause: { name: 'Error', message: 'deeper detail' } })
    expect(JSON.stringify(errors)).not.toContain('    at ')
  })

  it('keeps the status of a thrown 4xx and shows its message only with expose', async () => {
    // Prepare
    collector = await startMoesifCollector({ mode: 'healthy' })
    const teapot = Object.assign(new Error('short and stout'), { statusCode: 418, expose: true })
    const hidden = Object.assign(new Error('internal reason'), { statusCode: 403, expose: false })
    const invalid = Object.assign(new Error('not an error status'), { statusCode: 200 })
    const thrown = new Map<string, Error>([
      ['teapot', teapot],
      ['hidden', hidden],
      ['invalid', invalid]
    ])
    const handler = withMoesif(
      async (_event, context) => {
        throw thrown.get(context.awsRequestId)
      },
      settingsFor({ baseUri: collector.baseUri }),
      logger
    )

    // Act
    const teapotResult = await handler(apiEvent(), lambdaContext('teapot'))
    const hiddenResult = await handler(apiEvent(), lambdaContext('hidden'))
    const invalidResult = await handler(apiEvent(), lambdaContext('invalid'))
    const events = await collector.waitForEvents(3, 2_000)

    // Assess
    expect(teapotResult.statusCode).toBe(418)
    expect(JSON.parse(teapotResult.body ?? '')).toEqual({ message: 'short and stout', code: 'ERR_REFUSED', requestId: 'teapot' })
    expect(eventFor(events, 'teapot').response.status).toBe(418)
    expect(hiddenResult.statusCode).toBe(403)
    expect(JSON.parse(hiddenResult.body ?? '')).toEqual({ message: 'Request refused', code: 'ERR_REFUSED', requestId: expect.any(String) })
    expect(eventFor(events, 'hidden').response.status).toBe(403)
    expect(invalidResult.statusCode).toBe(500)
    expect(eventFor(events, 'invalid').response.status).toBe(500)
  })

  it('hands each concurrent call its own result', async () => {
    // Prepare
    collector = await startMoesifCollector({ mode: 'healthy' })
    const handler = withMoesif(
      async (_event, context) => {
        const delayMs = (Number(context.awsRequestId.split('-')[1]) * 7) % 30
        await new Promise((resolve) => setTimeout(resolve, delayMs))
        return { statusCode: 200, body: JSON.stringify({ requestId: context.awsRequestId }) }
      },
      settingsFor({ baseUri: collector.baseUri }),
      logger
    )
    const ids = Array.from({ length: 8 }, (_, i) => `concurrent-${i}`)

    // Act
    const results = await Promise.all(ids.map((id) => handler(apiEvent(), lambdaContext(id))))
    const events = await collector.waitForEvents(ids.length, 2_000)

    // Assess
    expect(results.map((r) => JSON.parse(r.body ?? '') as unknown)).toEqual(ids.map((requestId) => ({ requestId })))
    for (const id of ids) expect(eventFor(events, id).response.body).toEqual({ requestId: id })
  })

  it('passes through an event the library cannot record (no HTTP method) without failing', async () => {
    // Prepare
    collector = await startMoesifCollector({ mode: 'healthy' })
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri }), logger)
    const event = apiEvent()
    delete (event.requestContext as Partial<ApiEvent['requestContext']>).http

    // Act
    const result = await handler(event, lambdaContext('no-method'))
    await new Promise((resolve) => setTimeout(resolve, 100))

    // Assess
    expect(result).toEqual(okResult)
    expect(collector.events).toEqual([])
    expect(logLines.filter((l) => l.level === 'WARN')).toEqual([])
    expect(crashes).toEqual([])
  })

  it('sends no user or company when the authorizer context lacks them', async () => {
    // Prepare
    collector = await startMoesifCollector({ mode: 'healthy' })
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri }), logger)

    // Act
    await handler(apiEvent({ authorizer: {} }), lambdaContext('anonymous'))
    const [event] = await collector.waitForEvents(1, 2_000)

    // Assess
    expect(event).not.toHaveProperty('user_id')
    expect(event).not.toHaveProperty('company_id')
  })
})

describe('withMoesif when the collector misbehaves', () => {
  it('does not crash when the collector is down, and returns the response intact', async () => {
    // Prepare
    const baseUri = await closedPortBaseUri()
    const handler = withMoesif(okHandler, settingsFor({ baseUri }), logger)
    // Record that the library really starts its config fetch (the call path that crashed unpatched):
    // the library is loaded on the first call, so the fetch starts asynchronously.
    let configFetchStarted = false
    let loading = configManager._loadingConfig
    Object.defineProperty(configManager, '_loadingConfig', {
      configurable: true,
      get: () => loading,
      set: (value: boolean) => {
        if (value) configFetchStarted = true
        loading = value
      }
    })

    // Act
    let result: Awaited<ReturnType<typeof handler>>
    let configFetchFinished: boolean
    try {
      result = await handler(apiEvent(), lambdaContext('down'))
      configFetchFinished = await waitUntil(() => configManager._loadingConfig === false, 1_000)
      await new Promise((resolve) => setTimeout(resolve, 50)) // let a rejection from that callback surface
    } finally {
      delete (configManager as { _loadingConfig?: boolean })._loadingConfig
      configManager._loadingConfig = loading
    }

    // Assess
    expect(configFetchStarted).toBe(true)
    expect(configFetchFinished).toBe(true)
    expect(crashes).toEqual([])
    expect(result).toEqual(okResult)
    expect(logLines.some((l) => l.level === 'WARN' && l.message === 'moesif event not sent')).toBe(true)
  })

  it('bounds the extra delay when the collector hangs, and does not crash when it drops the connection', async () => {
    // Prepare
    collector = await startMoesifCollector({ mode: 'hang' })
    const maxWaitMs = 150
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, maxWaitMs }), logger)
    const durations: number[] = []

    // Act
    for (let i = 0; i < 3; i++) {
      const started = performance.now()
      const result = await handler(apiEvent(), lambdaContext(`hang-${i}`))
      durations.push(performance.now() - started)
      expect(result).toEqual(okResult)
    }
    const eventPosts = collector.requests.filter((r) => r.path === '/v1/events').length
    const configFetchPending = configManager._loadingConfig === true
    await collector.close() // the hung requests now fail without a response
    const configFetchFinished = await waitUntil(() => configManager._loadingConfig === false, 1_000)
    await new Promise((resolve) => setTimeout(resolve, 50))

    // Assess
    expect(eventPosts).toBe(3)
    expect(configFetchPending).toBe(true)
    expect(configFetchFinished).toBe(true)
    for (const duration of durations) {
      expect(duration).toBeLessThan(maxWaitMs + 400)
      expect(duration).toBeGreaterThanOrEqual(maxWaitMs - 20) // it does give the send its chance
    }
    expect(crashes).toEqual([])
  })
})

describe('withMoesif without an application id', () => {
  it('logs once that Moesif is off, sends nothing, and still converts errors', async () => {
    // Prepare
    collector = await startMoesifCollector({ mode: 'healthy' })
    const failing: ApiHandler = async () => {
      throw new Error('boom')
    }

    // Act
    const handler = withMoesif(failing, settingsFor({ applicationId: undefined, baseUri: collector.baseUri }), logger)
    const startupLines = [...logLines]
    const result = await handler(apiEvent(), lambdaContext('disabled'))
    await new Promise((resolve) => setTimeout(resolve, 100))

    // Assess
    expect(startupLines).toHaveLength(1)
    expect(startupLines[0]).toMatchObject({ level: 'INFO', message: 'moesif disabled: MOESIF_APPLICATION_ID is not set' })
    expect(result.statusCode).toBe(500)
    expect(JSON.parse(result.body ?? '')).toEqual({ message: 'Internal Server Error', code: 'ERR_INTERNAL', requestId: 'disabled' })
    expect(collector.requests).toEqual([])
  })
})

describe('withMoesif with a settings loader', () => {
  it('reads the settings on the first call only, and logs that Moesif is off then, once', async () => {
    // Prepare
    collector = await startMoesifCollector({ mode: 'healthy' })
    const baseUri = collector.baseUri
    let loads = 0
    const handler = withMoesif(
      okHandler,
      () => {
        loads++
        return settingsFor({ applicationId: undefined, baseUri })
      },
      logger
    )
    const linesAtWrap = [...logLines]
    const loadsAtWrap = loads

    // Act
    const results = [await handler(apiEvent(), lambdaContext('lazy-1')), await handler(apiEvent(), lambdaContext('lazy-2'))]
    await new Promise((resolve) => setTimeout(resolve, 100))

    // Assess
    expect(linesAtWrap).toEqual([])
    expect(loadsAtWrap).toBe(0)
    expect(loads).toBe(1)
    expect(results).toEqual([okResult, okResult])
    expect(logLines).toHaveLength(1)
    expect(logLines[0]).toMatchObject({ level: 'INFO', message: 'moesif disabled: MOESIF_APPLICATION_ID is not set' })
    expect(collector.requests).toEqual([])
  })

  it('reports calls with the settings it loaded', async () => {
    // Prepare
    collector = await startMoesifCollector({ mode: 'healthy' })
    const baseUri = collector.baseUri
    const handler = withMoesif(okHandler, () => settingsFor({ baseUri }), logger)

    // Act
    const result = await handler(apiEvent(), lambdaContext('lazy-reported'))
    const [event] = await collector.waitForEvents(1, 2_000)

    // Assess
    expect(result).toEqual(okResult)
    expect(event?.metadata).toEqual({ trace_id: 'lazy-reported', function_name: 'protected-api' })
    expect(event?.response.status).toBe(201)
  })

  it('answers a failed load with a generic 500, logs the error naming the variable, and loads again on the next call', async () => {
    // Prepare
    collector = await startMoesifCollector({ mode: 'healthy' })
    const baseUri = collector.baseUri
    let loads = 0
    let handlerCalls = 0
    const handler = withMoesif(
      async () => {
        handlerCalls++
        return structuredClone(okResult)
      },
      () => {
        loads++
        if (loads === 1) throw new ConfigError('MOESIF_MAX_WAIT_MS', 'a non-negative integer number of milliseconds')
        return settingsFor({ baseUri })
      },
      logger
    )

    // Act
    const failed = await handler(apiEvent(), lambdaContext('config-bad'))
    const linesAfterFailure = [...logLines]
    const recovered = await handler(apiEvent(), lambdaContext('config-fixed'))
    const events = await collector.waitForEvents(1, 2_000)

    // Assess
    expect(failed.statusCode).toBe(500)
    expect(failed.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
    expect(JSON.parse(failed.body ?? '')).toEqual({ message: 'Internal Server Error', code: 'ERR_INTERNAL', requestId: 'config-bad' })
    expect(linesAfterFailure).toHaveLength(1)
    expect(linesAfterFailure[0]).toMatchObject({
      level: 'ERROR',
      message: 'request failed',
      status: 500,
      code: 'ERR_CONFIG',
      error: { name: 'ConfigError', message: 'Invalid configuration: MOESIF_MAX_WAIT_MS must be a non-negative integer number of milliseconds' }
    })
    expect(loads).toBe(2)
    expect(handlerCalls).toBe(1)
    expect(recovered).toEqual(okResult)
    expect(events.map((e) => e.metadata?.trace_id)).toEqual(['config-fixed'])
  })
})
