/**
 * Issue 10, finding 2: whatever the body, every call gives exactly one event.
 * A corpus of hostile bodies goes through withMoesif and the real (patched)
 * moesif-aws-lambda to a collector on loopback, as request bodies and as
 * response bodies: N calls must give N events, each with the body logged or
 * replaced by the marker (and `metadata.body_not_logged` saying why), and the
 * caller must get the handler's own answer.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BODY_NOT_LOGGED, MOESIF_MAX_BODY_DEPTH } from '../../../src/lib/moesif/bodies'
import { withMoesif, type ApiEvent } from '../../../src/lib/moesif/wrapper'
import { Logger } from '../../../src/lib/runtime/logger'
import { startMoesifCollector, type MoesifCollector, type MoesifWireEvent } from '../../../src/local/moesif-collector'
import { apiEvent, captureLogs, lambdaContext, linesOf, recordCrashes, resetLibraryState, settingsFor, sleep } from './fixtures'

const base64 = (bytes: Buffer | string): string => Buffer.from(bytes).toString('base64')
const nestedArrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth)
const nestedObjects = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
const manyKeys = (count: number): string => JSON.stringify(Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, i])))

interface HostileBody {
  name: string
  body: unknown
  isBase64Encoded?: boolean
  /** Why it is not logged, or undefined when it is logged. */
  notLogged?: string
  /** How it must arrive when logged (default: not checked beyond "no marker"). */
  arrives?: (body: unknown, transferEncoding: string | undefined) => void
}

const json = (text: string) => (body: unknown, transferEncoding: string | undefined) => {
  expect(transferEncoding).toBeUndefined()
  expect(JSON.stringify(body)).toBe(JSON.stringify(JSON.parse(text)))
}
const asBase64 = (encoded: string) => (body: unknown, transferEncoding: string | undefined) => {
  expect(transferEncoding).toBe('base64')
  expect(body).toBe(encoded)
}

const CORPUS: HostileBody[] = [
  { name: 'arrays nested 5,000 deep (~10 KB)', body: nestedArrays(5000), notLogged: BODY_NOT_LOGGED.tooDeep },
  { name: 'objects nested 5,000 deep', body: nestedObjects(5000), notLogged: BODY_NOT_LOGGED.tooDeep },
  { name: 'arrays nested 100,000 deep', body: nestedArrays(100_000), notLogged: BODY_NOT_LOGGED.tooLarge },
  {
    name: `nested exactly ${MOESIF_MAX_BODY_DEPTH} deep`,
    body: nestedObjects(MOESIF_MAX_BODY_DEPTH),
    arrives: json(nestedObjects(MOESIF_MAX_BODY_DEPTH))
  },
  { name: `nested ${MOESIF_MAX_BODY_DEPTH + 1} deep`, body: nestedArrays(MOESIF_MAX_BODY_DEPTH + 1), notLogged: BODY_NOT_LOGGED.tooDeep },
  { name: 'brackets inside a string', body: JSON.stringify({ s: '[{'.repeat(3000) }), arrives: json(JSON.stringify({ s: '[{'.repeat(3000) })) },
  { name: 'escaped quotes before brackets', body: '{"s":"\\"[[[[\\\\","t":[1]}', arrives: json('{"s":"\\"[[[[\\\\","t":[1]}') },
  { name: 'invalid JSON', body: '{"a":', arrives: asBase64(base64('{"a":')) },
  { name: 'plain text', body: 'hello, world', arrives: asBase64(base64('hello, world')) },
  { name: 'unbalanced brackets, not JSON', body: '['.repeat(5000), notLogged: BODY_NOT_LOGGED.tooDeep },
  { name: 'lone surrogates inside JSON', body: '{"s":"\uD800x\uDFFF"}', arrives: json('{"s":"\\ud800x\\udfff"}') },
  { name: 'lone surrogate, not JSON', body: '\uDC00abc', arrives: asBase64(base64('\uFFFDabc')) },
  { name: 'NUL and control characters in JSON', body: '{"s":"\\u0000\\u001f\\u007f"}', arrives: json('{"s":"\\u0000\\u001f\\u007f"}') },
  { name: 'invalid UTF-8, base64', body: base64(Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x00, 0xed, 0xa0, 0x80])), isBase64Encoded: true },
  { name: 'binary, base64', body: base64(Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 37) % 256))), isBase64Encoded: true },
  { name: 'deep JSON, base64', body: base64(nestedArrays(5000)), isBase64Encoded: true, arrives: asBase64(base64(nestedArrays(5000))) },
  { name: 'flagged base64 but not base64', body: '%%% not base64 %%%', isBase64Encoded: true, notLogged: BODY_NOT_LOGGED.invalidBase64 },
  { name: 'huge base64 (1 MB)', body: base64(Buffer.alloc(768 * 1024, 7)), isBase64Encoded: true, notLogged: BODY_NOT_LOGGED.tooLarge },
  {
    name: '__proto__ and constructor keys',
    body: '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
    arrives: json('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}')
  },
  { name: 'a 1 MB JSON string', body: JSON.stringify('a'.repeat(1_000_000)), notLogged: BODY_NOT_LOGGED.tooLarge },
  { name: '3 MB of text', body: 'x'.repeat(3_000_000), notLogged: BODY_NOT_LOGGED.tooLarge },
  { name: 'multi-byte text over the limit in bytes, not in length', body: JSON.stringify('é'.repeat(40_000)), notLogged: BODY_NOT_LOGGED.tooLarge },
  { name: '50,000 keys', body: manyKeys(50_000), notLogged: BODY_NOT_LOGGED.tooLarge },
  { name: '4,000 keys', body: manyKeys(4_000), arrives: json(manyKeys(4_000)) },
  { name: 'JSON null', body: 'null' },
  { name: 'empty', body: '' }
]

