import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { moesifManagementEnv } from '../../src/local/moesif-management/local'
import { startMoesifManagementStandIn, type MoesifManagementStandIn } from '../../src/local/moesif-management/stand-in'
import { startStripeStandIn, type StripeStandIn } from '../../src/local/stripe/stand-in'
import { startTestIdentityProvider, type TestIdentityProvider } from '../support/identity-provider'
import { stackStartTimeout, startLocalStack, STACK_TIMEOUTS, type LocalStack } from '../support/local-stack'
import { startMoesifApiRecorder, type MoesifApiRecorder } from '../support/moesif-api-recorder'
import { openApiContract } from '../support/openapi-contract'
import {
  expectCheckoutForFrontend,
  expectEmbedTokensForFrontend,
  expectJsonError,
  expectPlansForFrontend,
  expectRegistrationForFrontend,
  expectStripeCustomerForFrontend,
  expectSubscriptionsForFrontend
} from '../support/portal-frontend-contract'

/**
 * The unchanged Moesif portal frontend's calls, in the order its pages make
 * them, through the real local stack (serverless-offline with the esbuild
 * bundles) in stripe mode: the Stripe stand-in and the Moesif management
 * stand-in run here, on loopback, and the stack is pointed at them with
 * explicit settings. Every answer is checked against the OpenAPI document
 * and against what the frontend reads.
 */
