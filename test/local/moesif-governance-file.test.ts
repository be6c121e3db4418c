/**
 * The local collector's governance documents: `GET /v1/rules` and
 * `GET /v1/config` served from `<LOCAL_STATE_DIR>/moesif-governance.json`,
 * reread when it changes, and the example `npm start` writes there.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { compileGovernance, governRequest } from '../../src/lib/moesif/governance'
import {
  describeMoesifEvent,
  ensureMoesifGovernanceFile,
  EXAMPLE_BLOCK_RULE_ID,
  EXAMPLE_GOVERNANCE,
  MOESIF_GOVERNANCE_FILE,
  startMoesifCollector,
  type MoesifCollector
} from '../../src/local/moesif-collector'

let collector: MoesifCollector | undefined
const dirs: string[] = []
afterEach(async () => {
  await collector?.close()
  collector = undefined
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dpk-governance-'))
  dirs.push(dir)
  return dir
}

async function documents(baseUri: string): Promise<{ rules: unknown; config: unknown; etag: string | null; status: number }> {
  const headers = { 'x-moesif-application-id': 'local-collector' }
  const [rules, config] = await Promise.all([fetch(`${baseUri}/v1/rules`, { headers }), fetch(`${baseUri}/v1/config`, { headers })])
  return { rules: await rules.json(), config: await config.json(), etag: config.headers.get('x-moesif-config-etag'), status: rules.status }
}

describe('ensureMoesifGovernanceFile', () => {
  it('writes the example once, readable by its owner only, and never overwrites an edited file', () => {
    const dir = join(stateDir(), 'nested', 'state')

    const path = ensureMoesifGovernanceFile(dir)
    const written = JSON.parse(readFileSync(path, 'utf8')) as unknown
    writeFileSync(path, '{"rules":[],"config":{}}')
    const again = ensureMoesifGovernanceFile(dir)

    expect(path).toBe(join(dir, MOESIF_GOVERNANCE_FILE))
    expect(written).toEqual(EXAMPLE_GOVERNANCE)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(again).toBe(path)
    expect(readFileSync(path, 'utf8')).toBe('{"rules":[],"config":{}}')
  })

  it('holds an example that blocks blocked-co with a 402 naming the company, and adds X-Plan to every API call', () => {
    const governance = compileGovernance(EXAMPLE_GOVERNANCE.rules, EXAMPLE_GOVERNANCE.config)
    const request = { verb: 'GET', route: '/v1/whoami', ip: '127.0.0.1', headers: {}, body: undefined, isBase64Encoded: false }

    const blocked = governRequest(governance, request, { companyId: 'blocked-co', userId: 'auth0|mallory' })
    const allowed = governRequest(governance, request, { companyId: 'acme', userId: 'auth0|alice' })

    expect(governance.ignored).toEqual([])
    expect(blocked?.blocked).toEqual({
      ruleId: EXAMPLE_BLOCK_RULE_ID,
      status: 402,
      body: JSON.stringify({
        code: 'ERR_PAYMENT_REQUIRED',
        message: 'API access for blocked-co is suspended: update your plan in the developer portal.'
      })
    })
    expect(blocked?.headers).toMatchObject({ 'X-Plan': 'local-free', 'X-Moesif-Blocked-By': EXAMPLE_BLOCK_RULE_ID })
    expect(allowed).toEqual({ headers: { 'X-Plan': 'local-free' }, blocked: undefined })
  })

  it("uses the variable's default when the cohort entry has no value", () => {
    const config = { ...EXAMPLE_GOVERNANCE.config, company_rules: { 'blocked-co': [{ rules: EXAMPLE_BLOCK_RULE_ID, values: {} }] } }
    const governance = compileGovernance(EXAMPLE_GOVERNANCE.rules, config)
    const request = { verb: 'GET', route: '/v1/whoami', ip: '127.0.0.1', headers: {}, body: undefined, isBase64Encoded: false }

    const verdict = governRequest(governance, request, { companyId: 'blocked-co', userId: undefined })

    expect(JSON.parse(verdict?.blocked?.body ?? '{}')).toMatchObject({ message: expect.stringContaining('API access for your company is suspended') })
  })
})

describe('the local collector serving governance', () => {
  it('serves no rules and the collector config when none are given', async () => {
    collector = await startMoesifCollector({ config: { sample_rate: 100 } })

    expect(await documents(collector.baseUri)).toEqual({ rules: [], config: { sample_rate: 100 }, etag: 'local-collector-etag', status: 200 })
  })

  it('serves the file, its config merged over the collector config, and rereads it when it changes', async () => {
    const path = ensureMoesifGovernanceFile(stateDir())
    collector = await startMoesifCollector({ governanceFile: path, config: { sample_rate: 50, user_rules: { stale: [] } } })

    const before = await documents(collector.baseUri)
    writeFileSync(path, JSON.stringify({ rules: [EXAMPLE_GOVERNANCE.rules[1]], config: { company_rules: {} } }))
    const after = await documents(collector.baseUri)

    expect(before.rules).toEqual(EXAMPLE_GOVERNANCE.rules)
    expect(before.config).toEqual({ ...EXAMPLE_GOVERNANCE.config, sample_rate: 100 })
    expect(after.rules).toEqual([EXAMPLE_GOVERNANCE.rules[1]])
    expect(after.config).toEqual({ sample_rate: 50, user_rules: { stale: [] }, company_rules: {} })
    expect(after.etag).not.toBe(before.etag)
    expect(collector.requests.filter((r) => r.path === '/v1/rules').every((r) => r.applicationId === 'local-collector')).toBe(true)
  })

  it('answers 503 while the file is not a governance document (a Moesif in trouble), and no rules while it is missing', async () => {
    const dir = stateDir()
    const path = join(dir, MOESIF_GOVERNANCE_FILE)
    collector = await startMoesifCollector({ governanceFile: path })

    const missing = await documents(collector.baseUri)
    writeFileSync(path, '{"rules": [')
    const broken = await fetch(`${collector.baseUri}/v1/rules`)
    writeFileSync(path, '{"rules": {}}')
    const wrongShape = await fetch(`${collector.baseUri}/v1/config`)

    expect(missing.rules).toEqual([])
    expect(broken.status).toBe(503)
    expect(await broken.json()).toEqual({ message: `${MOESIF_GOVERNANCE_FILE} is not JSON` })
    expect(wrongShape.status).toBe(503)
    expect(await wrongShape.json()).toEqual({ message: `${MOESIF_GOVERNANCE_FILE} must be {"rules": [...], "config": {...}}` })
  })

  it('serves governance set in memory, which setGovernance replaces', async () => {
    collector = await startMoesifCollector({ governance: EXAMPLE_GOVERNANCE })

    const first = await documents(collector.baseUri)
    collector.setGovernance(undefined)
    const cleared = await documents(collector.baseUri)

    expect(first.rules).toEqual(EXAMPLE_GOVERNANCE.rules)
    expect(cleared).toMatchObject({ rules: [], config: {}, etag: 'local-collector-etag' })
  })
})

describe('the line npm start prints for a blocked call', () => {
  it('names the rule that blocked it', () => {
    const line = describeMoesifEvent({
      request: { time: '2026-11-30T00:00:00.000Z', uri: 'http://127.0.0.1:3000/v1/whoami', verb: 'GET', headers: { authorization: '*****' } },
      response: { time: '2026-11-30T00:00:00.001Z', status: 402 },
      company_id: 'blocked-co',
      user_id: 'auth0|mallory',
      blocked_by: EXAMPLE_BLOCK_RULE_ID
    })

    expect(line).toBe(
      `moesif event: GET http://127.0.0.1:3000/v1/whoami -> 402 company_id=blocked-co user_id=auth0|mallory authorization=***** blocked_by=${EXAMPLE_BLOCK_RULE_ID}`
    )
  })
})
