/**
 * Fetching and keeping the governance rules: both documents at cold start,
 * a refresh once they are older than the TTL, the last good rules kept when
 * Moesif is down or answers garbage (one WARN per failed refresh), and calls
 * allowed while there are none. Against a Moesif API on loopback whose
 * answers each test scripts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { governRequest, type GovernanceRequest } from '../../../src/lib/moesif/governance'
import { httpGovernanceFetcher, MoesifGovernanceRules, type GovernanceFetcher } from '../../../src/lib/moesif/governance-rules'
import { Logger } from '../../../src/lib/runtime/logger'
import { closedPortBaseUri } from '../../../src/local/moesif-collector'
import { captureLogs, linesOf } from './fixtures'

/** How the fake Moesif answers a document request (`gzip: 'claimed'` says gzip and sends plain text). */
type Answer = { status: number; body: string; gzip?: boolean | 'claimed' } | 'hang' | 'reset'

interface FakeMoesif {
  readonly baseUri: string
  readonly requests: { path: string; applicationId: string | undefined; acceptEncoding: string | undefined }[]
  answer: { rules: Answer; config: Answer }
}

const servers: Server[] = []
let logs: ReturnType<typeof captureLogs> | undefined
afterEach(async () => {
  logs?.restore()
  logs = undefined
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        })
    )
  )
})

