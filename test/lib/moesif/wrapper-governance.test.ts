/**
 * withMoesif enforcing governance rules, with the real (patched)
 * moesif-aws-lambda and the local collector serving the rules: a blocked
 * call never reaches the handler, gets the rule's answer plus
 * X-Moesif-Blocked-By, and is reported once with `blocked_by`; rules that
 * only add headers add them; the rules are fetched at cold start within the
 * call's budget, refreshed after the TTL, and with Moesif down every call is
 * allowed.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { withMoesif, type ApiHandler } from '../../../src/lib/moesif/wrapper'
import { Logger } from '../../../src/lib/runtime/logger'
import {
  closedPortBaseUri,
  startMoesifCollector,
  type MoesifCollector,
  type MoesifGovernanceDocument,
  type MoesifWireEvent
} from '../../../src/local/moesif-collector'
import { apiEvent, captureLogs, lambdaContext, linesOf, recordCrashes, resetLibraryState, settingsFor, sleep } from './fixtures'

const logger = new Logger({ service: 'moesif-test', level: 'DEBUG' })
/**
 * For the tests about what the rules do, not about the bound: the cold-start wait for the rules
 * (the first import of the governance module included, slow under vitest on a loaded machine) must
 * not run out, or the first call would rightly go on without rules. A call still ends as soon as
 * its Moesif work settles.
 */
const ROOMY_WAIT_MS = 2_000

/** Blocks company org-42 (402), user user-7 (429) when asked; adds X-Plan to every /v1/ call. */
function governance(options: { blockCompany?: boolean; blockUser?: boolean } = {}): MoesifGovernanceDocument {
  return {
    rules: [
      {
        _id: 'plan-header',
        type: 'regex',
        block: false,
        regex_config: [{ conditions: [{ path: 'request.route', value: '^/v1/' }] }],
        response: { headers: { 'X-Plan': 'free', 'Cache-Control': 'no-cache' } }
      },
      {
        _id: 'block-company',
        type: 'company',
        block: true,
        applied_to: 'matching',
        variables: [{ name: '0', path: 'company.name' }],
        response: {
          status: 402,
          headers: { 'X-Blocked-Reason': 'payment', 'X-Company': '{{0|unknown}}' },
          body: { code: 'ERR_PAYMENT_REQUIRED', message: '{{0|Your company}} must pay' }
        }
      },
      {
        _id: 'block-user',
        type: 'user',
        block: true,
        applied_to: 'matching',
        response: { status: 429, headers: { 'X-Blocked-Reason': 'quota' }, body: { code: 'ERR_QUOTA' } }
      }
    ],
    config: {
      company_rules: options.blockCompany === true ? { 'org-42': [{ rules: 'block-company', values: { '0': 'Org 42' } }] } : {},
      user_rules: options.blockUser === true ? { 'user-7': [{ rules: 'block-user', values: {} }] } : {}
    }
  }
}

const crashes = recordCrashes()
let collector: MoesifCollector | undefined
let logs: ReturnType<typeof captureLogs>
let handlerCalls = 0
const okHandler: ApiHandler = async () => {
  handlerCalls++
  return { statusCode: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: '{"ok":true}' }
}

afterAll(() => {})
beforeEach(() => {
  resetLibraryState()
  handlerCalls = 0
  logs = captureLogs()
})
afterEach(async () => {
  logs.restore()
  await collector?.close()
  collector = undefined
})

/** The events for `traceId` once deliveries have had time to settle (a second one would show up). */
async function eventsFor(traceId: string): Promise<MoesifWireEvent[]> {
  const deadline = Date.now() + 2_000
  while (Date.now() < deadline && !(collector?.events ?? []).some((e) => e.metadata?.trace_id === traceId)) await sleep(10)
  await sleep(150)
  return (collector?.events ?? []).filter((e) => e.metadata?.trace_id === traceId)
}

