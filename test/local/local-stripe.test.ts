/**
 * The key console's stripe mode (src/local/local-stripe.ts and its handler):
 * `GET /local/stripe` says the mode, `POST /local/stripe/subscribe|cancel`
 * act at the local Stripe stand-in for the email in the verified ID token.
 * Against a real stand-in (as npm start runs it) and a JWKS on loopback.
 */
import { mkdtempSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { importJWK, SignJWT } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { HttpError } from '../../src/lib/runtime/errors'
import { loadLocalStripeDeps, localStripeAction, localStripeStatus, webhookNotes, type LocalStripeDeps } from '../../src/local/local-stripe'
import { startStackStandIn, type StackStandIn } from '../../src/local/local-stripe-stand-in'
import { httpApiEvent, lambdaContext } from '../support/events'
import { LOCAL_IDP_AUDIENCE, LOCAL_IDP_ISSUER, startTestIdentityProvider, type TestIdentityProvider } from '../support/identity-provider'
import { useProcessEnv } from '../support/process-env'

let idp: TestIdentityProvider
let stripe: StackStandIn
let webhooks: Server
let received: string[]
let env: Record<string, string>
let deps: LocalStripeDeps

beforeAll(async () => {
  received = []
  webhooks = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      received.push((JSON.parse(body) as { type: string }).type)
      res.writeHead(200).end('{"received":true}')
    })
  })
  await new Promise<void>((resolve) => webhooks.listen(0, '127.0.0.1', resolve))
  const stateDir = mkdtempSync(join(tmpdir(), 'dpk-local-stripe-'))
  idp = await startTestIdentityProvider()
  stripe = await startStackStandIn({
    statePath: join(stateDir, 'stripe.json'),
    webhookUrl: `http://127.0.0.1:${(webhooks.address() as AddressInfo).port}/webhooks/stripe`
  })
  stripe.stackListening()
  env = { ...idp.env, APP_PAYMENT_PROVIDER: 'stripe', ...stripe.env, LOCAL_STATE_DIR: stateDir }
  deps = loadLocalStripeDeps(env)
})

afterAll(async () => {
  await stripe?.close()
  await idp?.close()
  await new Promise<void>((resolve) => (webhooks === undefined ? resolve() : webhooks.close(() => resolve())))
})

afterEach(() => {
  vi.unstubAllEnvs()
})

const withToken = (idToken: string | undefined, body?: unknown) => ({
  headers: idToken === undefined ? {} : { authorization: `Bearer ${idToken}` },
  body: body === undefined ? undefined : JSON.stringify(body),
  isBase64Encoded: false
})

const json = (response: { body?: string }) => JSON.parse(response.body ?? '') as Record<string, unknown>

async function refusal(promise: Promise<unknown>): Promise<HttpError> {
  return promise.then(
    () => expect.unreachable('expected an HttpError') as never,
    (error: unknown) => {
      if (error instanceof HttpError) return error
      throw error
    }
  )
}

describe('loadLocalStripeDeps', () => {
  it('outside stripe mode: provider none, nothing else', () => {
    expect(loadLocalStripeDeps({ ...idp.env })).toEqual({
      provider: 'none',
      apiBase: undefined,
      standIn: undefined,
      verifyPortalToken: undefined,
      prices: []
    })
  })

  it('recognises the stand-in npm start runs (its lock in the state folder names STRIPE_API_BASE)', () => {
    expect(deps.provider).toBe('stripe')
    expect(deps.standIn?.url).toBe(stripe.standIn.url)
    expect(deps.prices.map((price) => price.id)).toEqual(['price_basic', 'price_basic_yearly', 'price_metered'])
  })

  it('against another Stripe (or another state folder), there is no stand-in to drive', () => {
    expect(loadLocalStripeDeps({ ...env, STRIPE_API_BASE: 'https://api.stripe.com' }).standIn).toBeUndefined()
    expect(loadLocalStripeDeps({ ...env, LOCAL_STATE_DIR: mkdtempSync(join(tmpdir(), 'dpk-other-')) }).standIn).toBeUndefined()
  })
})

describe('GET /local/stripe', () => {
  it('says the mode without a token, and the signed-in user customer with one', async () => {
    const idToken = await idp.mint({ sub: 'auth0|gina', email: 'gina@acme.test', org: 'acme' })

    const anonymous = json(await localStripeStatus(deps, withToken(undefined)))
    const before = json(await localStripeStatus(deps, withToken(idToken)))
    await localStripeAction(deps, withToken(idToken, { priceId: 'price_basic' }), 'subscribe')
    const after = json(await localStripeStatus(deps, withToken(idToken)))

    expect(anonymous).toEqual({ provider: 'stripe', standIn: true, apiBase: stripe.standIn.url, prices: deps.prices })
    expect(before).toEqual({ ...anonymous, customer: null })
    expect(after.customer).toEqual({
      id: expect.stringMatching(/^cus_/),
      email: 'gina@acme.test',
      subscriptions: [{ id: expect.stringMatching(/^sub_/), status: 'active', priceIds: ['price_basic'] }]
    })
  })

  it('outside stripe mode answers provider none (the console shows no billing)', async () => {
    const response = await localStripeStatus(loadLocalStripeDeps({}), withToken('whatever'))
    expect(response.statusCode).toBe(200)
    expect(json(response)).toEqual({ provider: 'none', standIn: false, apiBase: null, prices: [] })
  })
})

