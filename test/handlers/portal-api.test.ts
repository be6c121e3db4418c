/**
 * The Moesif portal's backend routes as deployed (src/handlers/*),
 * configured only through process.env, against real parts on 127.0.0.1: the
 * local Stripe stand-in through the official SDK, the Moesif management
 * stand-in reading that Stripe account, dynalite for the key table, a
 * recording Moesif collector and the development identity provider. Every
 * answer is checked against the OpenAPI document, and against what the
 * unchanged portal frontend reads (test/support/portal-frontend-contract.ts).
 * Outages are made with the stand-ins' faults and short configured timeouts;
 * nothing here measures time.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startMoesifManagementStandIn, type MoesifManagementStandIn } from '../../src/local/moesif-management/stand-in'
import { startStripeStandIn, type StripeStandIn } from '../../src/local/stripe/stand-in'
import { coldStartModule } from '../support/cold-start'
import { lambdaInvoker } from '../support/deployed-handlers'
import { startKeyDatabase, type KeyDatabase } from '../support/dynalite'
import { httpApiEvent } from '../support/events'
import { startTestIdentityProvider, type LocalIdTokenClaims, type TestIdentityProvider } from '../support/identity-provider'
import { hmacSecret, type EnvRecord } from '../support/keys'
import { startMoesifApiRecorder, type MoesifApiRecorder } from '../support/moesif-api-recorder'
import { openApiContract } from '../support/openapi-contract'
import {
  expectCheckoutForFrontend,
  expectEmbedTokensForFrontend,
  expectJsonError,
  expectPlansForFrontend,
  expectRegistrationForFrontend,
  expectStripeCustomerForFrontend,
  expectSubscriptionsForFrontend,
  frontendSeesMetered
} from '../support/portal-frontend-contract'

const PORTAL_URL = 'https://portal.example.test'
const ALICE = { sub: 'auth0|alice', email: 'alice@acme.test' } as const
const BOB = { sub: 'auth0|bob', email: 'bob@globex.test' } as const

let idp: TestIdentityProvider
let db: KeyDatabase
let stripe: StripeStandIn
let moesif: MoesifManagementStandIn
let recorder: MoesifApiRecorder

beforeAll(async () => {
  ;[idp, db, stripe, recorder] = await Promise.all([startTestIdentityProvider(), startKeyDatabase(), startStripeStandIn(), startMoesifApiRecorder()])
  moesif = await startMoesifManagementStandIn({ stripe, providers: ['stripe', 'custom'] })
})
afterAll(async () => {
  await Promise.all([idp?.close(), db?.close(), moesif?.close(), recorder?.close()])
  await stripe?.close()
})
beforeEach(async () => {
  stripe.reset()
  await stripe.setFault({ mode: 'none' })
  moesif.setFault({ mode: 'none' })
  recorder.setStatus(201)
  recorder.calls.length = 0
})

/** A deployment in `provider` mode, on a fresh key table, with every portal setting pointing at the stand-ins. */
async function deployEnv(provider: 'stripe' | 'custom' | 'none', extra: EnvRecord = {}): Promise<EnvRecord> {
  return {
    ...idp.env,
    JWT_ALGORITHM: 'HS256',
    JWT_SECRET: hmacSecret('HS256'),
    KEYS_TABLE: await db.newTable(),
    DYNAMODB_ENDPOINT: db.endpoint,
    AWS_REGION: 'local',
    APP_PAYMENT_PROVIDER: provider,
    ...(provider === 'stripe' ? { STRIPE_API_KEY: stripe.apiKey, STRIPE_API_BASE: stripe.url, STRIPE_TIMEOUT_MS: '2000' } : {}),
    MOESIF_MANAGEMENT_TOKEN: moesif.token,
    MOESIF_MANAGEMENT_API_BASE: moesif.url,
    MOESIF_MANAGEMENT_TIMEOUT_MS: '2000',
    MOESIF_TEMPLATE_WORKSPACE_ID_LIVE_EVENT_LOG: moesif.workspaces.liveEventLog,
    MOESIF_TEMPLATE_WORKSPACE_ID_TIME_SERIES: moesif.workspaces.timeSeries,
    PORTAL_URL,
    MOESIF_APPLICATION_ID: 'portal-test-app',
    MOESIF_BASE_URI: recorder.baseUri,
    // Generous: a loaded machine must not turn a healthy profile update into a skipped one.
    MOESIF_MAX_WAIT_MS: '5000',
    ...extra
  }
}