/** Only as a response body: API Gateway always hands over a string. */
const RESPONSE_ONLY: HostileBody[] = [{ name: 'not a string', body: { nested: true }, notLogged: BODY_NOT_LOGGED.notString }]

const crashes = recordCrashes()
let collector: MoesifCollector | undefined
let logs: ReturnType<typeof captureLogs>
const logger = new Logger({ service: 'moesif-test', level: 'DEBUG' })

afterAll(() => {})
beforeEach(() => {
  resetLibraryState()
  logs = captureLogs()
})
afterEach(async () => {
  logs.restore()
  await collector?.close()
  collector = undefined
})

function byTraceId(events: readonly MoesifWireEvent[]): Map<string, MoesifWireEvent[]> {
  const map = new Map<string, MoesifWireEvent[]>()
  for (const event of events) {
    const id = String(event.metadata?.trace_id)
    map.set(id, [...(map.get(id) ?? []), event])
  }
  return map
}

/** Wait for `count` events, then a little longer, so a late extra event would be seen. */
async function settledEvents(count: number): Promise<readonly MoesifWireEvent[]> {
  const events = await collector!.waitForEvents(count, 10_000)
  await sleep(150)
  return events
}

function expectPart(
  part: MoesifWireEvent['request'] | MoesifWireEvent['response'],
  metadata: Record<string, unknown> | undefined,
  which: 'request' | 'response',
  item: HostileBody,
  masked: boolean
): void {
  if (masked && !isMaskable(item)) item = { ...item, notLogged: item.notLogged ?? BODY_NOT_LOGGED.notMaskable }
  const reasons = metadata?.body_not_logged as Record<string, unknown> | undefined
  if (item.notLogged !== undefined) {
    expect(part.body, item.name).toBe(`[body not logged: ${item.notLogged}]`)
    expect(part.transfer_encoding, item.name).toBeUndefined()
    expect(reasons?.[which], item.name).toBe(item.notLogged)
    return
  }
  expect(reasons?.[which], item.name).toBeUndefined()
  expect(JSON.stringify(part.body ?? null), item.name).not.toContain('body not logged')
  // Masking decodes base64 JSON to walk it, so it then arrives as JSON.
  if (!(masked && item.isBase64Encoded === true)) item.arrives?.(part.body, part.transfer_encoding)
}