describe('POST /local/stripe/subscribe and /cancel', () => {
  it('subscribe: the customer of the token email gets an active subscription, once its webhooks reached the stack', async () => {
    received.length = 0
    const idToken = await idp.mint({ sub: 'auth0|hank', email: 'hank@acme.test', org: 'acme' })

    const response = await localStripeAction(deps, withToken(idToken, { priceId: 'price_basic_yearly' }), 'subscribe')

    expect(response.statusCode).toBe(200)
    expect(json(response)).toEqual({
      customerId: expect.stringMatching(/^cus_/),
      subscriptionId: expect.stringMatching(/^sub_/),
      status: 'active',
      webhooks: [
        { eventId: expect.stringMatching(/^evt_/), type: 'customer.created', delivered: true, detail: '200' },
        { eventId: expect.stringMatching(/^evt_/), type: 'customer.subscription.created', delivered: true, detail: '200' }
      ]
    })
    expect(received).toEqual(['customer.created', 'customer.subscription.created'])
    const customer = stripe.standIn.state.customers[json(response).customerId as string]?.object
    expect(customer).toMatchObject({ email: 'hank@acme.test' })
  })

  it('cancel: cancels the customer subscriptions, once the deleted webhook reached the stack; then there is nothing left', async () => {
    const idToken = await idp.mint({ sub: 'auth0|hank', email: 'hank@acme.test', org: 'acme' })
    received.length = 0

    const first = json(await localStripeAction(deps, withToken(idToken), 'cancel'))
    const second = json(await localStripeAction(deps, withToken(idToken), 'cancel'))

    expect(first).toEqual({
      customerId: expect.stringMatching(/^cus_/),
      canceled: [{ subscriptionId: expect.stringMatching(/^sub_/), status: 'canceled' }],
      webhooks: [expect.objectContaining({ type: 'customer.subscription.deleted', delivered: true })]
    })
    expect(received).toEqual(['customer.subscription.deleted'])
    expect(second).toEqual({ customerId: first.customerId, canceled: [], webhooks: [] })
  })

  it('refuses without a verified email, with a bad or unknown price, an unknown field, or no customer to cancel', async () => {
    const noEmail = await idp.mint({ sub: 'auth0|ivan', org: 'acme' })
    const ivy = await idp.mint({ sub: 'auth0|ivy', email: 'ivy@acme.test', org: 'acme' })

    const missingToken = await refusal(localStripeAction(deps, withToken(undefined, {}), 'subscribe'))
    const withoutEmail = await refusal(localStripeAction(deps, withToken(noEmail, {}), 'subscribe'))
    const badPrice = await refusal(localStripeAction(deps, withToken(ivy, { priceId: 'gold plan' }), 'subscribe'))
    const unknownPrice = await refusal(localStripeAction(deps, withToken(ivy, { priceId: 'price_gold' }), 'subscribe'))
    const unknownField = await refusal(localStripeAction(deps, withToken(ivy, { priceId: 'price_basic', email: 'other@acme.test' }), 'subscribe'))
    const noCustomer = await refusal(localStripeAction(deps, withToken(ivy), 'cancel'))

    expect([missingToken.statusCode, missingToken.code]).toEqual([401, 'ERR_PORTAL_TOKEN_MISSING'])
    expect([withoutEmail.statusCode, withoutEmail.code]).toEqual([401, 'ERR_EMAIL_REQUIRED'])
    expect([badPrice.statusCode, badPrice.code]).toEqual([400, 'ERR_BAD_BODY'])
    expect([unknownPrice.statusCode, unknownPrice.message]).toEqual([
      400,
      "The Stripe stand-in refused to subscribe ivy@acme.test to price_gold: No such price: 'price_gold'"
    ])
    expect(unknownField.message).toMatch(/^Unknown field "email"; allowed: priceId$/)
    expect([noCustomer.statusCode, noCustomer.message]).toEqual([404, 'No Stripe customer has the email ivy@acme.test: subscribe first'])
    expect(stripe.standIn.state.events.some((event) => JSON.stringify(event).includes('ivy@acme.test'))).toBe(false)
  })

  it('refuses an email the identity provider marks unverified (403), as create-key does', async () => {
    const now = Math.floor(Date.now() / 1000)
    const unverified = await new SignJWT({ email: 'victim@acme.test', email_verified: false, org_id: 'acme' })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: idp.keys.kid })
      .setSubject('auth0|mallory')
      .setIssuer(LOCAL_IDP_ISSUER)
      .setAudience(LOCAL_IDP_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(await importJWK(idp.keys.privateJwk, 'RS256'))

    const error = await refusal(localStripeAction(deps, withToken(unverified), 'cancel'))

    expect([error.statusCode, error.code]).toEqual([403, 'ERR_EMAIL_NOT_VERIFIED'])
  })

  it('outside stripe mode, or against another Stripe, says what to do instead', async () => {
    const off = await refusal(localStripeAction(loadLocalStripeDeps({}), withToken('x'), 'subscribe'))
    const external = await refusal(
      localStripeAction(loadLocalStripeDeps({ ...env, STRIPE_API_BASE: 'https://api.stripe.com' }), withToken('x'), 'cancel')
    )
    expect([off.statusCode, off.message]).toEqual([404, 'Stripe mode is off: restart the stack with APP_PAYMENT_PROVIDER=stripe npm start'])
    expect(external.message).toMatch(/^This stack uses the Stripe at https:\/\/api\.stripe\.com, not the local stand-in/)
  })

  it('a stand-in that does not answer is a 503', async () => {
    const idToken = await idp.mint({ sub: 'auth0|jo', email: 'jo@acme.test', org: 'acme' })
    await stripe.standIn.setFault({ mode: 'unreachable' })
    try {
      const error = await refusal(localStripeAction(deps, withToken(idToken, { priceId: 'price_basic' }), 'subscribe'))
      expect([error.statusCode, error.code, error.expose]).toEqual([503, 'ERR_BILLING_UNAVAILABLE', true])
    } finally {
      await stripe.standIn.setFault({ mode: 'none' })
    }
  })
})