describe('end-to-end: the Moesif portal frontend against the local stack (stripe mode)', { timeout: STACK_TIMEOUTS.call }, () => {
  const PORTAL_ORIGIN = 'http://127.0.0.1:4000'
  let idp: TestIdentityProvider
  let stripe: StripeStandIn
  let moesif: MoesifManagementStandIn
  let recorder: MoesifApiRecorder
  let stack: LocalStack

  beforeAll(async () => {
    ;[idp, stripe, recorder] = await Promise.all([startTestIdentityProvider(), startStripeStandIn(), startMoesifApiRecorder()])
    moesif = await startMoesifManagementStandIn({ stripe })
    stack = await startLocalStack({
      JWT_ALGORITHM: 'HS256',
      JWT_SECRET: randomBytes(48).toString('base64url'),
      ...idp.env,
      PORTAL_ORIGINS: PORTAL_ORIGIN,
      APP_PAYMENT_PROVIDER: 'stripe',
      STRIPE_API_KEY: stripe.apiKey,
      STRIPE_API_BASE: stripe.url,
      STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
      ...moesifManagementEnv(moesif),
      MOESIF_APPLICATION_ID: 'portal-e2e-app',
      MOESIF_BASE_URI: recorder.baseUri,
      MOESIF_MAX_WAIT_MS: '3000'
    })
  }, stackStartTimeout())

  afterAll(async () => {
    await stack?.stop()
    await Promise.all([moesif?.close(), recorder?.close(), idp?.close()])
    await stripe?.close()
  })

  const api = (path: string, init: RequestInit & { token?: string } = {}): Promise<Response> => {
    const { token, ...rest } = init
    return openApiContract.fetch(`${stack.baseUrl}${path}`, {
      ...rest,
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...rest.headers }
    })
  }

  it('plans -> checkout -> Stripe -> return page (once) -> subscription page -> key -> API -> dashboard', async () => {
    const alice = await idp.mint({ sub: 'auth0|alice', email: 'alice@acme.test' })

    // Home / Plans: the frontend sends no headers (no preflight), from the portal's origin.
    const plansResponse = await openApiContract.fetch(`${stack.baseUrl}/plans`, { headers: { origin: PORTAL_ORIGIN } })
    expect(plansResponse.status).toBe(200)
    expect(plansResponse.headers.get('access-control-allow-origin')).toBe(PORTAL_ORIGIN)
    const plans = expectPlansForFrontend(await plansResponse.json())
    expect(plans.map((plan) => plan.id)).toEqual(['prod_basic', 'prod_metered'])

    // Checkout: POST with the price the tile linked to.
    const checkout = await api(`/create-stripe-checkout-session?price_id=price_basic&email=${encodeURIComponent('alice@acme.test')}&quantity=1`, {
      method: 'POST',
      token: alice
    })
    expect(checkout.status).toBe(200)
    const clientSecret = expectCheckoutForFrontend(await checkout.json())
    const sessionId = clientSecret.slice(0, clientSecret.indexOf('_secret_'))

    // The customer pays in Stripe's embedded form.
    expect((await stripe.completeCheckout(sessionId)).ok).toBe(true)

    // Return page, then a reload of it.
    const registered = await api(`/register/stripe/${sessionId}`, { method: 'POST', token: alice })
    expect(registered.status).toBe(201)
    expect(expectRegistrationForFrontend(await registered.json())).toMatchObject({ status: 'complete', customer_email: 'alice@acme.test' })
    const profileCalls = recorder.calls.filter((call) => call.path === '/v1/companies' || call.path === '/v1/users').length
    expect(profileCalls).toBe(2)
    const again = await api(`/register/stripe/${sessionId}`, { method: 'POST', token: alice })
    expect(again.status).toBe(201)
    expect(await again.json()).toMatchObject({ status: 'complete', customer_email: 'alice@acme.test' })
    expect(recorder.calls.filter((call) => call.path === '/v1/companies' || call.path === '/v1/users')).toHaveLength(profileCalls)

    // Somebody else's Return page with Alice's session id.
    const bob = await idp.mint({ sub: 'auth0|bob', email: 'bob@globex.test' })
    const stolen = await api(`/register/stripe/${sessionId}`, { method: 'POST', token: bob })
    expect(stolen.status).toBe(403)
    expectJsonError(await stolen.json(), 'ERR_SESSION_NOT_YOURS')

    // Subscription page.
    const subscriptions = await api(`/subscriptions?email=${encodeURIComponent('alice@acme.test')}`, { token: alice })
    expect(subscriptions.status).toBe(200)
    const subscriptionId = stripe.state.checkoutSessions[sessionId]?.session.subscription
    expect(expectSubscriptionsForFrontend(await subscriptions.json())).toEqual([
      expect.objectContaining({
        subscription_id: subscriptionId,
        items: [expect.objectContaining({ plan_id: 'prod_basic', price_id: 'price_basic' })]
      })
    ])

    // Keys page, then the API with the key.
    const created = await api('/create-key', { method: 'POST', token: alice, body: JSON.stringify({ email: 'alice@acme.test' }) })
    expect(created.status).toBe(201)
    const { apikey } = (await created.json()) as { apikey: string }
    const whoami = await api('/v1/whoami', { headers: { authorization: `Bearer ${apikey}` } })
    expect(whoami.status).toBe(200)
    const customerId = stripe.state.checkoutSessions[sessionId]?.session.customer
    expect(await whoami.json()).toMatchObject({ orgId: customerId, userId: customerId })

    // Dashboard.
    const charts = await api(`/embed-charts/${encodeURIComponent('auth0|alice')}?email=${encodeURIComponent('alice@acme.test')}`, { token: alice })
    expect(charts.status).toBe(200)
    expect(expectEmbedTokensForFrontend(await charts.json()).map((token) => token._id)).toEqual([
      moesif.workspaces.liveEventLog,
      moesif.workspaces.timeSeries
    ])
    expect(moesif.tokens.slice(-2).map((token) => token.userId)).toEqual([customerId, customerId])

    // Moesif browser identification.
    const customer = await api('/stripe/customer', { token: alice })
    expect(customer.status).toBe(200)
    expect(expectStripeCustomerForFrontend(await customer.json()).id).toBe(customerId)
  })

  it('answers the preflight of every route with parameters for the portal origin, and no other origin', async () => {
    const preflight = (path: string, origin: string, method: string) =>
      fetch(`${stack.baseUrl}${path}`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' }
      })
    for (const [path, method] of [
      ['/embed-charts/auth0%7Calice', 'GET'],
      ['/register/stripe/cs_test_abc', 'POST'],
      ['/create-stripe-checkout-session', 'POST'],
      ['/subscriptions', 'GET'],
      ['/register/custom', 'POST']
    ] as const) {
      const allowed = await preflight(path, PORTAL_ORIGIN, method)
      expect(allowed.status, path).toBeLessThan(300)
      expect(allowed.headers.get('access-control-allow-origin'), path).toBe(PORTAL_ORIGIN)
      expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase(), path).toContain('authorization')
      const foreign = await preflight(path, 'https://evil.example', method)
      expect(foreign.headers.get('access-control-allow-origin'), path).toBeNull()
    }
  })

  it("answers JSON 401 for Okta's [object Object], and 501 JSON for Okta sign-up", async () => {
    const okta = await api('/subscriptions?email=a%40b.test', { headers: { authorization: 'Bearer [object Object]' } })
    expect(okta.status).toBe(401)
    expectJsonError(await okta.json(), 'ERR_PORTAL_TOKEN_OBJECT')
    const signUp = await api('/okta/register', {
      method: 'POST',
      body: JSON.stringify({ firstName: 'A', lastName: 'B', email: 'a@b.test', password: 'secret1' })
    })
    expect(signUp.status).toBe(501)
    expectJsonError(await signUp.json(), 'ERR_NOT_IMPLEMENTED')
  })
})
