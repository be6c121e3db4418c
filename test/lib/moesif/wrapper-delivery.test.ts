/**
 * Issue 10, finding 10: withMoesif's delivery across invocations, with the
 * real (patched) moesif-aws-lambda and a scripted collector on loopback that
 * records each event as soon as it has read it. One event per call, never
 * two; failed sends retried at the start of the next invocation; the extra
 * time per call bounded by maxWaitMs; drops logged as counts.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { withMoesif, type ApiHandler } from '../../../src/lib/moesif/wrapper'
import { Logger } from '../../../src/lib/runtime/logger'
import { apiEvent, captureLogs, lambdaContext, linesOf, recordCrashes, resetLibraryState, settingsFor, sleep } from './fixtures'
import { startScriptedCollector, traceIdCounts, type ScriptedCollector } from './scripted-collector'

const okHandler: ApiHandler = async () => ({ statusCode: 200, body: '{"ok":true}' })
/**
 * For the tests about what is retried, not about the bound: each call's send settles within its call on
 * a loaded machine too (a call still ends as soon as its sends settle), and a cold start's wait for the
 * governance rules, taken from the first call's budget, leaves its send enough time.
 */
const ROOMY_WAIT_MS = 1_000
const logger = new Logger({ service: 'moesif-test', level: 'DEBUG' })

const crashes = recordCrashes()
let collector: ScriptedCollector
let logs: ReturnType<typeof captureLogs>

afterAll(() => {})
beforeEach(async () => {
  resetLibraryState()
  collector = await startScriptedCollector()
  logs = captureLogs()
})
afterEach(async () => {
  logs.restore()
  await collector.close()
})

async function timedCall(handler: ApiHandler, traceId: string): Promise<number> {
  const started = performance.now()
  const result = await handler(apiEvent(), lambdaContext(traceId))
  expect(result).toEqual({ statusCode: 200, body: '{"ok":true}' })
  return performance.now() - started
}

const eventPosts = (): string[] => collector.posts.map((p) => p.path)

