import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { chromium, type BrowserContext } from 'playwright-core'
import Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMoesifCollector, type MoesifCollector, type MoesifWireEvent } from '../../src/local/moesif-collector'
import { runLocalCommand } from '../../src/local/stack-process'
import { connectToStripeStandIn, stripeSignatureHeader, type StripeStandInAdminClient } from '../../src/local/stripe/stand-in'
import { stackStartTimeout, startLocalStack, STACK_TIMEOUTS, type LocalStack } from '../support/local-stack'
import { openApiContract } from '../support/openapi-contract'

/**
 * Monetization with Stripe, end to end: `APP_PAYMENT_PROVIDER=stripe npm start`
 * (serverless-offline with the esbuild bundles, the local identity provider,
 * and the local Stripe stand-in it starts), driven the way a developer does:
 * `npm run -s stripe -- subscribe|cancel`, the key console's routes and page,
 * and the stand-in's admin endpoints for outages. One stack for the file;
 * timeouts from test/support/local-stack.ts, no assertion on elapsed time.
 */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

describe('end-to-end: stripe mode through the local stack', { timeout: STACK_TIMEOUTS.call }, () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'dpk-billing-'))
  let collector: MoesifCollector
  let stack: LocalStack
  let admin: StripeStandInAdminClient
  let stripe: Stripe
  let webhookSecret: string

  beforeAll(async () => {
    collector = await startMoesifCollector()
    stack = await startLocalStack(
      { APP_PAYMENT_PROVIDER: 'stripe', MOESIF_APPLICATION_ID: 'e2e-billing', MOESIF_BASE_URI: collector.baseUri },
      { stateDir }
    )
    // Found as `npm run -s stripe` finds it: the lock next to <state>/stripe.json names its URL, the file holds its key.
    const found = connectToStripeStandIn(join(stateDir, 'stripe.json'))
    if (found === undefined) throw new Error(`no Stripe stand-in owns ${stateDir}/stripe.json:\n${stack.output()}`)
    admin = found
    const saved = JSON.parse(readFileSync(join(stateDir, 'stripe.json'), 'utf8')) as { apiKey: string; webhookSecret: string }
    webhookSecret = saved.webhookSecret
    const { hostname, port } = new URL(admin.url)
    stripe = new Stripe(saved.apiKey, { host: hostname, port: Number(port), protocol: 'http', maxNetworkRetries: 0 })
  }, stackStartTimeout())

  afterAll(async () => {
    await stack?.stop()
    await collector?.close()
    rmSync(stateDir, { recursive: true, force: true })
  })

  /** A portal login of the local identity provider, as the console gets it. */
  const login = async (sub: string, email: string): Promise<string> => {
    const response = await fetch(`${stack.baseUrl}/local/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub, email, org: 'acme' })
    })
    expect(response.status).toBe(200)
    return ((await response.json()) as { idToken: string }).idToken
  }

  const createKey = (idToken: string): Promise<Response> =>
    openApiContract.fetch(`${stack.baseUrl}/create-key`, {
      method: 'POST',
      headers: { authorization: `Bearer ${idToken}`, 'content-type': 'application/json' },
      body: '{}'
    })

  const listKeys = async (idToken: string): Promise<{ keyId: string; status: string; plan: { subscriptionId: string } | null }[]> => {
    const response = await openApiContract.fetch(`${stack.baseUrl}/keys`, { headers: { authorization: `Bearer ${idToken}` } })
    expect(response.status).toBe(200)
    return ((await response.json()) as { keys: { keyId: string; status: string; plan: { subscriptionId: string } | null }[] }).keys
  }

  /** GET /v1/whoami with a header of its own, so its Moesif event can be found. */
  const whoami = async (apiKey: string): Promise<{ status: number; body: unknown; callId: string }> => {
    const callId = randomUUID()
    const response = await openApiContract.fetch(`${stack.baseUrl}/v1/whoami`, {
      headers: { authorization: `Bearer ${apiKey}`, 'x-test-call-id': callId }
    })
    return { status: response.status, body: await response.json(), callId }
  }

  const moesifEventOf = async (callId: string): Promise<MoesifWireEvent> => {
    const find = () =>
      collector.events.find((event) =>
        Object.entries(event.request.headers ?? {}).some(([name, value]) => name.toLowerCase() === 'x-test-call-id' && value === callId)
      )
    await expect.poll(find, { timeout: 10_000 }).toBeDefined()
    return find() as MoesifWireEvent
  }

  /** `npm run -s stripe -- <args>` against this stack. */
  const stripeCommand = (args: string[]) =>
    runLocalCommand('src/local/stripe-cli.ts', args, { PORT: new URL(stack.baseUrl).port }, { stateDir, timeoutMs: 60_000 })

  it('starts the stand-in on loopback and says so in one [local] line, never printing its secrets', () => {
    const lines = stack
      .output()
      .split('\n')
      .filter((line) => line.startsWith('[local] stripe mode'))
    expect(lines).toEqual([
      `[local] stripe mode: on; the local Stripe stand-in listens at ${admin.url} (state in ${join(stateDir, 'stripe.json')}) and signs its webhooks ` +
        `to ${stack.baseUrl}/webhooks/stripe; subscribe with npm run -s stripe -- subscribe --email <email> --price price_basic`
    ])
    expect(admin.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(stack.output()).not.toContain(webhookSecret)
  })

  it('no Stripe customer: 402 ERR_NO_SUBSCRIPTION; a customer without a subscription: 402 too', async () => {
    const nobody = await login('auth0|nobody', 'nobody@acme.test')
    const lurker = await login('auth0|lurker', 'lurker@acme.test')
    await stripe.customers.create({ email: 'lurker@acme.test' })

    const noCustomer = await createKey(nobody)
    const noSubscription = await createKey(lurker)

    expect(noCustomer.status).toBe(402)
    expect(await noCustomer.json()).toMatchObject({ code: 'ERR_NO_SUBSCRIPTION' })
    expect(noSubscription.status).toBe(402)
    expect(await noSubscription.json()).toMatchObject({ code: 'ERR_NO_SUBSCRIPTION' })
    expect(await listKeys(lurker)).toEqual([])
  })

  it('subscribe (npm run -s stripe) -> 201, a key for the customer, and Moesif sees the customer as the company; cancel -> 403', async () => {
    // Prepare
    const idToken = await login('auth0|alice', 'alice@acme.test')
    const subscribed = await stripeCommand(['subscribe', '--email', 'alice@acme.test', '--price', 'price_basic'])
    expect(subscribed.stderr).toBe('')
    expect(subscribed.code).toBe(0)
    const line =
      /^subscribed alice@acme\.test to price_basic: customer (cus_\w+), subscription (sub_\w+), status active; 2 webhooks delivered\n$/.exec(
        subscribed.stdout
      )
    expect(line, subscribed.stdout).not.toBeNull()
    const [, customerId, subscriptionId] = line as RegExpExecArray

    // Act
    const created = await createKey(idToken)
    const { apikey, keyId } = (await created.json()) as { apikey: string; keyId: string }
    const allowed = await whoami(apikey)
    const event = await moesifEventOf(allowed.callId)
    const canceled = await stripeCommand(['cancel', '--email', 'alice@acme.test'])
    const refused = await whoami(apikey)

    // Assess
    expect(created.status).toBe(201)
    expect(decodeJwt(apikey)).toMatchObject({ sub: customerId, org_id: customerId, jti: keyId })
    expect(allowed.status).toBe(200)
    expect(allowed.body).toEqual({ orgId: customerId, userId: customerId, keyId })
    expect(event.company_id).toBe(customerId)
    expect(event.user_id).toBe(customerId)
    expect(canceled.code).toBe(0)
    expect(canceled.stdout).toBe(
      `canceled alice@acme.test: customer ${customerId}, subscription ${subscriptionId}, status canceled; 1 webhook delivered\n`
    )
    expect(refused.status).toBe(403)
    expect(await listKeys(idToken)).toEqual([
      expect.objectContaining({ keyId, status: 'revoked', plan: expect.objectContaining({ subscriptionId }) })
    ])
    expect((await createKey(idToken)).status).toBe(402)
  })

  it('POST /webhooks/stripe: 400 for a bad or missing signature, 200 for one signed with the stand-in secret', async () => {
    const payload = JSON.stringify({ id: 'evt_test_forged', object: 'event', type: 'customer.subscription.deleted', data: { object: {} } })
    const post = (headers: Record<string, string>) =>
      openApiContract.fetch(`${stack.baseUrl}/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: payload
      })

    const forged = await post({ 'stripe-signature': stripeSignatureHeader(payload, 'whsec_not_the_endpoint_secret') })
    const unsigned = await post({})
    const ignored = JSON.stringify({ id: 'evt_test_ping', object: 'event', type: 'customer.updated', data: { object: {} } })
    const genuine = await openApiContract.fetch(`${stack.baseUrl}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignatureHeader(ignored, webhookSecret) },
      body: ignored
    })

    expect(forged.status).toBe(400)
    expect(await forged.json()).toMatchObject({ code: 'ERR_BAD_SIGNATURE' })
    expect(unsigned.status).toBe(400)
    expect(genuine.status).toBe(200)
  })

  it('Stripe down (an error status, then not listening at all): create-key 503 ERR_BILLING_UNAVAILABLE, and no key record is written', async () => {
    // Prepare: a subscribed customer with one key.
    const idToken = await login('auth0|dave', 'dave@acme.test')
    const outcome = await admin.subscribe({ email: 'dave@acme.test', priceId: 'price_basic' })
    expect(outcome.ok && outcome.value.deliveries.every((delivery) => delivery.ok)).toBe(true)
    expect((await createKey(idToken)).status).toBe(201)
    const before = await listKeys(idToken)

    // Act
    expect(await admin.setFault({ mode: 'error', status: 500 })).toMatchObject({ ok: true })
    const erroring = await createKey(idToken)
    expect(await admin.setFault({ mode: 'none' })).toMatchObject({ ok: true })
    expect(await admin.setFault({ mode: 'unreachable', forMs: 3000 })).toMatchObject({ ok: true })
    const unreachable = await createKey(idToken)
    // It listens again once forMs is over.
    await expect.poll(async () => (await admin.state()).ok, { timeout: 30_000, interval: 250 }).toBe(true)

    // Assess
    expect(erroring.status).toBe(503)
    expect(await erroring.json()).toMatchObject({ code: 'ERR_BILLING_UNAVAILABLE' })
    expect(unreachable.status).toBe(503)
    expect(await unreachable.json()).toMatchObject({ code: 'ERR_BILLING_UNAVAILABLE' })
    expect(await listKeys(idToken)).toEqual(before)
    expect(before).toHaveLength(1)
  })

  it('the console routes: the mode, then Subscribe and Cancel for the signed-in user email, behind the loopback guard', async () => {
    const idToken = await login('auth0|erin', 'erin@acme.test')

    const mode = await fetch(`${stack.baseUrl}/local/stripe`)
    const subscribed = await fetch(`${stack.baseUrl}/local/stripe/subscribe`, {
      method: 'POST',
      headers: { authorization: `Bearer ${idToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ priceId: 'price_basic' })
    })
    const { customerId } = (await subscribed.json()) as { customerId: string }
    const created = await createKey(idToken)
    const { apikey } = (await created.json()) as { apikey: string }
    const before = await whoami(apikey)
    const canceled = await fetch(`${stack.baseUrl}/local/stripe/cancel`, { method: 'POST', headers: { authorization: `Bearer ${idToken}` } })
    const after = await whoami(apikey)
    const crossSite = await fetch(`${stack.baseUrl}/local/stripe/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${idToken}`, origin: 'https://evil.example' }
    })

    expect(mode.status).toBe(200)
    expect(await mode.json()).toMatchObject({
      provider: 'stripe',
      standIn: true,
      prices: expect.arrayContaining([expect.objectContaining({ id: 'price_basic' })])
    })
    expect(subscribed.status).toBe(200)
    expect(created.status).toBe(201)
    expect(before.body).toMatchObject({ orgId: customerId })
    expect(canceled.status).toBe(200)
    expect(await canceled.json()).toMatchObject({
      customerId,
      webhooks: [expect.objectContaining({ type: 'customer.subscription.deleted', delivered: true })]
    })
    expect(after.status).toBe(403)
    expect(crossSite.status).toBe(403)
  })

  it.skipIf(!existsSync(CHROMIUM))('the console page: Subscribe, Create key, call (200, company cus_...), Cancel, call again (403)', async () => {
    const userDataDir = mkdtempSync(join(tmpdir(), 'dpk-chromium-billing-'))
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

      // Sign in: stripe mode shows the billing section, with no customer yet.
      await page.goto(`${stack.baseUrl}/`)
      await expect.poll(() => page.evaluate<string | undefined>('document.body.dataset.ready')).toBe('true')
      await page.getByLabel('User id').fill('auth0|pat')
      await page.getByLabel('Email').fill('pat@acme.test')
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByText('No Stripe customer has pat@acme.test yet').waitFor()

      // Create key before subscribing: 402.
      await page.getByRole('button', { name: 'Create key' }).click()
      await page.getByText(/ERR_NO_SUBSCRIPTION/).waitFor()

      // Subscribe, then create a key and call the API with it.
      await page.getByLabel('Plan').selectOption('price_basic')
      await page.getByRole('button', { name: 'Subscribe' }).click()
      await page.getByText(/^Subscribed: customer cus_\w+, subscription sub_\w+ \(active\)\.$/).waitFor()
      const customerId = (await page.locator('#company-name').textContent()) ?? ''
      expect(customerId).toMatch(/^cus_/)
      await page.getByRole('button', { name: 'Create key' }).click()
      await page.locator('#new-key-value').waitFor()
      await page.getByRole('button', { name: 'Call GET /v1/whoami' }).click()
      await expect.poll(() => page.locator('#whoami-status').textContent()).toBe('200')
      await page.locator('#moesif-event').waitFor()
      expect(await page.locator('#moesif-company').textContent()).toBe(customerId)

      // Cancel: the webhook revokes the key, and the same call now gets 403.
      await page.getByRole('button', { name: 'Cancel subscription' }).click()
      await page.getByText(new RegExp(`^Canceled sub_\\w+: the webhook revoked the keys of customer ${customerId}\\.$`)).waitFor()
      await expect.poll(() => page.locator('#key-rows tr td:nth-child(5)').allTextContents()).toEqual(['revoked'])
      await page.getByRole('button', { name: 'Call GET /v1/whoami' }).click()
      await expect.poll(() => page.locator('#whoami-status').textContent()).toBe('403')
      expect(pageErrors).toEqual([])
    } finally {
      await context?.close()
      rmSync(userDataDir, { recursive: true, force: true })
    }
  })
})