describe.each([
  { masking: 'without mask fields', maskFields: [] as string[] },
  { masking: 'with mask fields', maskFields: ['password'] }
])('withMoesif and hostile bodies, $masking', ({ maskFields }) => {
  it('sends exactly one event per hostile request body, marked when not logged, and the handler sees the body untouched', async () => {
    // Prepare
    collector = await startMoesifCollector({ mode: 'healthy' })
    const seen: unknown[] = []
    const handler = withMoesif(
      async (event: ApiEvent) => {
        seen.push(event.body)
        return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ok: true }) }
      },
      settingsFor({ baseUri: collector.baseUri, maskFields }),
      logger
    )

    // Act
    const results: APIGatewayProxyStructuredResultV2[] = []
    for (const [i, item] of CORPUS.entries()) {
      const event = apiEvent({ body: item.body as string, isBase64Encoded: item.isBase64Encoded ?? false })
      results.push(await handler(event, lambdaContext(`req-${i}`)))
    }
    const events = await settledEvents(CORPUS.length)

    // Assess
    expect(events).toHaveLength(CORPUS.length)
    expect(collector.malformedPayloads).toBe(0)
    expect(seen).toEqual(CORPUS.map((item) => item.body))
    expect(results).toEqual(CORPUS.map(() => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' })))
    const grouped = byTraceId(events)
    for (const [i, item] of CORPUS.entries()) {
      const forCall = grouped.get(`req-${i}`) ?? []
      expect(forCall, item.name).toHaveLength(1)
      const [event] = forCall as [MoesifWireEvent]
      expect(event.response.status, item.name).toBe(200)
      expect(event.request.headers?.authorization, item.name).toBe('*****')
      expectPart(event.request, event.metadata, 'request', item, maskFields.length > 0)
    }
    expect(linesOf(logs.lines, 'WARN', 'moesif logging failed')).toEqual([])
    expect(crashes).toEqual([])
  })

  it('sends exactly one event per hostile response body, and the caller gets that body as the handler returned it', async () => {
    // Prepare
    collector = await startMoesifCollector({ mode: 'healthy' })
    const corpus = [...CORPUS, ...RESPONSE_ONLY]
    const resultFor = (i: number): APIGatewayProxyStructuredResultV2 => ({
      statusCode: 201,
      body: corpus[i]?.body as string,
      isBase64Encoded: corpus[i]?.isBase64Encoded ?? false
    })
    const handler = withMoesif(
      async (_event, context) => resultFor(Number(context.awsRequestId.slice(4))),
      settingsFor({ baseUri: collector.baseUri, maskFields }),
      logger
    )

    // Act
    const results: APIGatewayProxyStructuredResultV2[] = []
    for (const i of corpus.keys()) results.push(await handler(apiEvent({ body: '{"q":1}' }), lambdaContext(`res-${i}`)))
    const events = await settledEvents(corpus.length)

    // Assess
    expect(events).toHaveLength(corpus.length)
    expect(collector.malformedPayloads).toBe(0)
    expect(results).toEqual(corpus.map((_, i) => resultFor(i)))
    const grouped = byTraceId(events)
    for (const [i, item] of corpus.entries()) {
      const forCall = grouped.get(`res-${i}`) ?? []
      expect(forCall, item.name).toHaveLength(1)
      const [event] = forCall as [MoesifWireEvent]
      expect(event.response.status, item.name).toBe(201)
      expect(event.request.body, item.name).toEqual({ q: 1 })
      expectPart(event.response, event.metadata, 'response', item, maskFields.length > 0)
    }
    expect(crashes).toEqual([])
  })
})

