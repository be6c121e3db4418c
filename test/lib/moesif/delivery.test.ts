/**
 * MoesifDelivery against a scripted collector on loopback that records each
 * event as soon as it has read it (so a duplicate send would be seen).
 */
import type { MoesifEventData } from 'moesif-aws-lambda'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MoesifDelivery, type MoesifDeliveryLimits } from '../../../src/lib/moesif/delivery'
import { serializeMoesifEvent } from '../../../src/lib/moesif/wire'
import { Logger } from '../../../src/lib/runtime/logger'
import { APPLICATION_ID, captureLogs, linesOf } from './fixtures'
import { startScriptedCollector, traceIdCounts, type ScriptedCollector, type ScriptedReply } from './scripted-collector'

const logger = new Logger({ service: 'moesif-test', level: 'DEBUG' })
let collector: ScriptedCollector
let logs: ReturnType<typeof captureLogs>

beforeEach(async () => {
  collector = await startScriptedCollector()
  logs = captureLogs()
})
afterEach(async () => {
  logs.restore()
  await collector.close()
})

function eventData(traceId: string, padding = 0): MoesifEventData {
  return {
    request: {
      time: Date.now(),
      uri: '/v1/widgets',
      verb: 'GET',
      headers: { accept: '*/*' },
      body: padding > 0 ? { pad: 'p'.repeat(padding) } : undefined
    },
    response: { time: Date.now(), status: 200, headers: {} },
    metadata: { trace_id: traceId },
    userId: 'user-7',
    companyId: 'org-42',
    direction: 'Incoming',
    weight: 1
  }
}

function deliveryFor(limits: Partial<MoesifDeliveryLimits> = {}): MoesifDelivery {
  return new MoesifDelivery({ applicationId: APPLICATION_ID, baseUri: collector.baseUri, logger, limits })
}

