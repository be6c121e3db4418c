/** `GET /local/moesif-events` against a real collector on loopback. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HttpError } from '../../src/lib/runtime/errors'
import { closedPortBaseUri, startMoesifCollector, type MoesifCollector, type MoesifWireEvent } from '../../src/local/moesif-collector'
import { loadMoesifEventsFeedDeps, recentMoesifEvents } from '../../src/local/moesif-events-feed'

let collector: MoesifCollector

const wireEvent = (n: number): MoesifWireEvent => ({
  request: {
    time: new Date(1_700_000_000_000 + n).toISOString(),
    uri: '/v1/whoami',
    verb: 'GET',
    headers: { authorization: '*****', 'x-n': String(n) }
  },
  response: { time: new Date(1_700_000_000_000 + n).toISOString(), status: 200 },
  company_id: 'acme',
  user_id: 'auth0|alice'
})

beforeAll(async () => {
  collector = await startMoesifCollector({ retain: 100 })
  for (let n = 1; n <= 25; n++) {
    const posted = await fetch(`${collector.baseUri}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(wireEvent(n))
    })
    expect(posted.status).toBe(201)
  }
})
afterAll(async () => {
  await collector?.close()
})

describe("the collector's GET /local/events", () => {
  it('answers the retained events, oldest first, as received', async () => {
    const response = await fetch(`${collector.baseUri}/local/events`)
    const { events } = (await response.json()) as { events: MoesifWireEvent[] }

    expect(response.status).toBe(200)
    expect(events).toHaveLength(25)
    expect(events[0]).toEqual(wireEvent(1))
  })
})

describe('recentMoesifEvents', () => {
  it('answers the 20 newest events, newest first', async () => {
    const response = await recentMoesifEvents(
      loadMoesifEventsFeedDeps({ MOESIF_APPLICATION_ID: 'local-collector', MOESIF_BASE_URI: `${collector.baseUri}/` })
    )
    const { events } = JSON.parse(response.body ?? '') as { events: MoesifWireEvent[] }

    expect(response.statusCode).toBe(200)
    expect(events.map((e) => e.request.headers?.['x-n'])).toEqual(Array.from({ length: 20 }, (_, i) => String(25 - i)))
  })

  it.each([
    ['Moesif itself', { MOESIF_APPLICATION_ID: 'real-app-id', MOESIF_BASE_URI: 'https://api.moesif.net' }],
    ['Moesif off', { MOESIF_BASE_URI: 'http://127.0.0.1:1' }],
    ['no base URI', { MOESIF_APPLICATION_ID: 'x' }]
  ])('answers 404 ERR_NO_LOCAL_COLLECTOR for %s, without calling out', async (_case, env) => {
    const deps = loadMoesifEventsFeedDeps(env, () => expect.unreachable('no request expected'))
    await expect(recentMoesifEvents(deps)).rejects.toMatchObject({ statusCode: 404, code: 'ERR_NO_LOCAL_COLLECTOR' })
  })

  it('answers 503 when the collector is down', async () => {
    const deps = loadMoesifEventsFeedDeps({ MOESIF_APPLICATION_ID: 'local-collector', MOESIF_BASE_URI: await closedPortBaseUri() })
    const error = await recentMoesifEvents(deps).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(HttpError)
    expect(error).toMatchObject({ statusCode: 503, code: 'ERR_COLLECTOR_UNAVAILABLE' })
  })
})