type Handler = { handler: (event: APIGatewayProxyEventV2, context: never) => Promise<APIGatewayProxyStructuredResultV2> }

/** Every portal route as deployed with `env`, from one fresh module graph (one cold start each). */
async function coldStart(env: EnvRecord) {
  const { module, lines } = await coldStartModule(
    async () => ({
      'GET /plans': (await import('../../src/handlers/plans')) as Handler,
      'POST /create-stripe-checkout-session': (await import('../../src/handlers/create-checkout-session')) as Handler,
      'POST /register/stripe/{checkout_session_id}': (await import('../../src/handlers/register-stripe')) as Handler,
      'GET /subscriptions': (await import('../../src/handlers/subscriptions')) as Handler,
      'GET /embed-charts/{authUserId}': (await import('../../src/handlers/embed-charts')) as Handler,
      'GET /stripe/customer': (await import('../../src/handlers/stripe-customer')) as Handler,
      'POST /register/custom': (await import('../../src/handlers/register-custom')) as Handler,
      'POST /okta/register': (await import('../../src/handlers/okta-register')) as Handler,
      'POST /create-key': (await import('../../src/handlers/create-key')) as Handler
    }),
    env
  )
  /** Call a route as API Gateway would, check the answer against the OpenAPI document, and hand it back as a Response. */
  const call = async (
    route: keyof typeof module,
    options: { path?: string; query?: string; token?: string; authorization?: string; body?: unknown; pathParameters?: Record<string, string> } = {}
  ): Promise<Response> => {
    const [method, template] = route.split(' ') as [string, string]
    const path = options.path ?? template
    const authorization = options.authorization ?? (options.token === undefined ? undefined : `Bearer ${options.token}`)
    const event = httpApiEvent({
      method,
      path,
      routeKey: route,
      rawQueryString: options.query ?? '',
      headers: { ...(authorization === undefined ? {} : { authorization }), 'content-type': 'application/json' },
      ...(options.body === undefined ? {} : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) })
    })
    if (options.pathParameters !== undefined) event.pathParameters = options.pathParameters
    const result = await lambdaInvoker(module[route].handler)(event)
    const response = new Response(result.statusCode === 204 ? null : (result.body ?? null), {
      status: result.statusCode ?? 200,
      headers: result.headers as Record<string, string>
    })
    return openApiContract.expectResponse(method, `http://h${path}${options.query === undefined ? '' : `?${options.query}`}`, response)
  }
  return { call, lines }
}

const login = (claims: LocalIdTokenClaims): Promise<string> => idp.mint(claims)

/** The routes that need a portal login, with a request each that would otherwise succeed. */
const AUTHENTICATED = [
  ['POST /create-stripe-checkout-session', { query: 'price_id=price_basic&quantity=1' }],
  ['POST /register/stripe/{checkout_session_id}', { path: '/register/stripe/cs_test_abc', pathParameters: { checkout_session_id: 'cs_test_abc' } }],
  ['GET /subscriptions', { query: 'email=alice%40acme.test' }],
  ['GET /embed-charts/{authUserId}', { path: '/embed-charts/auth0%7Calice', pathParameters: { authUserId: 'auth0|alice' } }],
  ['GET /stripe/customer', {}]
] as const

