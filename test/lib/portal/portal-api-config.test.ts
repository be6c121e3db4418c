import { describe, expect, it } from 'vitest'
import { loadPortalApiConfig, portalRouteSecrets, type PortalRoute } from '../../../src/lib/portal/portal-api-config'
import { ConfigError } from '../../../src/lib/runtime/errors'

const TOKEN = 'moesif-management-token-0123456789'

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadPortalApiConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  return expect.unreachable('expected a ConfigError')
}

describe('loadPortalApiConfig', () => {
  it("defaults to Moesif's API, a 5 s timeout, no workspaces, and the first portal origin as PORTAL_URL", () => {
    const config = loadPortalApiConfig({ MOESIF_MANAGEMENT_TOKEN: TOKEN })
    expect(config.management?.apiBase.href).toBe('https://api.moesif.com/')
    expect(config.management?.timeoutMs).toBe(5000)
    expect(config.workspaces).toBeUndefined()
    expect(config.portalUrl).toBe('http://127.0.0.1:4000')
    expect(loadPortalApiConfig({ PORTAL_ORIGINS: 'https://portal.example.com, https://b.example' }).portalUrl).toBe('https://portal.example.com')
    expect(Object.isFrozen(config.management)).toBe(true)
  })

  it('is off (no management) without a token, and an empty value counts as unset', () => {
    expect(loadPortalApiConfig({}).management).toBeUndefined()
    expect(loadPortalApiConfig({ MOESIF_MANAGEMENT_TOKEN: ' ' }).management).toBeUndefined()
  })

  it('reads a loopback stand-in over http, both workspace ids, PORTAL_URL with its path and without a trailing slash', () => {
    const config = loadPortalApiConfig({
      MOESIF_MANAGEMENT_TOKEN: TOKEN,
      MOESIF_MANAGEMENT_API_BASE: 'http://127.0.0.1:4010',
      MOESIF_MANAGEMENT_TIMEOUT_MS: '250',
      MOESIF_TEMPLATE_WORKSPACE_ID_LIVE_EVENT_LOG: '64f0000000000000000e0001',
      MOESIF_TEMPLATE_WORKSPACE_ID_TIME_SERIES: '64f0000000000000000e0002',
      PORTAL_URL: 'https://example.com/portal/'
    })
    expect(config.management?.apiBase.port).toBe('4010')
    expect(config.management?.timeoutMs).toBe(250)
    expect(config.workspaces).toEqual({ liveEventLog: '64f0000000000000000e0001', timeSeries: '64f0000000000000000e0002' })
    expect(config.portalUrl).toBe('https://example.com/portal')
  })

  it.each([
    [{ MOESIF_MANAGEMENT_TOKEN: 'has spaces in it' }, 'MOESIF_MANAGEMENT_TOKEN'],
    [{ MOESIF_MANAGEMENT_TOKEN: 'short' }, 'MOESIF_MANAGEMENT_TOKEN'],
    [{ MOESIF_MANAGEMENT_API_BASE: 'http://api.moesif.com' }, 'MOESIF_MANAGEMENT_API_BASE'],
    [{ MOESIF_MANAGEMENT_API_BASE: 'https://api.moesif.com/v1' }, 'MOESIF_MANAGEMENT_API_BASE'],
    [{ MOESIF_MANAGEMENT_API_BASE: 'not a url' }, 'MOESIF_MANAGEMENT_API_BASE'],
    [{ MOESIF_MANAGEMENT_TIMEOUT_MS: '5s' }, 'MOESIF_MANAGEMENT_TIMEOUT_MS'],
    [{ MOESIF_TEMPLATE_WORKSPACE_ID_LIVE_EVENT_LOG: 'abc' }, 'MOESIF_TEMPLATE_WORKSPACE_ID_TIME_SERIES'],
    [
      { MOESIF_TEMPLATE_WORKSPACE_ID_LIVE_EVENT_LOG: '../admin', MOESIF_TEMPLATE_WORKSPACE_ID_TIME_SERIES: 'ws_zq9' },
      'MOESIF_TEMPLATE_WORKSPACE_ID_LIVE_EVENT_LOG'
    ],
    [{ PORTAL_URL: 'my-portal-host.test' }, 'PORTAL_URL'],
    [{ PORTAL_URL: 'https://portal.example.com/?x=1' }, 'PORTAL_URL'],
    [{ PORTAL_URL: 'javascript:alert(1)' }, 'PORTAL_URL']
  ])('refuses %j, naming %s and never the value', (env, variable) => {
    const error = refusal(env)
    expect(error.variable).toBe(variable)
    for (const value of Object.values(env)) expect(error.message).not.toContain(value)
  })
})

describe('portalRouteSecrets: what each route reads, as its IAM role allows', () => {
  const routes: PortalRoute[] = [
    'plans',
    'createCheckoutSession',
    'registerStripe',
    'subscriptions',
    'embedCharts',
    'stripeCustomer',
    'registerCustom',
    'oktaRegister'
  ]
  const secrets = (env: Record<string, string>) => Object.fromEntries(routes.map((route) => [route, portalRouteSecrets(route, env)]))

  it('stripe mode: the Stripe key where a customer is resolved, the token where Moesif is called', () => {
    expect(secrets({ APP_PAYMENT_PROVIDER: 'stripe' })).toEqual({
      plans: ['MOESIF_MANAGEMENT_TOKEN'],
      createCheckoutSession: ['STRIPE_API_KEY', 'MOESIF_MANAGEMENT_TOKEN'],
      registerStripe: ['STRIPE_API_KEY'],
      subscriptions: ['STRIPE_API_KEY', 'MOESIF_MANAGEMENT_TOKEN'],
      embedCharts: ['STRIPE_API_KEY', 'MOESIF_MANAGEMENT_TOKEN'],
      stripeCustomer: ['STRIPE_API_KEY'],
      registerCustom: [],
      oktaRegister: []
    })
  })

  it('custom mode: the token for the catalog and the registration', () => {
    expect(secrets({ APP_PAYMENT_PROVIDER: 'custom' })).toMatchObject({
      plans: ['MOESIF_MANAGEMENT_TOKEN'],
      registerCustom: ['MOESIF_MANAGEMENT_TOKEN'],
      createCheckoutSession: [],
      stripeCustomer: []
    })
  })

  it('without billing: nothing, unless the token has an SSM parameter of its own (never the JSON secret)', () => {
    expect(Object.values(secrets({})).flat()).toEqual([])
    expect(secrets({ MOESIF_MANAGEMENT_TOKEN_SSM_PARAMETER: '/dpk/moesif' })).toMatchObject({
      plans: ['MOESIF_MANAGEMENT_TOKEN'],
      subscriptions: ['MOESIF_MANAGEMENT_TOKEN'],
      embedCharts: ['MOESIF_MANAGEMENT_TOKEN'],
      createCheckoutSession: []
    })
  })
})
