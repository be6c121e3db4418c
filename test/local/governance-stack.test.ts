import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ensureMoesifGovernanceFile,
  EXAMPLE_BLOCK_RULE_ID,
  EXAMPLE_GOVERNANCE,
  startMoesifCollector,
  type MoesifCollector,
  type MoesifWireEvent
} from '../../src/local/moesif-collector'
import { stackStartTimeout, startLocalStack, STACK_TIMEOUTS, type LocalStack } from '../support/local-stack'

/**
 * Moesif governance end to end, through the local stack (serverless-offline
 * running the esbuild bundles, the local identity provider) and a Moesif
 * collector on loopback serving the example rules from
 * `<state>/moesif-governance.json`, as `npm start`'s collector does:
 * a company rule blocks whoami with its status, body and headers and the
 * handler never runs; Moesif gets one event with `blocked_by`; the key
 * console shows the block; removing the rule from the file unblocks within
 * MOESIF_RULES_TTL; with Moesif down, calls pass. One stack for the file;
 * timeouts from test/support/local-stack.ts.
 */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const TTL_SECONDS = 2

describe('end-to-end: Moesif governance through the local stack', { timeout: STACK_TIMEOUTS.call }, () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'dpk-governance-'))
  let governanceFile: string
  let collector: MoesifCollector
  let stack: LocalStack
  let blockedKey: string
  let acmeKey: string

  beforeAll(async () => {
    governanceFile = ensureMoesifGovernanceFile(stateDir)
    collector = await startMoesifCollector({ governanceFile })
    stack = await startLocalStack(
      { MOESIF_APPLICATION_ID: 'e2e-governance', MOESIF_BASE_URI: collector.baseUri, MOESIF_RULES_TTL: String(TTL_SECONDS) },
      { stateDir }
    )
    ;[blockedKey, acmeKey] = await Promise.all([keyFor('auth0|mallory', 'blocked-co'), keyFor('auth0|alice', 'acme')])
  }, stackStartTimeout())

  afterAll(async () => {
    await stack?.stop()
    await collector?.close()
    rmSync(stateDir, { recursive: true, force: true })
  })

  /** An API key for a portal user of the local identity provider, as the key console gets one. */
  async function keyFor(sub: string, org: string): Promise<string> {
    const login = await fetch(`${stack.baseUrl}/local/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub, org })
    })
    if (login.status !== 200) throw new Error(`local login: ${login.status} ${await login.text()}`)
    const { idToken } = (await login.json()) as { idToken: string }
    const created = await fetch(`${stack.baseUrl}/create-key`, {
      method: 'POST',
      headers: { authorization: `Bearer ${idToken}`, 'content-type': 'application/json' },
      body: '{}'
    })
    if (created.status !== 201) throw new Error(`create-key: ${created.status} ${await created.text()}`)
    return ((await created.json()) as { apikey: string }).apikey
  }

  let calls = 0
  /** GET /v1/whoami with a call id of its own, so its Moesif event can be found. */
  async function whoami(apiKey: string): Promise<{ status: number; headers: Headers; body: unknown; callId: string }> {
    const callId = `governance-${++calls}`
    const response = await fetch(`${stack.baseUrl}/v1/whoami`, { headers: { authorization: `Bearer ${apiKey}`, 'x-console-call-id': callId } })
    const text = await response.text()
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : (JSON.parse(text) as unknown), callId }
  }

  /** Call until `done` holds (each call a fresh one), or fail after `timeoutMs`. */
  async function callUntil(apiKey: string, done: (r: Awaited<ReturnType<typeof whoami>>) => boolean, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const result = await whoami(apiKey)
      if (done(result)) return result
      if (Date.now() > deadline) throw new Error(`not reached in ${timeoutMs} ms; last answer ${result.status} ${JSON.stringify(result.body)}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }

  /** The events of one call, after the collector has had time to receive a second one (there must be none). */
  async function eventsOf(callId: string): Promise<MoesifWireEvent[]> {
    const ofCall = (): MoesifWireEvent[] => collector.events.filter((e) => e.request.headers?.['x-console-call-id'] === callId)
    const deadline = Date.now() + 10_000
    while (ofCall().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    await new Promise((resolve) => setTimeout(resolve, 500))
    return ofCall()
  }

  it('blocks whoami for the company a rule blocks, with the rule status, body and headers; the handler never runs; Moesif gets one event with blocked_by', async () => {
    // Prepare: the whoami function's cold start fetched the rules (at most MOESIF_MAX_WAIT_MS); once they are in, acme gets X-Plan.
    const acme = await callUntil(acmeKey, (r) => r.headers.get('x-plan') === 'local-free', 30_000)

    // Act
    const blocked = await whoami(blockedKey)
    const events = await eventsOf(blocked.callId)

    // Assess: acme passes, with the header-only rule's header.
    expect(acme.status).toBe(200)
    expect(acme.body).toMatchObject({ orgId: 'acme', userId: 'auth0|alice' })
    // blocked-co gets the rule's answer, not whoami's.
    expect(blocked.status).toBe(402)
    expect(blocked.body).toEqual({
      code: 'ERR_PAYMENT_REQUIRED',
      message: 'API access for blocked-co is suspended: update your plan in the developer portal.'
    })
    expect(blocked.headers.get('x-moesif-blocked-by')).toBe(EXAMPLE_BLOCK_RULE_ID)
    expect(blocked.headers.get('x-blocked-reason')).toBe('payment-required')
    expect(blocked.headers.get('x-plan')).toBe('local-free')
    expect(blocked.headers.get('content-type')).toMatch(/^application\/json/) // serverless-offline adds a charset
    expect(stack.output()).toContain('"message":"moesif governance blocked the call"')
    // One event, marked with the rule.
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      blocked_by: EXAMPLE_BLOCK_RULE_ID,
      company_id: 'blocked-co',
      user_id: 'auth0|mallory',
      response: { status: 402, body: blocked.body }
    })
    expect(events[0]?.request.headers?.authorization).toBe('*****')
  })

  it.skipIf(!existsSync(CHROMIUM))('shows the blocked call in the key console: status, body and the rule id', async () => {
    const userDataDir = mkdtempSync(join(tmpdir(), 'dpk-chromium-'))
    let context: BrowserContext | undefined
    try {
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
        viewport: { width: 1100, height: 900 }
      })
      const page = context.pages()[0] ?? (await context.newPage())
      const pageErrors: string[] = []
      page.on('pageerror', (error) => pageErrors.push(error.message))

      // Page expressions are strings: this project's TypeScript has no DOM types.
      await page.goto(`${stack.baseUrl}/`)
      await expect.poll(() => page.evaluate<string | undefined>('document.body.dataset.ready')).toBe('true')
      await page.getByLabel('User id').fill('auth0|mallory')
      await page.getByLabel('Email').fill('')
      await page.getByLabel('Company').fill('blocked-co')
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByText('Signed in as auth0|mallory (company blocked-co)').waitFor()
      await page.getByRole('button', { name: 'Create key' }).click()
      await page.locator('#new-key-value').waitFor()
      await page.getByRole('button', { name: 'Call GET /v1/whoami' }).click()

      await expect.poll(() => page.locator('#whoami-status').textContent()).toBe('402')
      expect(await page.locator('#whoami-blocked').isVisible()).toBe(true)
      expect(await page.locator('#whoami-blocked-by').textContent()).toBe(EXAMPLE_BLOCK_RULE_ID)
      expect(JSON.parse((await page.locator('#whoami-body').textContent()) ?? '')).toMatchObject({ code: 'ERR_PAYMENT_REQUIRED' })
      await page.locator('#moesif-event').waitFor()
      expect(await page.locator('#moesif-blocked-by').textContent()).toBe(EXAMPLE_BLOCK_RULE_ID)
      expect(await page.locator('#moesif-company').textContent()).toBe('blocked-co')
      expect(pageErrors).toEqual([])
    } finally {
      await context?.close()
      rmSync(userDataDir, { recursive: true, force: true })
    }
  })

  it(`unblocks within MOESIF_RULES_TTL (${TTL_SECONDS} s) once the rule is removed from the file`, async () => {
    // Act: only the header rule is left.
    writeFileSync(governanceFile, JSON.stringify({ rules: [EXAMPLE_GOVERNANCE.rules[1]], config: { company_rules: {}, user_rules: {} } }))
    const removedAt = Date.now()
    const unblocked = await callUntil(blockedKey, (r) => r.status === 200, 30_000)
    const tookMs = Date.now() - removedAt

    // Assess: whoami itself answered, with the header rule still applied.
    expect(unblocked.body).toMatchObject({ orgId: 'blocked-co', userId: 'auth0|mallory' })
    expect(unblocked.headers.get('x-moesif-blocked-by')).toBeNull()
    expect(unblocked.headers.get('x-plan')).toBe('local-free')
    // The refresh comes with the first call after the TTL; calls here come every 200 ms (plus their own time on a busy machine).
    expect(tookMs).toBeLessThan(TTL_SECONDS * 1000 + 5_000)
  })

  it('lets calls through with Moesif down, keeping the last good rules', async () => {
    // Act: Moesif goes away; a refresh is due after the TTL and fails.
    await collector.close()
    await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 200))
    const results = [await whoami(blockedKey), await whoami(acmeKey), await whoami(blockedKey)]

    // Assess
    expect(results.map((r) => r.status)).toEqual([200, 200, 200])
    expect(results.map((r) => r.headers.get('x-plan'))).toEqual(['local-free', 'local-free', 'local-free'])
    await expect.poll(() => stack.output().includes('"message":"moesif governance rules not refreshed"'), { timeout: 10_000 }).toBe(true)
    expect(stack.running()).toBe(true)
  })
})