async function checkout(
  call: Awaited<ReturnType<typeof coldStart>>['call'],
  token: string,
  query = 'price_id=price_basic&quantity=1'
): Promise<string> {
  const response = await call('POST /create-stripe-checkout-session', { token, query })
  expect(response.status).toBe(200)
  const secret = expectCheckoutForFrontend(await response.json())
  return secret.slice(0, secret.indexOf('_secret_'))
}

const register = (call: Awaited<ReturnType<typeof coldStart>>['call'], token: string, sessionId: string) =>
  call('POST /register/stripe/{checkout_session_id}', {
    token,
    path: `/register/stripe/${sessionId}`,
    pathParameters: { checkout_session_id: sessionId }
  })

describe('stripe mode: plans -> checkout -> register -> subscriptions, charts, customer, key', () => {
  it('walks the portal from the plans to an API key, with every answer as the frontend reads it', async () => {
    // Prepare
    const { call } = await coldStart(await deployEnv('stripe'))
    const alice = await login(ALICE)

    // Act + Assess: Plans page
    const plansResponse = await call('GET /plans')
    expect(plansResponse.status).toBe(200)
    const plans = expectPlansForFrontend(await plansResponse.json())
    const prices = plans.flatMap((plan) => plan.prices as Array<Record<string, unknown>>)
    expect(plans.map((plan) => plan.id)).toEqual(['prod_basic', 'prod_metered'])
    expect(prices.map((price) => price.id)).not.toContain('price_basic_legacy')
    expect(prices.find((price) => price.id === 'price_basic')).toMatchObject({ price_in_decimal: '1900', period_units: 'M' })
    expect(frontendSeesMetered(prices.find((price) => price.id === 'price_metered')!)).toBe(true)

    // Checkout page
    const sessionId = await checkout(call, alice)
    const stored = stripe.state.checkoutSessions[sessionId]!
    const customers = Object.values(stripe.state.customers).map((entry) => entry.object)
    expect(customers).toEqual([expect.objectContaining({ email: ALICE.email, metadata: { authUserId: ALICE.sub } })])
    const customerId = customers[0]!.id
    expect(stored.session).toMatchObject({
      ui_mode: 'embedded_page',
      mode: 'subscription',
      customer: customerId,
      return_url: `${PORTAL_URL}/return?session_id=${sessionId}&price_id=price_basic`
    })
    expect(stored.lineItems).toEqual([{ price: 'price_basic', quantity: 1 }])

    // The customer pays in Stripe's form; Stripe sends the browser to the Return page.
    expect((await stripe.completeCheckout(sessionId)).ok).toBe(true)
    const registered = await register(call, alice, sessionId)
    expect(registered.status).toBe(201)
    const registration = expectRegistrationForFrontend(await registered.json())
    expect(registration).toEqual({ id: sessionId, status: 'complete', customer_email: ALICE.email })
    expect(recorder.callsTo('/v1/companies').map((c) => c.body)).toEqual([expect.objectContaining({ company_id: customerId })])
    expect(recorder.callsTo('/v1/users').map((c) => c.body)).toEqual([
      expect.objectContaining({ user_id: customerId, company_id: customerId, metadata: expect.objectContaining({ email: ALICE.email }) })
    ])

    // A reload of the Return page: same answer, nothing changes.
    const stripeCalls = stripe.requests.length
    const again = await register(call, alice, sessionId)
    expect(again.status).toBe(201)
    expect(await again.json()).toEqual(registration)
    expect(recorder.calls).toHaveLength(2)
    expect(stripe.requests.slice(stripeCalls).map((request) => request.url)).not.toContainEqual(expect.stringContaining('/v1/checkout/sessions'))

    // Subscription page
    const subscriptions = await call('GET /subscriptions', { token: alice, query: `email=${encodeURIComponent(ALICE.email)}` })
    expect(subscriptions.status).toBe(200)
    const listed = expectSubscriptionsForFrontend(await subscriptions.json())
    const subscriptionId = stripe.state.checkoutSessions[sessionId]!.session.subscription
    expect(listed).toEqual([
      expect.objectContaining({
        subscription_id: subscriptionId,
        status: 'active',
        items: [expect.objectContaining({ plan_id: 'prod_basic', price_id: 'price_basic' })]
      })
    ])

    // Dashboard
    const charts = await call('GET /embed-charts/{authUserId}', {
      token: alice,
      path: '/embed-charts/whatever',
      pathParameters: { authUserId: 'whatever' }
    })
    expect(charts.status).toBe(200)
    const tokens = expectEmbedTokensForFrontend(await charts.json())
    expect(tokens.map((token) => token._id)).toEqual([moesif.workspaces.liveEventLog, moesif.workspaces.timeSeries])
    const issued = moesif.tokens.slice(-2)
    expect(issued.map((token) => token.userId)).toEqual([customerId, customerId])
    const expiresInDays = (Date.parse(issued[0]!.expiration) - Date.now()) / 86_400_000
    expect(expiresInDays).toBeGreaterThan(6.9)
    expect(expiresInDays).toBeLessThanOrEqual(7)

    // Moesif browser identification
    const customer = await call('GET /stripe/customer', { token: alice })
    expect(customer.status).toBe(200)
    expect(expectStripeCustomerForFrontend(await customer.json())).toMatchObject({ id: customerId, email: ALICE.email })

    // Keys page
    const key = await call('POST /create-key', { token: alice, body: { email: ALICE.email } })
    expect(key.status).toBe(201)
    expect(await key.json()).toEqual(expect.objectContaining({ apikey: expect.any(String) }))
  })

  it('makes one customer per login however often checkout is opened, even concurrently', async () => {
    const { call } = await coldStart(await deployEnv('stripe'))
    const alice = await login(ALICE)
    await Promise.all([checkout(call, alice), checkout(call, alice), checkout(call, alice)])
    await checkout(call, alice, 'price_id=price_metered')
    const customers = Object.values(stripe.state.customers).filter((entry) => 'email' in entry.object && entry.object.email === ALICE.email)
    expect(customers).toHaveLength(1)
  })

  it('sends no quantity for a metered price, and refuses a missing, retired, unknown or malformed price or quantity', async () => {
    const { call } = await coldStart(await deployEnv('stripe'))
    const alice = await login(ALICE)
    const metered = await checkout(call, alice, 'price_id=price_metered&email=alice%40acme.test')
    expect(stripe.state.checkoutSessions[metered]!.lineItems).toEqual([{ price: 'price_metered', quantity: null }])

    for (const [query, code] of [
      ['', 'ERR_BAD_QUERY'],
      ['price_id=price_basic_legacy', 'ERR_BAD_PRICE'],
      ['price_id=price_nope', 'ERR_BAD_PRICE'],
      ['price_id=..%2Fx', 'ERR_BAD_PRICE'],
      ['price_id=price_basic&quantity=0', 'ERR_BAD_QUERY'],
      ['price_id=price_basic&quantity=lots', 'ERR_BAD_QUERY']
    ] as const) {
      const response = await call('POST /create-stripe-checkout-session', { token: alice, query })
      expect(response.status, query).toBe(400)
      expectJsonError(await response.json(), code)
    }
  })

  it("refuses another user's session (403), a caller with no customer (403), an unknown (404) or malformed (400) id", async () => {
    const { call } = await coldStart(await deployEnv('stripe'))
    const [alice, bob] = await Promise.all([login(ALICE), login(BOB)])
    const sessionId = await checkout(call, alice)
    await stripe.completeCheckout(sessionId)

    const noCustomer = await register(call, bob, sessionId)
    expect(noCustomer.status).toBe(403)
    expectJsonError(await noCustomer.json(), 'ERR_SESSION_NOT_YOURS')

    await checkout(call, bob)
    const otherCustomer = await register(call, bob, sessionId)
    expect(otherCustomer.status).toBe(403)
    expectJsonError(await otherCustomer.json(), 'ERR_SESSION_NOT_YOURS')
    expect(recorder.calls).toEqual([])

    // Registered by its owner, still not Bob's.
    expect((await register(call, alice, sessionId)).status).toBe(201)
    expect((await register(call, bob, sessionId)).status).toBe(403)

    const unknown = await register(call, alice, 'cs_test_doesnotexist')
    expect(unknown.status).toBe(404)
    expectJsonError(await unknown.json(), 'ERR_NOT_FOUND')
    const malformed = await register(call, alice, 'not-a-session')
    expect(malformed.status).toBe(400)
    expectJsonError(await malformed.json(), 'ERR_BAD_SESSION_ID')
  })

  it('answers an open session as open, and registers nothing until it completes', async () => {
    const { call } = await coldStart(await deployEnv('stripe'))
    const alice = await login(ALICE)
    const sessionId = await checkout(call, alice)
    const open = await register(call, alice, sessionId)
    expect(open.status).toBe(201)
    expect(expectRegistrationForFrontend(await open.json())).toEqual({ id: sessionId, status: 'open', customer_email: ALICE.email })
    expect(recorder.calls).toEqual([])

    await stripe.completeCheckout(sessionId)
    expect(await (await register(call, alice, sessionId)).json()).toMatchObject({ status: 'complete' })
    expect(recorder.calls).toHaveLength(2)
  })

  it('answers [] for subscriptions, and charts for the login itself, before the caller has a customer; 404 for its customer', async () => {
    const { call } = await coldStart(await deployEnv('stripe'))
    const carol = await login({ sub: 'auth0|carol', email: 'carol@acme.test' })
    const subscriptions = await call('GET /subscriptions', { token: carol })
    expect(await subscriptions.json()).toEqual([])
    const charts = await call('GET /embed-charts/{authUserId}', { token: carol, path: '/embed-charts/x', pathParameters: { authUserId: 'x' } })
    expect(charts.status).toBe(200)
    expect(moesif.tokens.slice(-2).map((token) => token.userId)).toEqual(['auth0|carol', 'auth0|carol'])
    const customer = await call('GET /stripe/customer', { token: carol })
    expect(customer.status).toBe(404)
    expectJsonError(await customer.json(), 'ERR_NO_CUSTOMER')
  })
})