describe('webhookNotes', () => {
  it('tells delivered, refused and queued (no delivery yet) apart', () => {
    const events = [
      { id: 'evt_1', type: 'a' },
      { id: 'evt_2', type: 'b' },
      { id: 'evt_3', type: 'c' }
    ]
    const deliveries = [
      { ok: true as const, eventId: 'evt_1', type: 'a', status: 200 },
      { ok: false as const, eventId: 'evt_2', type: 'b', status: 400, reason: 'the endpoint answered 400' }
    ]
    expect(webhookNotes(events, deliveries)).toEqual([
      { eventId: 'evt_1', type: 'a', delivered: true, detail: '200' },
      { eventId: 'evt_2', type: 'b', delivered: false, detail: 'the endpoint answered 400' },
      { eventId: 'evt_3', type: 'c', delivered: false, detail: 'queued: the stack is still starting' }
    ])
  })
})

describe('local-stripe handler (the local-stage export)', () => {
  async function handlerWith(stackEnv: Record<string, string>) {
    useProcessEnv(stackEnv)
    vi.stubEnv('LOCAL_STACK_PORT', '3000')
    vi.stubEnv('LOCAL_STATE_DIR', stackEnv.LOCAL_STATE_DIR ?? '')
    vi.resetModules()
    // The handler's log lines (a refusal is logged) are kept out of the test output.
    const { setLogSink } = await import('../../src/lib/runtime/logger')
    restoreLog = setLogSink((line) => logged.push(line))
    return (await import('../../src/local/handlers/local-stripe')).handler
  }
  const logged: string[] = []
  let restoreLog: () => void = () => undefined
  afterEach(() => restoreLog())
  const context = lambdaContext({ awsRequestId: 'req-stripe' }) as Parameters<Awaited<ReturnType<typeof handlerWith>>>[1]

  it('routes GET /local/stripe for the stack own page', async () => {
    const handler = await handlerWith(env)
    const response = await handler(
      httpApiEvent({ method: 'GET', path: '/local/stripe', headers: { host: '127.0.0.1:3000' }, sourceIp: '127.0.0.1' }),
      context
    )
    expect(response.statusCode).toBe(200)
    expect(json(response)).toMatchObject({ provider: 'stripe', standIn: true })
  })

  it('refuses another site, or a DNS-rebinding Host, with 403 ERR_REFUSED before touching Stripe', async () => {
    const handler = await handlerWith(env)
    logged.length = 0
    const crossSite = await handler(
      httpApiEvent({
        method: 'POST',
        path: '/local/stripe/cancel',
        headers: { host: '127.0.0.1:3000', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
        sourceIp: '127.0.0.1'
      }),
      context
    )
    const rebound = await handler(
      httpApiEvent({ method: 'GET', path: '/local/stripe', headers: { host: 'rebind.evil.example:3000' }, sourceIp: '127.0.0.1' }),
      context
    )
    expect([crossSite.statusCode, json(crossSite).code]).toEqual([403, 'ERR_REFUSED'])
    expect(logged.map((line) => (JSON.parse(line) as { code?: string }).code)).toEqual(['ERR_REFUSED', 'ERR_REFUSED'])
    expect([rebound.statusCode, json(rebound).code]).toEqual([403, 'ERR_REFUSED'])
  })
})