describe('withMoesif governance: blocking', () => {
  it('answers a blocked call with the rule status, body and headers plus X-Moesif-Blocked-By, never runs the handler, and reports it once with blocked_by', async () => {
    // Prepare
    collector = await startMoesifCollector({ governance: governance({ blockCompany: true }) })
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, maxWaitMs: ROOMY_WAIT_MS }), logger)

    // Act: the very first call (cold start) already sees the rules.
    const result = await handler(apiEvent(), lambdaContext('blocked-1'))
    const events = await eventsFor('blocked-1')

    // Assess
    expect(handlerCalls).toBe(0)
    expect(result).toEqual({
      statusCode: 402,
      headers: {
        'X-Plan': 'free',
        'Cache-Control': 'no-cache',
        'X-Blocked-Reason': 'payment',
        'X-Company': 'Org 42',
        'Content-Type': 'application/json',
        'X-Moesif-Blocked-By': 'block-company'
      },
      body: JSON.stringify({ code: 'ERR_PAYMENT_REQUIRED', message: 'Org 42 must pay' }),
      isBase64Encoded: false
    })
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      blocked_by: 'block-company',
      company_id: 'org-42',
      user_id: 'user-7',
      response: { status: 402, body: { code: 'ERR_PAYMENT_REQUIRED', message: 'Org 42 must pay' } }
    })
    expect(events[0]?.response.headers).toMatchObject({ 'X-Moesif-Blocked-By': 'block-company' })
    expect(linesOf(logs.lines, 'INFO', 'moesif governance blocked the call')).toEqual([
      expect.objectContaining({ ruleId: 'block-company', status: 402 })
    ])
    expect(crashes).toEqual([])
  })

  it('lets the user rule win over the company rule when both block', async () => {
    collector = await startMoesifCollector({ governance: governance({ blockCompany: true, blockUser: true }) })
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, maxWaitMs: ROOMY_WAIT_MS }), logger)

    const result = await handler(apiEvent(), lambdaContext('both'))
    const events = await eventsFor('both')

    expect(handlerCalls).toBe(0)
    expect(result.statusCode).toBe(429)
    expect(result.headers).toMatchObject({ 'X-Moesif-Blocked-By': 'block-user', 'X-Blocked-Reason': 'quota', 'X-Company': 'Org 42' })
    expect(JSON.parse(result.body ?? '')).toEqual({ code: 'ERR_QUOTA' })
    expect(events.map((e) => e.blocked_by)).toEqual(['block-user'])
  })

  it('still sends exactly one event with blocked_by when the library fails on the blocked call (the fallback event)', async () => {
    // The library's identifyUser throws on this context; governance reads the company all the same.
    collector = await startMoesifCollector({ governance: governance({ blockCompany: true }) })
    const authorizer: Record<string, unknown> = { orgId: 'org-42' }
    Object.defineProperty(authorizer, 'userId', {
      enumerable: true,
      get() {
        throw new Error('authorizer context unreadable')
      }
    })
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, maxWaitMs: ROOMY_WAIT_MS }), logger)

    const result = await handler(apiEvent({ authorizer }), lambdaContext('fallback-blocked'))
    const events = await eventsFor('fallback-blocked')

    expect(handlerCalls).toBe(0)
    expect(result.statusCode).toBe(402)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ blocked_by: 'block-company', company_id: 'org-42', response: { status: 402 } })
    expect(linesOf(logs.lines, 'WARN', 'moesif logging failed')).toHaveLength(1)
  })
})

describe('withMoesif governance: calls that pass', () => {
  it('runs the handler and adds the rules headers, keeping a header the handler set itself; the event has no blocked_by', async () => {
    collector = await startMoesifCollector({ governance: governance() })
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, maxWaitMs: ROOMY_WAIT_MS }), logger)

    const result = await handler(apiEvent(), lambdaContext('allowed'))
    const events = await eventsFor('allowed')

    expect(handlerCalls).toBe(1)
    expect(result).toEqual({
      statusCode: 200,
      headers: { 'X-Plan': 'free', 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: '{"ok":true}'
    })
    expect(events).toHaveLength(1)
    expect(events[0]).not.toHaveProperty('blocked_by')
    expect(events[0]?.response.headers).toMatchObject({ 'X-Plan': 'free' })
  })

  it('adds the headers to a result without a status as API Gateway would answer it (200, JSON)', async () => {
    collector = await startMoesifCollector({ governance: governance() })
    const raw = (async () => ({ hello: 'world' })) as unknown as ApiHandler
    const handler = withMoesif(raw, settingsFor({ baseUri: collector.baseUri, maxWaitMs: ROOMY_WAIT_MS }), logger)

    const result = await handler(apiEvent(), lambdaContext('raw'))

    expect(result).toEqual({
      statusCode: 200,
      headers: { 'X-Plan': 'free', 'Cache-Control': 'no-cache', 'content-type': 'application/json' },
      body: '{"hello":"world"}'
    })
  })

  it('leaves the result untouched when no rule applies', async () => {
    collector = await startMoesifCollector({ governance: governance() })
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, maxWaitMs: ROOMY_WAIT_MS }), logger)
    const event = apiEvent()
    event.rawPath = '/health'

    const result = await handler(event, lambdaContext('untouched'))

    expect(result).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: '{"ok":true}' })
  })
})