describe('every authenticated route: the ID-token check and JSON refusals', () => {
  it.each(AUTHENTICATED)(
    '%s: 401 JSON without a token, with a malformed one, with Okta\'s "[object Object]", and without an email claim',
    async (route, options) => {
      const { call } = await coldStart(await deployEnv('stripe'))
      const cases = [
        [undefined, 'ERR_PORTAL_TOKEN_MISSING'],
        ['Bearer garbage', 'ERR_PORTAL_TOKEN_INVALID'],
        ['Bearer not.a.jwt', 'ERR_PORTAL_TOKEN_INVALID'],
        ['Bearer [object Object]', 'ERR_PORTAL_TOKEN_OBJECT'],
        [`Bearer ${await login({ sub: 'auth0|noemail' })}`, 'ERR_EMAIL_REQUIRED']
      ] as const
      for (const [authorization, code] of cases) {
        const response = await call(route, { ...options, ...(authorization === undefined ? {} : { authorization }) })
        expect(response.status, `${authorization ?? '(none)'}`).toBe(401)
        const body = (await response.json()) as { message: string }
        expectJsonError(body, code)
        if (code === 'ERR_PORTAL_TOKEN_OBJECT') expect(body.message).toMatch(/\[object Object\]/)
      }
    }
  )

  it('POST /create-key also names the Okta object', async () => {
    const { call } = await coldStart(await deployEnv('none'))
    const response = await call('POST /create-key', { authorization: 'Bearer [object Object]' })
    expect(response.status).toBe(401)
    expectJsonError(await response.json(), 'ERR_PORTAL_TOKEN_OBJECT')
  })
})