describe('MoesifDelivery', () => {
  it('sends the event as Moesif expects it, once', async () => {
    // Prepare
    const delivery = deliveryFor()

    // Act
    await delivery.send(eventData('e1'))

    // Assess
    expect(collector.recorded).toHaveLength(1)
    expect(collector.recorded[0]).toMatchObject({
      request: { uri: '/v1/widgets', verb: 'GET', headers: { accept: '*/*' } },
      response: { status: 200 },
      user_id: 'user-7',
      company_id: 'org-42',
      metadata: { trace_id: 'e1' },
      direction: 'Incoming',
      weight: 1
    })
    expect(collector.posts.map((p) => p.path)).toEqual(['/v1/events'])
    expect(delivery.stats()).toMatchObject({ buffered: 0, sending: 0, delivered: 1 })
  })

  it('buffers an event the collector answered 500 (not recorded) and sends it once with the next retry', async () => {
    // Prepare
    const delivery = deliveryFor()
    collector.script([{ status: 500 }])

    // Act
    await delivery.send(eventData('e1'))
    const afterFailure = { ...delivery.stats(), recorded: collector.recorded.length }
    await delivery.retryBuffered()
    await delivery.retryBuffered() // nothing left

    // Assess
    expect(afterFailure).toMatchObject({ buffered: 1, recorded: 0 })
    expect(traceIdCounts(collector.recorded)).toEqual({ e1: 1 })
    expect(collector.posts.map((p) => p.path)).toEqual(['/v1/events', '/v1/events/batch'])
    expect(delivery.stats()).toMatchObject({ buffered: 0, delivered: 1 })
    const notSent = linesOf(logs.lines, 'WARN', 'moesif event not sent')
    expect(notSent).toHaveLength(1)
    expect(notSent[0]).toMatchObject({ events: 1, errorCode: 500, next: 'retry at the next invocation' })
  })

  it('buffers an event whose connection was refused, and retries it once the collector is back', async () => {
    // Prepare
    const delivery = deliveryFor()
    await collector.stop()

    // Act
    await delivery.send(eventData('e1'))
    const buffered = delivery.stats().buffered
    await collector.listen()
    await delivery.retryBuffered()

    // Assess
    expect(buffered).toBe(1)
    expect(traceIdCounts(collector.recorded)).toEqual({ e1: 1 })
    expect(linesOf(logs.lines, 'WARN', 'moesif event not sent')[0]).toMatchObject({ errorCode: 'ECONNREFUSED' })
  })

  it.each<{ name: string; reply: ScriptedReply; limits?: Partial<MoesifDeliveryLimits> }>([
    { name: 'reset after the collector read it', reply: 'reset' },
    { name: 'no answer in time', reply: 'hang', limits: { responseTimeoutMs: 150 } },
    { name: 'a gateway 504', reply: { status: 504 } }
  ])('never retries a send that may have arrived ($name); counts it unconfirmed', async ({ reply, limits }) => {
    // Prepare
    const delivery = deliveryFor(limits)
    collector.script([reply])

    // Act
    await delivery.send(eventData('e1'))
    await delivery.retryBuffered()
    await delivery.send(eventData('e2'))
    delivery.reportDrops()

    // Assess
    expect(collector.posts.map((p) => p.path)).toEqual(['/v1/events', '/v1/events'])
    expect(delivery.stats()).toMatchObject({ buffered: 0, delivered: 1, unconfirmed: 1 })
    expect(linesOf(logs.lines, 'WARN', 'moesif events unconfirmed')).toEqual([expect.objectContaining({ unconfirmed: 1, unconfirmedTotal: 1 })])
    expect(linesOf(logs.lines, 'WARN', 'moesif events dropped')).toEqual([])
  })

  it('drops an event the collector refused with a 4xx, and logs the count', async () => {
    // Prepare
    const delivery = deliveryFor()
    collector.script([{ status: 400 }])

    // Act
    await delivery.send(eventData('e1'))
    await delivery.retryBuffered()
    delivery.reportDrops()

    // Assess
    expect(collector.posts).toHaveLength(1)
    expect(delivery.stats().dropped).toEqual({ bufferFull: 0, tooManyAttempts: 0, rejected: 1 })
    expect(linesOf(logs.lines, 'WARN', 'moesif events dropped')).toEqual([
      expect.objectContaining({ dropped: 1, bufferFull: 0, tooManyAttempts: 0, rejected: 1, droppedTotal: 1 })
    ])
  })

  it('holds at most maxHeldEvents: drops the oldest buffered, logs the count once per report, and never the contents', async () => {
    // Prepare
    const delivery = deliveryFor({ maxHeldEvents: 3 })
    collector.script([], { status: 503 })

    // Act
    for (let i = 1; i <= 5; i++) await delivery.send(eventData(`e${i}`, 10))
    const held = delivery.stats()
    delivery.reportDrops()
    delivery.reportDrops() // nothing new: no second line
    collector.script([], 'ok')
    await delivery.retryBuffered()

    // Assess
    expect(held).toMatchObject({ buffered: 3, dropped: { bufferFull: 2, tooManyAttempts: 0, rejected: 0 } })
    expect(traceIdCounts(collector.recorded)).toEqual({ e3: 1, e4: 1, e5: 1 })
    const dropped = linesOf(logs.lines, 'WARN', 'moesif events dropped')
    expect(dropped).toEqual([expect.objectContaining({ dropped: 2, bufferFull: 2, droppedTotal: 2 })])
    expect(JSON.stringify(logs.lines)).not.toContain('ppppp')
    expect(JSON.stringify(logs.lines)).not.toContain('user-7')
  })

  it('holds at most maxHeldBytes', async () => {
    // Prepare: room for two events.
    const size = serializeMoesifEvent(eventData('e0', 1000)).length
    const delivery = deliveryFor({ maxHeldBytes: 2 * size + 10 })
    collector.script([], { status: 500 })

    // Act
    for (let i = 1; i <= 4; i++) await delivery.send(eventData(`e${i}`, 1000))

    // Assess
    expect(delivery.stats()).toMatchObject({ buffered: 2, dropped: { bufferFull: 2 } })
  })

  it('drops an event after maxAttempts failed sends', async () => {
    // Prepare
    const delivery = deliveryFor({ maxAttempts: 3 })
    collector.script([], { status: 500 })

    // Act
    await delivery.send(eventData('e1'))
    const buffered = [delivery.stats().buffered]
    for (let i = 0; i < 3; i++) {
      await delivery.retryBuffered()
      buffered.push(delivery.stats().buffered)
    }
    delivery.reportDrops()

    // Assess: attempts 1 (send), 2 and 3 (retries); the third retry finds nothing.
    expect(buffered).toEqual([1, 1, 0, 0])
    expect(collector.posts).toHaveLength(3)
    expect(linesOf(logs.lines, 'WARN', 'moesif events dropped')).toEqual([expect.objectContaining({ dropped: 1, tooManyAttempts: 1 })])
  })

  it('retries in batches of at most maxBatchBytes', async () => {
    // Prepare: batches with room for two events.
    const size = serializeMoesifEvent(eventData('e0', 1000)).length
    const delivery = deliveryFor({ maxBatchBytes: 2 * size + 10 })
    collector.script([{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }])
    for (let i = 1; i <= 5; i++) await delivery.send(eventData(`e${i}`, 1000))

    // Act
    await delivery.retryBuffered()

    // Assess
    const batches = collector.posts.filter((p) => p.path === '/v1/events/batch')
    // The batches go out concurrently: their arrival order is not fixed.
    expect(batches.map((b) => b.traceIds).sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual([['e1', 'e2'], ['e3', 'e4'], ['e5']])
    expect(traceIdCounts(collector.recorded)).toEqual({ e1: 1, e2: 1, e3: 1, e4: 1, e5: 1 })
  })

  it('never sends an event twice, and accounts for every one, under any mix of answers', async () => {
    // Prepare: a fixed pseudo-random mix (no wall clock, no Math.random).
    const delivery = deliveryFor({ responseTimeoutMs: 100, maxAttempts: 4 })
    const replies: ScriptedReply[] = [
      'ok',
      { status: 500 },
      { status: 503 },
      { status: 429 },
      'reset',
      { status: 400 },
      { status: 502 },
      'hang',
      { delayMs: 30 }
    ]
    let seed = 20_261_128
    const next = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed
    }
    const total = 60

    // Act: rounds of new events and retries under random answers, then a healthy collector.
    let sent = 0
    for (let round = 0; round < 10; round++) {
      collector.script(Array.from({ length: 20 }, () => replies[next() % replies.length] as ScriptedReply))
      const work = [delivery.retryBuffered()]
      for (let i = 0; i < total / 10; i++) work.push(delivery.send(eventData(`e${++sent}`)))
      await Promise.all(work)
    }
    collector.script([], 'ok')
    for (let round = 0; round < 4; round++) await delivery.retryBuffered()

    // Assess
    const counts = traceIdCounts(collector.recorded)
    expect(Math.max(...Object.values(counts))).toBe(1)
    const stats = delivery.stats()
    const dropped = stats.dropped.bufferFull + stats.dropped.tooManyAttempts + stats.dropped.rejected
    expect(stats.buffered + stats.sending).toBe(0)
    expect(stats.delivered + dropped + stats.unconfirmed).toBe(total)
    // Recorded: every delivered event, plus those unconfirmed ones the collector did read.
    expect(collector.recorded.length).toBeGreaterThanOrEqual(stats.delivered)
    expect(collector.recorded.length).toBeLessThanOrEqual(stats.delivered + stats.unconfirmed)
    expect(stats.unconfirmed).toBeGreaterThan(0)
    expect(stats.delivered).toBeGreaterThan(0)
  })
})
