import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createMoesifProfileUpdater } from '../../../src/lib/moesif/profiles'
import { moesifSettingsFromEnv } from '../../../src/lib/moesif/settings'
import { Logger, setLogSink } from '../../../src/lib/runtime/logger'

interface Received {
  readonly path: string
  readonly applicationId: string | undefined
  readonly body: unknown
}

const servers: Server[] = []
afterEach(async () => {
  for (const server of servers) server.closeAllConnections()
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

/** A loopback Moesif API that answers with `status`, or never (`'hang'`). */
async function moesifApi(answer: number | 'hang'): Promise<{ baseUri: string; received: Received[] }> {
  const received: Received[] = []
  const server = createServer((req: IncomingMessage, res) => {
    let raw = ''
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')))
    req.on('end', () => {
      received.push({ path: req.url ?? '', applicationId: req.headers['x-moesif-application-id'] as string | undefined, body: JSON.parse(raw) })
      if (answer !== 'hang') res.writeHead(answer).end()
    })
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { baseUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received }
}

function capture(): { lines: Array<Record<string, unknown>>; restore: () => void } {
  const lines: Array<Record<string, unknown>> = []
  const restore = setLogSink((line) => lines.push(JSON.parse(line) as Record<string, unknown>))
  return { lines, restore }
}

const profile = {
  companyId: 'cus_123',
  userId: 'cus_123',
  email: 'alice@acme.test',
  portalUserId: 'auth0|alice',
  plan: { subscriptionId: 'sub_1', priceIds: ['price_basic'], productIds: ['prod_basic'] }
}

describe('createMoesifProfileUpdater', () => {
  it('posts the company (plan in metadata) and the user (company and email) with the application id', async () => {
    const api = await moesifApi(201)
    const update = createMoesifProfileUpdater(
      moesifSettingsFromEnv({ MOESIF_APPLICATION_ID: 'app-id-for-tests', MOESIF_BASE_URI: api.baseUri }),
      new Logger({ service: 'test' })
    )
    await update(profile)
    expect(api.received.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      {
        path: '/v1/companies',
        applicationId: 'app-id-for-tests',
        body: { company_id: 'cus_123', metadata: { plan: { subscription_id: 'sub_1', price_ids: ['price_basic'], product_ids: ['prod_basic'] } } }
      },
      {
        path: '/v1/users',
        applicationId: 'app-id-for-tests',
        body: { user_id: 'cus_123', company_id: 'cus_123', metadata: { email: 'alice@acme.test', portal_user_id: 'auth0|alice' } }
      }
    ])
  })

  it('gives up after MOESIF_MAX_WAIT_MS on a Moesif that never answers, logging a WARN and never throwing', async () => {
    const api = await moesifApi('hang')
    const { lines, restore } = capture()
    try {
      const update = createMoesifProfileUpdater(
        moesifSettingsFromEnv({ MOESIF_APPLICATION_ID: 'app', MOESIF_BASE_URI: api.baseUri, MOESIF_MAX_WAIT_MS: '50' }),
        new Logger({ service: 'test' })
      )
      await expect(update(profile)).resolves.toBeUndefined()
    } finally {
      restore()
    }
    expect(lines.filter((line) => line.message === 'moesif profile not updated').map((line) => line.error)).toEqual([
      'no answer within 50 ms',
      'no answer within 50 ms'
    ])
  })

  it('logs a refused update by status only, never throwing', async () => {
    const api = await moesifApi(500)
    const { lines, restore } = capture()
    try {
      await createMoesifProfileUpdater(
        moesifSettingsFromEnv({ MOESIF_APPLICATION_ID: 'app', MOESIF_BASE_URI: api.baseUri }),
        new Logger({ service: 'test' })
      )(profile)
    } finally {
      restore()
    }
    const warnings = lines.filter((line) => line.message === 'moesif profile not updated')
    expect(warnings.map((line) => [line.profile, line.error])).toEqual([
      ['company', 'HTTP 500'],
      ['user', 'HTTP 500']
    ])
    expect(JSON.stringify(warnings)).not.toContain('alice@acme.test')
  })

  it('does nothing without MOESIF_APPLICATION_ID', async () => {
    const api = await moesifApi(201)
    await createMoesifProfileUpdater(moesifSettingsFromEnv({ MOESIF_BASE_URI: api.baseUri }), new Logger({ service: 'test' }))(profile)
    expect(api.received).toEqual([])
  })
})