describe('outages answer JSON, never a hang', () => {
  it('Moesif failing: /plans 503, /subscriptions 503, checkout 503, /embed-charts 502', async () => {
    const { call } = await coldStart(await deployEnv('stripe'))
    const alice = await login(ALICE)
    await checkout(call, alice) // a customer, so /subscriptions reaches Moesif
    const fresh = await coldStart(await deployEnv('stripe', { MOESIF_MANAGEMENT_TIMEOUT_MS: '300' })) // an empty plan cache
    for (const fault of [{ mode: 'error', status: 500 }, { mode: 'error', status: 429 }, { mode: 'hang' }] as const) {
      moesif.setFault(fault)
      const expectations = [
        ['GET /plans', {}, 503],
        ['POST /create-stripe-checkout-session', { token: alice, query: 'price_id=price_basic' }, 503],
        ['GET /subscriptions', { token: alice }, 503],
        ['GET /embed-charts/{authUserId}', { token: alice, path: '/embed-charts/x', pathParameters: { authUserId: 'x' } }, 502]
      ] as const
      for (const [route, options, status] of expectations) {
        const response = await fresh.call(route, options)
        expect(response.status, `${route} with ${JSON.stringify(fault)}`).toBe(status)
        expectJsonError(await response.json(), 'ERR_MOESIF_UNAVAILABLE')
      }
    }
  })

  it('Moesif unreachable (nothing listens): the same JSON answers', async () => {
    const gone = await startMoesifManagementStandIn({ stripe })
    await gone.close()
    const { call } = await coldStart(await deployEnv('none', { MOESIF_MANAGEMENT_API_BASE: gone.url }))
    const alice = await login(ALICE)
    const plans = await call('GET /plans')
    expect(plans.status).toBe(503)
    expectJsonError(await plans.json(), 'ERR_MOESIF_UNAVAILABLE')
    expect((await call('GET /subscriptions', { token: alice })).status).toBe(503)
    const charts = await call('GET /embed-charts/{authUserId}', { token: alice, path: '/embed-charts/x', pathParameters: { authUserId: 'x' } })
    expect(charts.status).toBe(502)
    expectJsonError(await charts.json(), 'ERR_MOESIF_UNAVAILABLE')
  })

  it('a Moesif that refuses the token is a generic 500 (misconfiguration), and still a 502 for the charts', async () => {
    const { call } = await coldStart(await deployEnv('stripe', { MOESIF_MANAGEMENT_TOKEN: 'not-the-stand-ins-token' }))
    const alice = await login(ALICE)
    const plans = await call('GET /plans')
    expect(plans.status).toBe(500)
    expectJsonError(await plans.json(), 'ERR_INTERNAL')
    const charts = await call('GET /embed-charts/{authUserId}', { token: alice, path: '/embed-charts/x', pathParameters: { authUserId: 'x' } })
    expect(charts.status).toBe(502)
  })

  it('keeps serving the plans it fetched for 60 s while Moesif fails', async () => {
    const { call } = await coldStart(await deployEnv('stripe'))
    expect((await call('GET /plans')).status).toBe(200)
    moesif.setFault({ mode: 'error', status: 500 })
    expect((await call('GET /plans')).status).toBe(200)
  })

  it('Stripe failing or hanging: every route that needs it answers 503 ERR_BILLING_UNAVAILABLE', async () => {
    const { call } = await coldStart(await deployEnv('stripe', { STRIPE_TIMEOUT_MS: '100' }))
    const alice = await login(ALICE)
    await checkout(call, alice)
    // A fresh container: no customer of Alice's cached; its catalog fetched (by Bob's checkout), since the Moesif
    // stand-in reads its plans from this very Stripe account.
    const fresh = await coldStart(await deployEnv('stripe', { STRIPE_TIMEOUT_MS: '100' }))
    await checkout(fresh.call, await login(BOB))
    for (const fault of [{ mode: 'error', status: 500 }, { mode: 'hang' }] as const) {
      await stripe.setFault(fault)
      for (const [route, options] of AUTHENTICATED) {
        const response = await fresh.call(route, { ...options, token: alice })
        expect(response.status, `${route} with ${JSON.stringify(fault)}`).toBe(503)
        expectJsonError(await response.json(), 'ERR_BILLING_UNAVAILABLE')
      }
    }
  })

  it('the collector failing never fails a registration (profiles are bounded and best effort)', async () => {
    const { call } = await coldStart(await deployEnv('stripe', { MOESIF_MAX_WAIT_MS: '100' }))
    const alice = await login(ALICE)
    const sessionId = await checkout(call, alice)
    await stripe.completeCheckout(sessionId)
    recorder.setStatus(500)
    expect((await register(call, alice, sessionId)).status).toBe(201)
  })
})

