/**
 * The deployed protected API (Moesif outermost, middy inside) with real
 * payload 2.0 events carrying the Lambda authorizer's context, and the real
 * moesif-aws-lambda sending to a collector on loopback.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type * as WhoamiHandlerModule from '../../src/handlers/whoami'
import { startMoesifCollector, type MoesifCollector } from '../../src/local/moesif-collector'
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
})