/** Whether masking can walk the body the library logs (JSON, possibly base64-encoded JSON), when it is logged at all. */
function isMaskable(item: HostileBody): boolean {
  if (item.notLogged !== undefined || typeof item.body !== 'string' || item.body === '') return true
  const text = item.isBase64Encoded === true ? Buffer.from(item.body, 'base64').toString('utf8') : item.body
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

describe('withMoesif and results it cannot log as is', () => {
  it('logs a result without a status as API Gateway answers it, and one too deep to serialize as the marker', async () => {
    // Prepare
    collector = await startMoesifCollector({ mode: 'healthy' })
    let deep: Record<string, unknown> = { leaf: true }
    for (let i = 0; i < 10_000; i++) deep = { next: deep }
    const results: Record<string, unknown> = { plain: { message: 'hi' }, deep }
    const handler = withMoesif(
      async (_event, context) => results[context.awsRequestId] as APIGatewayProxyStructuredResultV2,
      settingsFor({ baseUri: collector.baseUri }),
      logger
    )

    // Act
    const plain = await handler(apiEvent(), lambdaContext('plain'))
    const deepResult = await handler(apiEvent(), lambdaContext('deep'))
    const events = await settledEvents(2)

    // Assess
    expect(plain).toBe(results.plain)
    expect(deepResult).toBe(deep)
    const grouped = byTraceId(events)
    expect(grouped.get('plain')).toHaveLength(1)
    expect(grouped.get('plain')?.[0]?.response).toMatchObject({ status: 200, body: { message: 'hi' } })
    expect(grouped.get('deep')).toHaveLength(1)
    expect(grouped.get('deep')?.[0]?.response).toMatchObject({ status: 200, body: `[body not logged: ${BODY_NOT_LOGGED.unserializable}]` })
    expect(grouped.get('deep')?.[0]?.metadata?.body_not_logged).toEqual({ response: BODY_NOT_LOGGED.unserializable })
  })
})

describe('withMoesif when moesif-aws-lambda fails on a call', () => {
  it('still sends exactly one event, built without the library, and logs the failure', async () => {
    // Prepare: the library's identifyUser throws (inside its event building) on this authorizer context.
    collector = await startMoesifCollector({ mode: 'healthy' })
    const authorizer: Record<string, unknown> = { orgId: 'org-42' }
    Object.defineProperty(authorizer, 'userId', {
      enumerable: true,
      get() {
        throw new Error('authorizer context unreadable')
      }
    })
    const handler = withMoesif(async () => ({ statusCode: 202, body: '{"accepted":true}' }), settingsFor({ baseUri: collector.baseUri }), logger)

    // Act
    const result = await handler(apiEvent({ authorizer, body: nestedArrays(5000) }), lambdaContext('library-failed'))
    const events = await settledEvents(1)

    // Assess
    expect(result).toEqual({ statusCode: 202, body: '{"accepted":true}' })
    expect(events).toHaveLength(1)
    const [event] = events as [MoesifWireEvent]
    expect(event).toMatchObject({
      company_id: 'org-42',
      direction: 'Incoming',
      weight: 1,
      request: { verb: 'POST', uri: '/v1/widgets' },
      response: { status: 202 }
    })
    expect(event).not.toHaveProperty('user_id')
    expect(event.request.headers?.authorization).toBe('*****')
    expect(event.request.body).toBe(`[body not logged: ${BODY_NOT_LOGGED.noLibraryEvent}]`)
    expect(event.metadata).toEqual({
      trace_id: 'library-failed',
      function_name: 'protected-api',
      body_not_logged: { request: BODY_NOT_LOGGED.noLibraryEvent, response: BODY_NOT_LOGGED.noLibraryEvent }
    })
    expect(linesOf(logs.lines, 'WARN', 'moesif logging failed')).toHaveLength(1)
    expect(crashes).toEqual([])
  })
})