describe('routes that are off in this deployment answer 404 JSON saying what turns them on', () => {
  it('stripe routes outside stripe mode; management routes without MOESIF_MANAGEMENT_TOKEN; charts without workspace ids', async () => {
    const none = await coldStart(await deployEnv('none'))
    const alice = await login(ALICE)
    for (const route of ['POST /create-stripe-checkout-session', 'GET /stripe/customer'] as const) {
      const response = await none.call(route, { token: alice, query: 'price_id=price_basic' })
      expect(response.status, route).toBe(404)
      expectJsonError(await response.json(), 'ERR_NOT_FOUND')
    }
    expect((await register(none.call, alice, 'cs_test_abc')).status).toBe(404)
    expect((await none.call('POST /register/custom', { token: alice, body: { plan_id: 'prod_basic', price_id: 'price_basic' } })).status).toBe(404)

    const bare = await coldStart(await deployEnv('none', { MOESIF_MANAGEMENT_TOKEN: '' }))
    for (const route of ['GET /plans', 'GET /subscriptions'] as const) {
      const response = await bare.call(route, { token: alice })
      expect(response.status, route).toBe(404)
      expect(((await response.json()) as { message: string }).message).toMatch(/MOESIF_MANAGEMENT_TOKEN/)
    }
    const noWorkspaces = await coldStart(
      await deployEnv('none', { MOESIF_TEMPLATE_WORKSPACE_ID_LIVE_EVENT_LOG: '', MOESIF_TEMPLATE_WORKSPACE_ID_TIME_SERIES: '' })
    )
    const charts = await noWorkspaces.call('GET /embed-charts/{authUserId}', {
      token: alice,
      path: '/embed-charts/x',
      pathParameters: { authUserId: 'x' }
    })
    expect(charts.status).toBe(404)
    expect(((await charts.json()) as { message: string }).message).toMatch(/MOESIF_TEMPLATE_WORKSPACE_ID_LIVE_EVENT_LOG/)
  })

  it("without billing, subscriptions and charts are the login's own (`sub`)", async () => {
    const { call } = await coldStart(await deployEnv('none'))
    const alice = await login({ ...ALICE, org: 'acme' })
    expect(await (await call('GET /subscriptions', { token: alice })).json()).toEqual([])
    expect(
      (await call('GET /embed-charts/{authUserId}', { token: alice, path: '/embed-charts/x', pathParameters: { authUserId: 'x' } })).status
    ).toBe(200)
    expect(moesif.tokens.slice(-2).map((token) => token.userId)).toEqual([ALICE.sub, ALICE.sub])
  })

  it('POST /okta/register answers 501 JSON', async () => {
    const { call } = await coldStart(await deployEnv('none'))
    const response = await call('POST /okta/register', { body: { firstName: 'A', lastName: 'B', email: 'a@b.test', password: 'secret1' } })
    expect(response.status).toBe(501)
    expectJsonError(await response.json(), 'ERR_NOT_IMPLEMENTED')
  })
})

