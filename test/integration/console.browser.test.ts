import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stackStartTimeout, startLocalStack, STACK_TIMEOUTS, type LocalStack } from '../support/local-stack'
import { LOCAL_ONLY_ROUTES, openApiContract } from '../support/openapi-contract'

/**
 * The local key console in a real browser (Debian's Chromium driven by
 * playwright-core), against the stack `npm start` runs: sign in, create a
 * key, call the API, revoke the key, call it again. Every API response the
 * page receives is also checked against the OpenAPI document.
 *
 * Without Chromium this test is skipped with one loud line, except under
 * CI=true, where it fails: CI installs Chromium (.ci/run).
 */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const chromiumFound = existsSync(CHROMIUM)
const inCi = /^(true|1)$/i.test(process.env.CI ?? '')
const ARTIFACTS = 'test/artifacts'

if (!chromiumFound && !inCi) {
  console.warn(
    `!!! SKIPPED the browser test (test/integration/console.browser.test.ts): no Chromium at ${CHROMIUM}. Install it with: apt-get install -y chromium (or set CHROMIUM_PATH) !!!`
  )
}

// Timeouts sized for a busy 2-core machine (test/support/local-stack.ts).
describe.skipIf(!chromiumFound && !inCi)('local key console in Chromium', { timeout: STACK_TIMEOUTS.call }, () => {
  let stack: LocalStack
  let context: BrowserContext
  let page: Page
  let userDataDir: string

  beforeAll(async () => {
    if (!chromiumFound)
      throw new Error(`CI=true and no Chromium at ${CHROMIUM}: the browser test cannot run. Install it with: apt-get install -y chromium`)
    // Prepare: the stack exactly as npm start runs it (local identity provider, local Moesif collector), and a browser with a fresh profile.
    userDataDir = mkdtempSync(join(tmpdir(), 'dpk-chromium-'))
    ;[stack, context] = await Promise.all([
      startLocalStack({}),
      chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
          '--disable-sync',
          '--disable-quic'
        ],
        viewport: { width: 1100, height: 900 }
      })
    ])
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.baseUrl })
    page = context.pages()[0] ?? (await context.newPage())
    mkdirSync(ARTIFACTS, { recursive: true })
  }, stackStartTimeout())

  afterAll(async () => {
    await context?.close()
    await stack?.stop()
    if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true })
  })

  it('signs in, creates a key, calls the API (200), revokes the key, and calls again (403)', async () => {
    const started = performance.now()
    const pageErrors: string[] = []
    page.on('pageerror', (error) => pageErrors.push(error.message))
    const contractChecks: Promise<string[]>[] = []
    page.on('response', (response) => {
      const method = response.request().method()
      if (LOCAL_ONLY_ROUTES.includes(`${method} ${new URL(response.url()).pathname}`)) return
      contractChecks.push(
        (async () => {
          const body = response.status() === 204 ? null : await response.body()
          return openApiContract.problems(method, response.url(), new Response(body, { status: response.status(), headers: response.headers() }))
        })()
      )
    })

    // Page expressions are strings: this project's TypeScript has no DOM types.
    // 1. Sign in as a dev user of the local identity provider.
    await page.goto(`${stack.baseUrl}/`)
    await expect.poll(() => page.evaluate<string | undefined>('document.body.dataset.ready')).toBe('true')
    await page.getByLabel('User id').fill('auth0|alice')
    await page.getByLabel('Email').fill('alice@acme.test')
    await page.getByLabel('Company').fill('acme')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByText('Signed in as auth0|alice (company acme)').waitFor()

    // 2. Create a key: shown once, with a copy button, and listed by its last 4 characters.
    await page.getByLabel('Name').fill('browser test')
    await page.getByRole('button', { name: 'Create key' }).click()
    const shown = page.locator('#new-key-value')
    await shown.waitFor()
    const apikey = (await shown.textContent()) ?? ''
    expect(apikey.split('.')).toHaveLength(3)
    await page.getByRole('button', { name: 'Copy' }).click()
    await page.getByRole('button', { name: 'Copied' }).waitFor()
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(apikey)
    const row = page.locator('#key-rows tr', { hasText: 'browser test' })
    await expect
      .poll(() => row.locator('td').allTextContents())
      .toEqual(['browser test', expect.stringMatching(/UTC$/), expect.stringMatching(/UTC$/), apikey.slice(-4), 'active', 'Revoke'])

    // 3. Call GET /v1/whoami with it: 200, and the event Moesif would get, by company and user, Authorization masked.
    await page.getByRole('button', { name: 'Call GET /v1/whoami' }).click()
    await expect.poll(() => page.locator('#whoami-status').textContent()).toBe('200')
    expect(JSON.parse((await page.locator('#whoami-body').textContent()) ?? '')).toMatchObject({ orgId: 'acme', userId: 'auth0|alice' })
    await page.locator('#moesif-event').waitFor()
    expect(await page.locator('#moesif-company').textContent()).toBe('acme')
    expect(await page.locator('#moesif-user').textContent()).toBe('auth0|alice')
    expect(await page.locator('#moesif-headers tr', { hasText: 'authorization' }).locator('td').allTextContents()).toEqual(['authorization', '*****'])

    // Shown once: hidden on request, after which the key is nowhere on the page, in the URL or in storage.
    await page.getByRole('button', { name: 'Done, hide it' }).click()
    expect(await page.content()).not.toContain(apikey)
    await page.screenshot({ path: join(ARTIFACTS, 'console.png'), fullPage: true })

    // 4. Revoke it.
    await row.getByRole('button', { name: /^Revoke key browser test/ }).click()
    await expect.poll(() => row.locator('td').nth(4).textContent()).toBe('revoked')

    // 5. The same key now gets 403 from the authorizer, and the API (so Moesif) never runs.
    await page.getByRole('button', { name: 'Call GET /v1/whoami' }).click()
    await expect.poll(() => page.locator('#whoami-status').textContent()).toBe('403')
    await page.getByText('No Moesif event').waitFor()

    // 6. Evidence.
    await page.screenshot({ path: join(ARTIFACTS, 'console-revoked.png'), fullPage: true })
    const storage = await page.evaluate('({ local: localStorage.length, session: sessionStorage.length, url: location.href })')
    expect(storage).toEqual({ local: 0, session: 0, url: `${stack.baseUrl}/` })
    expect(await context.cookies()).toEqual([])
    expect(pageErrors).toEqual([])
    expect(contractChecks.length).toBeGreaterThanOrEqual(6)
    expect((await Promise.all(contractChecks)).flat()).toEqual([])
    console.log(`browser flow took ${Math.round(performance.now() - started)} ms`)
  })
})