async function fakeMoesif(answer: FakeMoesif['answer']): Promise<FakeMoesif> {
  const fake: Omit<FakeMoesif, 'baseUri'> = { requests: [], answer }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? ''
    fake.requests.push({
      path,
      applicationId: req.headers['x-moesif-application-id'] as string | undefined,
      acceptEncoding: req.headers['accept-encoding'] as string | undefined
    })
    const reply = path === '/v1/rules' ? fake.answer.rules : fake.answer.config
    if (reply === 'hang') return
    if (reply === 'reset') {
      req.socket.destroy()
      return
    }
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-moesif-config-etag': 'etag-1' }
    if (reply.gzip !== undefined && reply.gzip !== false) headers['content-encoding'] = 'gzip'
    res.writeHead(reply.status, headers)
    res.end(reply.gzip === true ? gzipSync(reply.body) : reply.body)
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return Object.assign(fake, { baseUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
}

const ok = (document: unknown): Answer => ({ status: 200, body: JSON.stringify(document) })
const blockAcme = [
  {
    _id: 'block-acme',
    type: 'company',
    block: true,
    applied_to: 'matching',
    regex_config: [],
    response: { status: 402, headers: {}, body: { message: 'pay' } }
  }
]
const acmeCohort = { company_rules: { acme: [{ rules: 'block-acme', values: {} }] }, user_rules: {} }
const request: GovernanceRequest = { verb: 'GET', route: '/v1/whoami', ip: '198.51.100.7', headers: {}, body: undefined, isBase64Encoded: false }
const logger = new Logger({ service: 'governance-test', level: 'DEBUG' })

/** A clock the test moves. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let at = start
  return { now: () => at, advance: (ms) => (at += ms) }
}

function blocksAcme(rules: MoesifGovernanceRules): boolean | undefined {
  const current = rules.current
  if (current === undefined) return undefined
  return governRequest(current, request, { companyId: 'acme', userId: undefined })?.blocked !== undefined
}

describe('httpGovernanceFetcher', () => {
  it('GETs both documents with the application id, accepting gzip, and returns their text and the config etag', async () => {
    const moesif = await fakeMoesif({ rules: { status: 200, body: JSON.stringify(blockAcme), gzip: true }, config: ok(acmeCohort) })

    const documents = await httpGovernanceFetcher({ applicationId: 'app-id', baseUri: `${moesif.baseUri}/` })()

    expect(JSON.parse(documents.rules)).toEqual(blockAcme)
    expect(JSON.parse(documents.config)).toEqual(acmeCohort)
    expect(documents.etag).toBe('etag-1')
    expect(moesif.requests.map((r) => r.path).sort()).toEqual(['/v1/config', '/v1/rules'])
    expect(moesif.requests.every((r) => r.applicationId === 'app-id' && r.acceptEncoding === 'gzip')).toBe(true)
  })

  it.each([
    { name: 'a non-200 answer', rules: { status: 503, body: '{}' } as Answer, code: 'HTTP 503' },
    { name: 'a reset connection', rules: 'reset' as Answer, code: 'ECONNRESET' },
    { name: 'no answer in time', rules: 'hang' as Answer, code: 'ETIMEDOUT' },
    { name: 'a gzip body that is not gzip', rules: { status: 200, body: '[]', gzip: 'claimed' } as Answer, code: 'EGUNZIP' }
  ])('rejects on $name, with a code and no body', async ({ rules, code }) => {
    const moesif = await fakeMoesif({ rules, config: ok({}) })

    const fetched = httpGovernanceFetcher({ applicationId: 'app-id', baseUri: moesif.baseUri, responseTimeoutMs: 300 })()

    await expect(fetched).rejects.toMatchObject({ code })
  })

  it('rejects when Moesif is down (connection refused)', async () => {
    await expect(httpGovernanceFetcher({ applicationId: 'app-id', baseUri: await closedPortBaseUri() })()).rejects.toMatchObject({
      code: 'ECONNREFUSED'
    })
  })
})

describe('MoesifGovernanceRules', () => {
  it('fetches at cold start and allows every call until the rules are in (fail open)', async () => {
    const moesif = await fakeMoesif({ rules: ok(blockAcme), config: ok(acmeCohort) })
    const rules = new MoesifGovernanceRules({
      fetchDocuments: httpGovernanceFetcher({ applicationId: 'app-id', baseUri: moesif.baseUri }),
      ttlMs: 60_000,
      logger
    })

    const refresh = rules.refreshIfStale()
    const before = rules.current
    await refresh

    expect(before).toBeUndefined()
    expect(blocksAcme(rules)).toBe(true)
    expect(rules.refreshIfStale()).toBeUndefined() // fresh for a TTL
  })

  it('refreshes once the rules are older than the TTL, one refresh at a time, and applies the new rules', async () => {
    logs = captureLogs()
    const clock = manualClock()
    const moesif = await fakeMoesif({ rules: ok(blockAcme), config: ok(acmeCohort) })
    const rules = new MoesifGovernanceRules({
      fetchDocuments: httpGovernanceFetcher({ applicationId: 'app-id', baseUri: moesif.baseUri }),
      ttlMs: 60_000,
      logger,
      now: clock.now
    })
    await rules.refreshIfStale()

    // Act: the rule is removed in Moesif.
    moesif.answer = { rules: ok([]), config: ok({ company_rules: {}, user_rules: {} }) }
    clock.advance(59_999)
    const early = rules.refreshIfStale()
    clock.advance(1)
    const due = rules.refreshIfStale()
    const concurrent = rules.refreshIfStale()
    await due

    // Assess
    expect(early).toBeUndefined()
    expect(due).toBeInstanceOf(Promise)
    expect(concurrent).toBeUndefined()
    expect(blocksAcme(rules)).toBe(false)
    expect(moesif.requests).toHaveLength(4)
    expect(linesOf(logs.lines, 'INFO', 'moesif governance rules loaded')).toEqual([
      expect.objectContaining({ rules: 1, ignored: 0, etag: 'etag-1' }),
      expect.objectContaining({ rules: 0, ignored: 0 })
    ])
  })

  it('does not compile or log again when the documents have not changed', async () => {
    logs = captureLogs()
    const clock = manualClock()
    const fetchDocuments: GovernanceFetcher = async () => ({ rules: JSON.stringify(blockAcme), config: JSON.stringify(acmeCohort), etag: 'same' })
    const rules = new MoesifGovernanceRules({ fetchDocuments, ttlMs: 1_000, logger, now: clock.now })

    await rules.refreshIfStale()
    const first = rules.current
    clock.advance(1_000)
    await rules.refreshIfStale()

    expect(rules.current).toBe(first)
    expect(linesOf(logs.lines, 'INFO', 'moesif governance rules loaded')).toHaveLength(1)
  })

  it.each([
    { name: 'Moesif down', answer: 'down' as const, errorCode: 'ECONNREFUSED' },
    { name: 'a 500', answer: { rules: { status: 500, body: 'oops' }, config: ok(acmeCohort) }, errorCode: 'HTTP 500' },
    {
      name: 'rules that are not JSON',
      answer: { rules: { status: 200, body: '<html>' }, config: ok(acmeCohort) },
      errorCode: 'GovernanceDocumentError'
    },
    { name: 'rules that are not an array', answer: { rules: ok({ rules: [] }), config: ok(acmeCohort) }, errorCode: 'GovernanceDocumentError' },
    { name: 'a config that is not an object', answer: { rules: ok([]), config: ok(null) }, errorCode: 'GovernanceDocumentError' },
    {
      name: 'a truncated config',
      answer: { rules: ok([]), config: { status: 200, body: '{"company_rules": {' } },
      errorCode: 'GovernanceDocumentError'
    }
  ])('keeps the last good rules through $name, with one WARN per failed refresh, retrying a TTL later', async ({ answer, errorCode }) => {
    logs = captureLogs()
    const clock = manualClock()
    const moesif = await fakeMoesif({ rules: ok(blockAcme), config: ok(acmeCohort) })
    let baseUri = moesif.baseUri
    const rules = new MoesifGovernanceRules({
      fetchDocuments: () => httpGovernanceFetcher({ applicationId: 'app-id', baseUri, responseTimeoutMs: 500 })(),
      ttlMs: 10_000,
      logger,
      now: clock.now
    })
    await rules.refreshIfStale()
    if (answer === 'down') baseUri = await closedPortBaseUri()
    else moesif.answer = answer

    // Act: two refreshes fail, a TTL apart.
    clock.advance(10_000)
    await rules.refreshIfStale()
    const retriedAtOnce = rules.refreshIfStale()
    clock.advance(10_000)
    await rules.refreshIfStale()

    // Assess
    expect(retriedAtOnce).toBeUndefined()
    expect(blocksAcme(rules)).toBe(true)
    expect(rules.failures).toBe(2)
    const warnings = linesOf(logs.lines, 'WARN', 'moesif governance rules not refreshed')
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toMatchObject({ errorCode, kept: 'the last good rules (1)', retryInSeconds: 10 })
    expect(JSON.stringify(logs.lines)).not.toContain('oops')
    expect(JSON.stringify(logs.lines)).not.toContain('<html>')
  })

  it('allows every call when the cold-start fetch fails, and picks the rules up on a later refresh', async () => {
    logs = captureLogs()
    const clock = manualClock()
    let fail = true
    const fetchDocuments: GovernanceFetcher = async () => {
      if (fail) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
      return { rules: JSON.stringify(blockAcme), config: JSON.stringify(acmeCohort), etag: undefined }
    }
    const rules = new MoesifGovernanceRules({ fetchDocuments, ttlMs: 5_000, logger, now: clock.now })

    await rules.refreshIfStale()
    const afterFailure = rules.current
    fail = false
    clock.advance(5_000)
    await rules.refreshIfStale()

    expect(afterFailure).toBeUndefined()
    expect(linesOf(logs.lines, 'WARN', 'moesif governance rules not refreshed')).toEqual([
      expect.objectContaining({ errorCode: 'ECONNREFUSED', kept: 'no rules: calls are allowed' })
    ])
    expect(blocksAcme(rules)).toBe(true)
  })

  it('never rejects, even when the fetcher throws synchronously or the log sink fails', async () => {
    const failingLogger = new Logger({ service: 'governance-test' })
    failingLogger.warn = () => {
      throw new Error('log sink down')
    }
    const rules = new MoesifGovernanceRules({
      fetchDocuments: () => {
        throw new Error('bug')
      },
      ttlMs: 5_000,
      logger: failingLogger
    })

    await expect(rules.refreshIfStale()).resolves.toBeUndefined()
    expect(rules.current).toBeUndefined()
  })

  it('warns once per new document about the rules it leaves out, naming them', async () => {
    logs = captureLogs()
    const documents = {
      rules: JSON.stringify([...blockAcme, { _id: 'no-status', type: 'regex', block: true, response: {} }]),
      config: '{}',
      etag: 'e'
    }
    const rules = new MoesifGovernanceRules({ fetchDocuments: async () => documents, ttlMs: 5_000, logger })

    await rules.refreshIfStale()

    expect(linesOf(logs.lines, 'WARN', 'moesif governance rules ignored')).toEqual([
      expect.objectContaining({ ignored: [{ id: 'no-status', reason: 'a blocking rule needs a response.status from 100 to 599' }] })
    ])
  })

  it('at cold start, lets a call wait for the first fetch until maxWaitMs after it started, and no longer', async () => {
    let release: () => void = () => undefined
    const fetchDocuments: GovernanceFetcher = () =>
      new Promise((resolve) => {
        release = () => resolve({ rules: JSON.stringify(blockAcme), config: JSON.stringify(acmeCohort), etag: undefined })
      })
    const rules = new MoesifGovernanceRules({ fetchDocuments, ttlMs: 60_000, logger })
    expect(rules.coldStartWait(100)).toBeUndefined() // no fetch yet

    rules.refreshIfStale()
    const wait = rules.coldStartWait(100)
    await new Promise((resolve) => setTimeout(resolve, 120))
    const late = rules.coldStartWait(100)
    release()
    await wait?.done

    expect(wait?.ms).toBeGreaterThan(90)
    expect(wait?.ms).toBeLessThanOrEqual(100)
    expect(late).toBeUndefined()
    expect(rules.coldStartWait(10_000)).toBeUndefined() // settled: never again
    expect(blocksAcme(rules)).toBe(true)
  })

  it('refuses a TTL that is not a positive number', () => {
    expect(
      () => new MoesifGovernanceRules({ fetchDocuments: async () => ({ rules: '[]', config: '{}', etag: undefined }), ttlMs: 0, logger })
    ).toThrow(TypeError)
  })
})