describe('custom mode: POST /register/custom, then keys', () => {
  it('registers once per company and price, sends the subscription to Moesif, and unlocks POST /create-key', async () => {
    const { call } = await coldStart(await deployEnv('custom'))
    const alice = await login({ ...ALICE, org: 'acme' })

    const before = await call('POST /create-key', { token: alice })
    expect(before.status).toBe(402)

    const body = { plan_id: 'prod_basic', price_id: 'price_basic' }
    const registered = await call('POST /register/custom', { token: alice, body })
    expect(registered.status).toBe(201)
    expect(await registered.json()).toEqual({ status: 'provisioned' })
    const sent = recorder.callsTo('/v1/subscriptions')
    expect(sent).toEqual([
      {
        path: '/v1/subscriptions',
        applicationId: 'portal-test-app',
        body: expect.objectContaining({
          subscription_id: expect.stringMatching(/^sub_custom_/),
          company_id: ALICE.sub,
          status: 'active',
          items: [{ plan_id: 'prod_basic', price_id: 'price_basic' }],
          current_period_start: expect.any(String),
          current_period_end: expect.any(String)
        })
      }
    ])
    expect(recorder.callsTo('/v1/users').map((c) => c.body)).toEqual([
      expect.objectContaining({ user_id: ALICE.sub, company_id: ALICE.sub, metadata: expect.objectContaining({ email: ALICE.email }) })
    ])

    const again = await call('POST /register/custom', { token: alice, body })
    expect(again.status).toBe(201)
    expect(recorder.callsTo('/v1/subscriptions')).toHaveLength(1)

    const key = await call('POST /create-key', { token: alice })
    expect(key.status).toBe(201)
  })

  it('answers 502 when Moesif does not take the subscription, and a repeat sends the same one', async () => {
    const { call } = await coldStart(await deployEnv('custom'))
    const alice = await login(ALICE)
    const body = { plan_id: 'prod_metered', price_id: 'price_metered' }
    recorder.setStatus(500)
    const failed = await call('POST /register/custom', { token: alice, body })
    expect(failed.status).toBe(502)
    expectJsonError(await failed.json(), 'ERR_MOESIF_UNAVAILABLE')
    recorder.setStatus(201)
    expect((await call('POST /register/custom', { token: alice, body })).status).toBe(201)
    const ids = recorder.callsTo('/v1/subscriptions').map((c) => (c.body as { subscription_id: string }).subscription_id)
    expect(ids).toHaveLength(2)
    expect(new Set(ids).size).toBe(1)
  })

  it('refuses a price that is not for sale in that plan, and a malformed body', async () => {
    const { call } = await coldStart(await deployEnv('custom'))
    const alice = await login(ALICE)
    for (const [body, status, code] of [
      [{ plan_id: 'prod_metered', price_id: 'price_basic' }, 400, 'ERR_BAD_PRICE'],
      [{ plan_id: 'prod_basic', price_id: 'price_basic_legacy' }, 400, 'ERR_BAD_PRICE'],
      [{ plan_id: 'prod_basic' }, 400, 'ERR_BAD_BODY'],
      [{ plan_id: 'prod_basic', price_id: 'price_basic', admin: true }, 400, 'ERR_BAD_BODY'],
      ['not json', 400, 'ERR_BAD_BODY'],
      [{ plan_id: 'x'.repeat(5000), price_id: 'y' }, 413, 'ERR_BODY_TOO_LARGE']
    ] as const) {
      const response = await call('POST /register/custom', { token: alice, body })
      expect(response.status, JSON.stringify(body).slice(0, 60)).toBe(status)
      expectJsonError(await response.json(), code)
    }
    expect(recorder.calls).toEqual([])
  })
})