describe('withMoesif delivery', () => {
  it('answers within maxWaitMs of a slow collector, lets the send finish in the background, and never sends it again', async () => {
    // Prepare: the collector records the event at once but answers 1.5 s later.
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, maxWaitMs: 50 }), logger)
    collector.script([{ delayMs: 1500 }])

    // Act
    const slowMs = await timedCall(handler, 'slow-1')
    const nextMs = await timedCall(handler, 'slow-2') // while the first send still waits for its answer
    await sleep(1700) // the first send's answer arrives
    await timedCall(handler, 'slow-3')
    await collector.waitForRecorded(3, 2000)
    await sleep(100)

    // Assess
    expect(slowMs).toBeLessThan(1000)
    expect(slowMs).toBeGreaterThanOrEqual(40)
    expect(nextMs).toBeLessThan(1000)
    expect(traceIdCounts(collector.recorded)).toEqual({ 'slow-1': 1, 'slow-2': 1, 'slow-3': 1 })
    expect(eventPosts()).toEqual(['/v1/events', '/v1/events', '/v1/events'])
    expect(linesOf(logs.lines, 'WARN', 'moesif event not sent')).toEqual([])
    expect(crashes).toEqual([])
  })

  it('buffers an event the collector answered 500 and sends it once at the start of the next invocation', async () => {
    // Prepare
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, maxWaitMs: ROOMY_WAIT_MS }), logger)
    collector.script([{ status: 500 }])

    // Act
    await timedCall(handler, 'c-1')
    const recordedAfterFirst = collector.recorded.length
    await timedCall(handler, 'c-2')
    await timedCall(handler, 'c-3')
    await collector.waitForRecorded(3, 2000)
    await sleep(100)

    // Assess
    expect(recordedAfterFirst).toBe(0)
    expect(traceIdCounts(collector.recorded)).toEqual({ 'c-1': 1, 'c-2': 1, 'c-3': 1 })
    const batches = collector.posts.filter((p) => p.path === '/v1/events/batch')
    expect(batches.map((b) => b.traceIds)).toEqual([['c-1']])
    expect(linesOf(logs.lines, 'WARN', 'moesif event not sent')).toEqual([
      expect.objectContaining({ events: 1, errorCode: 500, next: 'retry at the next invocation' })
    ])
    expect(crashes).toEqual([])
  })

  it('retries an event whose connection was refused at the start of the next invocation', async () => {
    // Prepare
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, maxWaitMs: ROOMY_WAIT_MS }), logger)
    await collector.stop()

    // Act
    await timedCall(handler, 'r-1')
    await collector.listen()
    await timedCall(handler, 'r-2')
    await collector.waitForRecorded(2, 2000)
    await sleep(100)

    // Assess
    expect(traceIdCounts(collector.recorded)).toEqual({ 'r-1': 1, 'r-2': 1 })
    expect(linesOf(logs.lines, 'WARN', 'moesif event not sent')[0]).toMatchObject({ errorCode: 'ECONNREFUSED' })
  })

  it('does not retry an event the collector read but never answered for; logs it as unconfirmed', async () => {
    // Prepare: the collector records the event, then resets the connection.
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, maxWaitMs: ROOMY_WAIT_MS }), logger)
    collector.script(['reset'])

    // Act
    await timedCall(handler, 'u-1')
    await timedCall(handler, 'u-2')
    await sleep(100)

    // Assess
    expect(traceIdCounts(collector.recorded)).toEqual({ 'u-1': 1, 'u-2': 1 })
    expect(eventPosts()).toEqual(['/v1/events', '/v1/events'])
    expect(linesOf(logs.lines, 'WARN', 'moesif events unconfirmed')).toEqual([expect.objectContaining({ unconfirmed: 1, unconfirmedTotal: 1 })])
  })

  it('gives up on an event after 5 failed sends and logs the dropped count', async () => {
    // Prepare
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, maxWaitMs: ROOMY_WAIT_MS }), logger)
    collector.script([], { status: 503 })

    // Act: each call sends its own event and retries the buffered ones, all failing.
    for (let i = 1; i <= 6; i++) await timedCall(handler, `d-${i}`)

    // Assess: d-1 is sent at call 1 and retried at calls 2-5, then dropped; d-2 after call 6.
    const dropped = linesOf(logs.lines, 'WARN', 'moesif events dropped')
    expect(dropped).toEqual([
      expect.objectContaining({ dropped: 1, tooManyAttempts: 1, bufferFull: 0, droppedTotal: 1 }),
      expect.objectContaining({ dropped: 1, tooManyAttempts: 1, droppedTotal: 2 })
    ])
    const attemptsOfFirst = collector.posts.filter((p) => p.traceIds.includes('d-1')).length
    expect(attemptsOfFirst).toBe(5)
    expect(JSON.stringify(dropped)).not.toContain('d-1')
  })

  it('holds a bounded number of events when the collector hangs, drops the rest with a logged count, and stays within maxWaitMs', async () => {
    // Prepare: the collector reads every event and never answers, so sends pile up in flight.
    const maxWaitMs = 30
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, maxWaitMs }), logger)
    collector.script([], 'hang')
    const calls = 110

    // Act
    const durations = await Promise.all(Array.from({ length: calls }, (_, i) => timedCall(handler, `b-${i}`)))
    await timedCall(handler, 'b-last') // reports drops seen since the others ended

    // Assess: 100 held (in flight or queued), the other 11 dropped.
    const dropped = linesOf(logs.lines, 'WARN', 'moesif events dropped')
    expect(dropped.reduce((sum, line) => sum + Number(line.bufferFull), 0)).toBe(calls + 1 - 100)
    for (const duration of durations) expect(duration).toBeLessThan(maxWaitMs + 1500)
    expect(crashes).toEqual([])
  })

  it('bounds the whole of a call’s Moesif work, buffered retries included, by maxWaitMs', async () => {
    // Prepare: buffer a few events, then make the collector hang.
    const maxWaitMs = 80
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, maxWaitMs }), logger)
    collector.script([{ status: 500 }, { status: 500 }, { status: 500 }])
    await timedCall(handler, 'w-1')
    collector.script([{ status: 500 }, { status: 500 }], 'hang') // w-1's retry and w-2 fail too
    await timedCall(handler, 'w-2')

    // Act: this call's retry batch (w-1, w-2) and its own send both hang.
    const durationMs = await timedCall(handler, 'w-3')

    // Assess
    expect(collector.posts.slice(-2).map((p) => p.reply)).toEqual(['hang', 'hang'])
    expect(durationMs).toBeGreaterThanOrEqual(maxWaitMs - 20)
    expect(durationMs).toBeLessThan(maxWaitMs + 400)
  })

  it('still sends exactly one event per call with maxWaitMs 0 (no wait at all)', async () => {
    // Prepare
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, maxWaitMs: 0 }), logger)

    // Act
    for (let i = 1; i <= 3; i++) await timedCall(handler, `z-${i}`)
    await collector.waitForRecorded(3, 2000)
    await sleep(100)

    // Assess
    expect(traceIdCounts(collector.recorded)).toEqual({ 'z-1': 1, 'z-2': 1, 'z-3': 1 })
  })
})
