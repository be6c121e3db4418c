/**
 * Finding 6: any website could use the local stack. The rule
 * (foreignRequestReason), the local handlers that apply it through middy, and
 * the stack's own node:http servers (Moesif collector, dynalite).
 */
import { request } from 'node:http'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { foreignRequestReason, ownOrigins } from '../../src/local/loopback-guard'
import { ensureKeyTable, startLocalDynamoDb } from '../../src/local/local-dynamodb'
import { startMoesifCollector } from '../../src/local/moesif-collector'
import { ensureLocalState } from '../../src/local/local-state'
import { LOCAL_IDP_AUDIENCE, LOCAL_IDP_ISSUER } from '../../src/local/identity-provider'
import { httpApiEvent, lambdaContext } from '../support/events'

const PORT = 3000
const OWN = { host: '127.0.0.1:3000' }

describe('foreignRequestReason (own page)', () => {
  it.each([
    ['a program (no Origin)', { host: '127.0.0.1:3000' }],
    ['a program via localhost', { host: 'localhost:3000' }],
    ['the console page (same origin)', { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000', 'sec-fetch-site': 'same-origin' }],
    ['the console opened as localhost', { host: 'localhost:3000', origin: 'http://localhost:3000' }],
    ['a typed URL', { host: '127.0.0.1:3000', 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }],
    [
      'a link from elsewhere to the page',
      { host: '127.0.0.1:3000', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }
    ]
  ])('accepts %s', (_name, headers) => {
    expect(foreignRequestReason(headers, PORT, 'own-page', '127.0.0.1')).toBeUndefined()
  })

  it.each([
    [
      'a cross-site POST (text/plain: no preflight)',
      { host: '127.0.0.1:3000', origin: 'https://evil.example' },
      /Origin "https:\/\/evil\.example" is not this stack's own/
    ],
    ['the portal origin (PORTAL_ORIGINS is for the API, not the console)', { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:4000' }, /Origin/],
    ['a sandboxed frame', { host: '127.0.0.1:3000', origin: 'null' }, /Origin "null"/],
    [
      'DNS rebinding (the page is "same-origin" with its own name)',
      { host: 'evil.example:3000', origin: 'http://evil.example:3000' },
      /Host "evil\.example:3000" is not 127\.0\.0\.1:3000/
    ],
    ['another port', { host: '127.0.0.1:3001' }, /Host/],
    ['no Host', {}, /Host \(absent\)/],
    ['a Host with credentials', { host: 'user@127.0.0.1:3000' }, /Host/],
    [
      'a cross-site script tag',
      { host: '127.0.0.1:3000', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' },
      /a cross-site request/
    ],
    [
      'a same-site fetch (another port of 127.0.0.1)',
      { host: '127.0.0.1:3000', 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' },
      /same-site/
    ],
    [
      'a frame from elsewhere',
      { host: '127.0.0.1:3000', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' },
      /cross-site/
    ]
  ])('refuses %s', (_name, headers, reason) => {
    expect(foreignRequestReason(headers, PORT, 'own-page', '127.0.0.1')).toMatch(reason)
  })

  it('refuses a caller that is not on this machine, and reads headers in any case', () => {
    expect(foreignRequestReason(OWN, PORT, 'own-page', '192.0.2.1')).toBe('the caller is not on this machine')
    expect(foreignRequestReason({ Host: '127.0.0.1:3000', Origin: 'https://evil.example' }, PORT, 'own-page', '::ffff:127.0.0.1')).toMatch(/Origin/)
  })

  it('on port 80, accepts the Host and Origin a browser sends without the port', () => {
    expect(ownOrigins(80)).toEqual(['http://127.0.0.1', 'http://localhost'])
    expect(foreignRequestReason({ host: '127.0.0.1', origin: 'http://127.0.0.1' }, 80, 'own-page')).toBeUndefined()
  })
})

describe('foreignRequestReason (programs only)', () => {
  it('accepts a program and refuses any browser, even from the same machine', () => {
    expect(foreignRequestReason({ host: '127.0.0.1:3000' }, PORT, 'programs', '127.0.0.1')).toBeUndefined()
    expect(foreignRequestReason({ host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' }, PORT, 'programs')).toBe(
      'browsers may not call this server'
    )
    expect(foreignRequestReason({ host: '127.0.0.1:3000', 'sec-fetch-site': 'same-origin' }, PORT, 'programs')).toBe(
      'browsers may not call this server'
    )
  })
})

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>

describe('the local-stage handlers (/, /local/*)', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
    vi.resetModules()
  })

  async function load(path: string): Promise<{ handler: Handler; logs: string[]; restore: () => void }> {
    vi.resetModules()
    const { setLogSink } = await import('../../src/lib/runtime/logger')
    const logs: string[] = []
    const restore = setLogSink((line) => logs.push(line))
    const { handler } = (await import(path)) as { handler: Handler }
    return { handler, logs, restore }
  }

  const stateDir = mkdtempSync(join(tmpdir(), 'dpk-guard-'))
  const cases: Array<[string, string, string, string | undefined]> = [
    ['local-console', 'GET /', '../../src/local/handlers/local-console', undefined],
    ['local-console', 'GET /local/console.js', '../../src/local/handlers/local-console', undefined],
    ['local-login', 'POST /local/login', '../../src/local/handlers/local-login', '{"sub":"auth0|mallory"}'],
    ['local-moesif-events', 'GET /local/moesif-events', '../../src/local/handlers/local-moesif-events', undefined]
  ]

  it.each(cases)(
    '%s refuses %s from another website with 403 { message, code: ERR_REFUSED, requestId } and runs nothing',
    async (_name, route, path, body) => {
      // Prepare: a stack on port 3000 whose local login works (it would mint a token if asked).
      await ensureLocalState(stateDir)
      vi.stubEnv('LOCAL_STACK_PORT', String(PORT))
      vi.stubEnv('LOCAL_STATE_DIR', stateDir)
      vi.stubEnv('PORTAL_ISSUER', LOCAL_IDP_ISSUER)
      vi.stubEnv('PORTAL_AUDIENCE', LOCAL_IDP_AUDIENCE)
      const { handler, restore } = await load(path)
      const [method, rawPath] = route.split(' ') as [string, string]

      const attacks: Record<string, string>[] = [
        { host: '127.0.0.1:3000', origin: 'https://evil.example', 'content-type': 'text/plain' },
        { host: 'rebound.evil.example:3000', origin: 'http://rebound.evil.example:3000' }
      ]
      for (const headers of attacks) {
        // Act
        const event = { ...httpApiEvent({ method, path: rawPath, headers, sourceIp: '127.0.0.1' }), ...(body === undefined ? {} : { body }) }
        const response = await handler(event, lambdaContext({ awsRequestId: 'req-guard' }))

        // Assess
        expect(response.statusCode).toBe(403)
        expect(JSON.parse(response.body ?? '')).toEqual({ message: expect.stringMatching(/^Refused: /), code: 'ERR_REFUSED', requestId: 'req-guard' })
        expect(response.body).not.toMatch(/idToken|<html|events/)
      }
      restore()
    }
  )

  it('answers the stack own page as before', async () => {
    vi.stubEnv('LOCAL_STACK_PORT', String(PORT))
    const { handler, restore } = await load('../../src/local/handlers/local-console')
    const event = httpApiEvent({ method: 'GET', path: '/', headers: { host: '127.0.0.1:3000', 'sec-fetch-site': 'none' }, sourceIp: '127.0.0.1' })
    const response = await handler(event, lambdaContext())
    restore()
    expect(response.statusCode).toBe(200)
    expect(response.body).toMatch(/<html/i)
  })

  it('fails closed (500 ERR_CONFIG, detail in the log) when LOCAL_STACK_PORT is missing', async () => {
    vi.stubEnv('LOCAL_STACK_PORT', '')
    const { handler, logs, restore } = await load('../../src/local/handlers/local-console')
    const event = httpApiEvent({ method: 'GET', path: '/', headers: OWN, sourceIp: '127.0.0.1' })
    const response = await handler(event, lambdaContext())
    restore()
    expect(response.statusCode).toBe(500)
    expect(logs.join('\n')).toMatch(/LOCAL_STACK_PORT/)
  })
})

/** A raw request (fetch would not let us set Host), answered with status and body. */
function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {}
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

describe('the Moesif collector and dynalite take requests from programs on this machine only', () => {
  it('the collector refuses a browser or another Host, and still records what the Moesif client sends', async () => {
    const collector = await startMoesifCollector()
    try {
      const { port } = new URL(collector.baseUri)
      const rebound = await send(`${collector.baseUri}/local/events`, { headers: { host: `evil.example:${port}` } })
      const crossSite = await send(`${collector.baseUri}/local/events`, { headers: { origin: 'https://evil.example' } })
      const forged = await send(`${collector.baseUri}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', origin: 'https://evil.example' },
        body: JSON.stringify({ request: { time: 't', uri: '/v1/whoami', verb: 'GET' }, response: { time: 't', status: 200 }, company_id: 'forged' })
      })
      for (const refused of [rebound, crossSite, forged]) {
        expect(refused.status).toBe(403)
        expect(JSON.parse(refused.body)).toEqual({ message: expect.stringMatching(/^Refused: /), code: 'ERR_REFUSED', requestId: expect.any(String) })
      }
      expect(collector.events).toEqual([])
      expect(collector.requests).toEqual([])

      const own = await send(`${collector.baseUri}/local/events`)
      expect(own.status).toBe(200)
    } finally {
      await collector.close()
    }
  })

  it('dynalite refuses a browser (it would answer any origin CORS: *) and still serves the SDK', async () => {
    const db = await startLocalDynamoDb()
    try {
      const preflight = await send(`${db.endpoint}/`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-amz-target' }
      })
      expect(preflight.status).toBe(403)
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined()
      const rebound = await send(`${db.endpoint}/`, {
        method: 'POST',
        headers: { host: 'evil.example', 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'application/x-amz-json-1.0' },
        body: '{}'
      })
      expect(rebound.status).toBe(403)
      expect(await ensureKeyTable(db.endpoint, 'guarded-table')).toBe('created')
    } finally {
      await db.close()
    }
  })
})
