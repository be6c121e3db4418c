/**
 * The deployed protected API (Moesif outermost, middy inside) with real
 * payload 2.0 events carrying the Lambda authorizer's context, and the real
 * moesif-aws-lambda sending to a collector on loopback.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type * as WhoamiHandlerModule from '../../src/handlers/whoami'
import { EXAMPLE_BLOCK_RULE_ID, EXAMPLE_GOVERNANCE, startMoesifCollector, type MoesifCollector } from '../../src/local/moesif-collector'
import { coldStartModule } from '../support/cold-start'
import { authorizedEvent, httpApiEvent, lambdaContext } from '../support/events'

type WhoamiModule = typeof WhoamiHandlerModule
type WhoamiEvent = Parameters<WhoamiModule['handler']>[0]
const loadWhoami = () => import('../../src/handlers/whoami')

const identity = { orgId: 'acme', userId: 'auth0|alice', keyId: '6bdf41ed-5a20-4988-83ed-6440fc00cbe2' }

describe('whoami handler', () => {
  let collector: MoesifCollector | undefined
  afterEach(async () => {
    await collector?.close()
    collector = undefined
  })

  it('answers 200 with the authorizer context, and Moesif is off without an application id', async () => {
    // Prepare
    const { module, lines } = await coldStartModule(loadWhoami, {})

    // Act
    const response = await module.handler(
      authorizedEvent(identity, { headers: { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig' } }) as unknown as WhoamiEvent,
      lambdaContext()
    )

    // Assess
    expect(response.statusCode).toBe(200)
    expect(JSON.parse(response.body as string)).toEqual(identity)
    expect(response.headers).toMatchObject({ 'cache-control': 'no-store' })
    expect(lines.map((l) => JSON.parse(l) as { message: string }).filter((l) => l.message.startsWith('moesif disabled'))).toHaveLength(1)
  })

  it('answers a generic 500 (never an anonymous 200) when the route has no authorizer context', async () => {
    const { module, lines } = await coldStartModule(loadWhoami, {})

    const response = await module.handler(httpApiEvent({ path: '/v1/whoami' }) as WhoamiEvent, lambdaContext())

    expect(response.statusCode).toBe(500)
    expect(JSON.parse(response.body as string)).toMatchObject({ message: 'Internal Server Error' })
    expect(lines.some((l) => l.includes('ERR_NO_AUTHORIZER_CONTEXT'))).toBe(true)
  })

  it('loads with a bad MOESIF_MAX_WAIT_MS and answers its first request with a generic 500, logging the variable', async () => {
    // Prepare: the import itself must not throw
    const { module, lines } = await coldStartModule(loadWhoami, { MOESIF_APPLICATION_ID: 'moesif-app-credential', MOESIF_MAX_WAIT_MS: 'soon' })

    // Act
    const response = await module.handler(authorizedEvent(identity) as unknown as WhoamiEvent, lambdaContext())

    // Assess
    expect(response.statusCode).toBe(500)
    expect(response.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
    expect(JSON.parse(response.body as string)).toEqual({ message: 'Internal Server Error', code: 'ERR_INTERNAL', requestId: expect.any(String) })
    const errors = lines
      .map((l) => JSON.parse(l) as { level: string; error?: { name?: string; message?: string } })
      .filter((l) => l.level === 'ERROR')
    expect(errors).toHaveLength(1)
    expect(errors[0]?.error).toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(/^Invalid configuration: MOESIF_MAX_WAIT_MS must be /)
    })
    for (const text of [response.body as string, ...lines]) {
      expect(text).not.toContain('soon')
      expect(text).not.toContain('moesif-app-credential')
    }
  })

  it('reports the call to Moesif by company and user, with the key masked', async () => {
    // Prepare
    collector = await startMoesifCollector()
    const apiKey = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJvcmdfaWQiOiJhY21lIn0.c2lnbmF0dXJl'
    const { module } = await coldStartModule(loadWhoami, { MOESIF_APPLICATION_ID: 'test-app', MOESIF_BASE_URI: collector.baseUri })

    // Act
    const response = await module.handler(
      authorizedEvent(identity, { headers: { authorization: `Bearer ${apiKey}`, 'x-api-key': apiKey } }) as unknown as WhoamiEvent,
      lambdaContext()
    )
    const [event] = await collector.waitForEvents(1, 5000)

    // Assess
    expect(response.statusCode).toBe(200)
    expect(event).toMatchObject({ company_id: 'acme', user_id: 'auth0|alice', response: { status: 200 } })
    expect(JSON.stringify(event)).not.toContain(apiKey)
    expect(event?.metadata).not.toHaveProperty('request_context')
  })

  it('reports a call whose body is nested 5,000 levels deep exactly once, with the body replaced by a marker', async () => {
    // Prepare: ~10 KB that made moesif-aws-lambda's JSON.stringify throw, so the call went unmetered.
    collector = await startMoesifCollector()
    const { module, lines } = await coldStartModule(loadWhoami, { MOESIF_APPLICATION_ID: 'test-app', MOESIF_BASE_URI: collector.baseUri })
    const deep = '['.repeat(5000) + ']'.repeat(5000)

    // Act
    const response = await module.handler(authorizedEvent(identity, { method: 'POST', body: deep }) as unknown as WhoamiEvent, lambdaContext())
    const events = await collector.waitForEvents(1, 5000)
    await new Promise((resolve) => setTimeout(resolve, 200))

    // Assess
    expect(response.statusCode).toBe(200)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      company_id: 'acme',
      user_id: 'auth0|alice',
      request: { verb: 'POST', body: '[body not logged: JSON nested deeper than 64 levels]' },
      metadata: { body_not_logged: { request: 'JSON nested deeper than 64 levels' } }
    })
    expect(lines.filter((l) => l.includes('"WARN"'))).toEqual([])
  })

  describe('Moesif governance rules', () => {
    // The local stack's example rules: blocked-co is blocked (402), every /v1/ call gets X-Plan.
    const blockedCo = { orgId: 'blocked-co', userId: 'auth0|mallory', keyId: '0d7d3e51-1a56-4d7c-9a5e-6f1f1c1d2e3f' }
    // A roomy MOESIF_MAX_WAIT_MS: the cold start's wait for the rules must not run out on a loaded machine (the bound has its own tests).
    const moesifEnv = (baseUri: string) => ({ MOESIF_APPLICATION_ID: 'test-app', MOESIF_BASE_URI: baseUri, MOESIF_MAX_WAIT_MS: '2000' })
    const parsedLines = (lines: string[]) => lines.map((l) => JSON.parse(l) as { level: string; message: string; code?: string })

    it('blocks a company a rule blocks: the rule status, body and headers, X-Moesif-Blocked-By, and one event with blocked_by', async () => {
      // Prepare
      collector = await startMoesifCollector({ governance: EXAMPLE_GOVERNANCE })
      const { module, lines } = await coldStartModule(loadWhoami, moesifEnv(collector.baseUri))

      // Act
      const response = await module.handler(authorizedEvent(blockedCo) as unknown as WhoamiEvent, lambdaContext())
      const events = await collector.waitForEvents(1, 5000)
      await new Promise((resolve) => setTimeout(resolve, 200))

      // Assess
      expect(response.statusCode).toBe(402)
      expect(response.headers).toEqual({
        'X-Plan': 'local-free',
        'X-Blocked-Reason': 'payment-required',
        'Content-Type': 'application/json',
        'X-Moesif-Blocked-By': EXAMPLE_BLOCK_RULE_ID
      })
      expect(JSON.parse(response.body as string)).toEqual({
        code: 'ERR_PAYMENT_REQUIRED',
        message: 'API access for blocked-co is suspended: update your plan in the developer portal.'
      })
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({ blocked_by: EXAMPLE_BLOCK_RULE_ID, company_id: 'blocked-co', response: { status: 402 } })
      expect(parsedLines(lines).filter((l) => l.level === 'WARN' || l.level === 'ERROR')).toEqual([])
    })

    it('never runs whoami for a blocked call: a call whoami would fail (no authorizer context) gets the rule answer instead', async () => {
      // Prepare: a rule for callers without a company; whoami would answer 500 and log ERR_NO_AUTHORIZER_CONTEXT.
      const rules = [
        {
          _id: 'block-anonymous',
          type: 'company',
          block: true,
          applied_to_unidentified: true,
          regex_config: [{ conditions: [{ path: 'request.route', value: '^/v1/whoami' }] }],
          response: { status: 403, body: { code: 'ERR_ANONYMOUS' } }
        }
      ]
      collector = await startMoesifCollector({ governance: { rules, config: {} } })
      const { module, lines } = await coldStartModule(loadWhoami, moesifEnv(collector.baseUri))

      // Act
      const response = await module.handler(httpApiEvent({ path: '/v1/whoami' }) as WhoamiEvent, lambdaContext())

      // Assess
      expect(response.statusCode).toBe(403)
      expect(response.headers).toMatchObject({ 'X-Moesif-Blocked-By': 'block-anonymous' })
      expect(JSON.parse(response.body as string)).toEqual({ code: 'ERR_ANONYMOUS' })
      expect(lines.some((l) => l.includes('ERR_NO_AUTHORIZER_CONTEXT'))).toBe(false)
    })

    it('lets other companies through with the header-only rule applied', async () => {
      collector = await startMoesifCollector({ governance: EXAMPLE_GOVERNANCE })
      const { module } = await coldStartModule(loadWhoami, moesifEnv(collector.baseUri))

      const response = await module.handler(authorizedEvent(identity) as unknown as WhoamiEvent, lambdaContext())
      const [event] = await collector.waitForEvents(1, 5000)

      expect(response.statusCode).toBe(200)
      expect(JSON.parse(response.body as string)).toEqual(identity)
      expect(response.headers).toMatchObject({ 'X-Plan': 'local-free', 'cache-control': 'no-store' })
      expect(event).not.toHaveProperty('blocked_by')
    })

    it('answers its first request with a generic 500 for a bad MOESIF_RULES_TTL, logging the variable', async () => {
      const { module, lines } = await coldStartModule(loadWhoami, { MOESIF_APPLICATION_ID: 'test-app', MOESIF_RULES_TTL: '0' })

      const response = await module.handler(authorizedEvent(identity) as unknown as WhoamiEvent, lambdaContext())

      expect(response.statusCode).toBe(500)
      const errors = parsedLines(lines).filter((l) => l.level === 'ERROR') as { error?: { message?: string } }[]
      expect(errors).toHaveLength(1)
      expect(errors[0]?.error?.message).toBe('Invalid configuration: MOESIF_RULES_TTL must be a whole number of seconds from 1 to 86400')
    })
  })
})