describe('withMoesif governance: fetching the rules', () => {
  it('applies a removed rule within the TTL: the refresh runs on the budget of the call that finds the rules stale', async () => {
    // Prepare
    collector = await startMoesifCollector({ governance: governance({ blockCompany: true }) })
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, rulesTtlMs: 300, maxWaitMs: ROOMY_WAIT_MS }), logger)
    const first = await handler(apiEvent(), lambdaContext('ttl-1'))

    // Act: the rule is removed; calls keep coming.
    collector.setGovernance(governance())
    const statuses: number[] = []
    const started = Date.now()
    while (Date.now() - started < 2_000) {
      const result = await handler(apiEvent(), lambdaContext(`ttl-${statuses.length + 2}`))
      statuses.push(result.statusCode ?? 0)
      if (result.statusCode === 200) break
      await sleep(50)
    }
    const unblockedAfterMs = Date.now() - started

    // Assess: blocked until the TTL ran out, then allowed (the refresh finishes within the call's budget).
    expect(first.statusCode).toBe(402)
    expect(statuses.at(-1)).toBe(200)
    expect(statuses.slice(0, -1).every((status) => status === 402)).toBe(true)
    expect(unblockedAfterMs).toBeGreaterThanOrEqual(250)
    expect(unblockedAfterMs).toBeLessThan(300 + 500)
    expect(collector.requests.filter((r) => r.path === '/v1/rules').every((r) => r.applicationId === 'test-application-id')).toBe(true)
  })

  it('allows every call when Moesif is down at cold start, warning once per failed refresh, and never crashes', async () => {
    const baseUri = await closedPortBaseUri()
    const handler = withMoesif(okHandler, settingsFor({ baseUri, rulesTtlMs: 60_000 }), logger)

    const results = [await handler(apiEvent(), lambdaContext('down-1')), await handler(apiEvent(), lambdaContext('down-2'))]
    await sleep(50)

    expect(results.map((r) => r.statusCode)).toEqual([200, 200])
    expect(handlerCalls).toBe(2)
    expect(linesOf(logs.lines, 'WARN', 'moesif governance rules not refreshed')).toEqual([
      expect.objectContaining({ errorCode: 'ECONNREFUSED', kept: 'no rules: calls are allowed' })
    ])
    expect(crashes).toEqual([])
  })

  it('keeps blocking with the last good rules when Moesif goes down', async () => {
    collector = await startMoesifCollector({ governance: governance({ blockCompany: true }) })
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, rulesTtlMs: 100, maxWaitMs: ROOMY_WAIT_MS }), logger)
    const before = await handler(apiEvent(), lambdaContext('kept-1'))

    await collector.close()
    await sleep(120)
    const after = [await handler(apiEvent(), lambdaContext('kept-2')), await handler(apiEvent(), lambdaContext('kept-3'))]

    expect(before.statusCode).toBe(402)
    expect(after.map((r) => r.statusCode)).toEqual([402, 402])
    expect(handlerCalls).toBe(0)
    expect(linesOf(logs.lines, 'WARN', 'moesif governance rules not refreshed')[0]).toMatchObject({ kept: 'the last good rules (3)' })
  })

  it('waits for the rules at cold start within MOESIF_MAX_WAIT_MS, the event send included: a hung Moesif adds maxWaitMs once, not twice', async () => {
    // Prepare: the rules, the config and the event POST all hang.
    collector = await startMoesifCollector({ mode: 'hang' })
    const maxWaitMs = 400
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, maxWaitMs }), logger)

    // Act
    const started = performance.now()
    const first = await handler(apiEvent(), lambdaContext('hung-1'))
    const firstMs = performance.now() - started
    const secondStarted = performance.now()
    const second = await handler(apiEvent(), lambdaContext('hung-2'))
    const secondMs = performance.now() - secondStarted

    // Assess: allowed (no rules), each call held at most maxWaitMs (plus timer jitter) in all.
    expect([first.statusCode, second.statusCode]).toEqual([200, 200])
    expect(firstMs).toBeGreaterThanOrEqual(maxWaitMs - 20)
    // Not 2 × maxWaitMs: the cold wait is taken from the budget (the slack is timer jitter on a loaded machine).
    expect(firstMs).toBeLessThan(maxWaitMs + 300)
    expect(secondMs).toBeLessThan(maxWaitMs + 300)
    expect(handlerCalls).toBe(2)
  })

  it('does not wait at all with MOESIF_MAX_WAIT_MS=0: the first calls go on without rules', async () => {
    collector = await startMoesifCollector({ governance: governance({ blockCompany: true }) })
    const handler = withMoesif(okHandler, settingsFor({ baseUri: collector.baseUri, maxWaitMs: 0 }), logger)

    const first = await handler(apiEvent(), lambdaContext('nowait-1'))
    let later = first
    for (let i = 2; later.statusCode !== 402 && i < 40; i++) {
      await sleep(50)
      later = await handler(apiEvent(), lambdaContext(`nowait-${i}`))
    }

    expect(first.statusCode).toBe(200)
    expect(later.statusCode).toBe(402) // once the fetch started at cold start is in
  })
})
