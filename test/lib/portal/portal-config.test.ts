import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../../src/lib/runtime/errors'
import { loadPortalConfig } from '../../../src/lib/portal/portal-config'

const GENERIC = {
  PORTAL_ISSUER: 'https://idp.example/',
  PORTAL_JWKS_URI: 'https://idp.example/.well-known/jwks.json',
  PORTAL_AUDIENCE: 'portal-client-id'
}

function expectConfigError(act: () => unknown, variable: string): void {
  let caught: unknown
  try {
    act()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(ConfigError)
  expect((caught as ConfigError).variable).toBe(variable)
}

describe('loadPortalConfig: the reference portal AUTH_PROVIDER settings', () => {
  it('derives issuer and JWKS address for Auth0', () => {
    // Act
    const config = loadPortalConfig({ AUTH_PROVIDER: 'Auth0', AUTH0_DOMAIN: 'acme.eu.auth0.com', AUTH0_CLIENT_ID: 'auth0-client' })
    // Assess
    expect(config.issuer).toBe('https://acme.eu.auth0.com/')
    expect(config.jwksUri.href).toBe('https://acme.eu.auth0.com/.well-known/jwks.json')
    expect(config.audience).toBe('auth0-client')
  })

  it.each([['https://acme.eu.auth0.com'], ['https://acme.eu.auth0.com/'], ['http://acme.eu.auth0.com//'], ['acme.eu.auth0.com/']])(
    'normalises AUTH0_DOMAIN=%j to the bare host (and always https)',
    (domain) => {
      const config = loadPortalConfig({ AUTH_PROVIDER: 'auth0', AUTH0_DOMAIN: domain, AUTH0_CLIENT_ID: 'c' })
      expect(config.issuer).toBe('https://acme.eu.auth0.com/')
      expect(config.jwksUri.href).toBe('https://acme.eu.auth0.com/.well-known/jwks.json')
    }
  )

  it('derives issuer and JWKS address for Okta (default authorization server)', () => {
    // Act
    const config = loadPortalConfig({ AUTH_PROVIDER: 'Okta', OKTA_ORG_URL: 'https://acme.okta.com/', OKTA_CLIENT_ID: 'okta-client' })
    // Assess
    expect(config.issuer).toBe('https://acme.okta.com/oauth2/default')
    expect(config.jwksUri.href).toBe('https://acme.okta.com/oauth2/default/v1/keys')
    expect(config.audience).toBe('okta-client')
  })

  it('lets the generic PORTAL_* settings win over the provider ones', () => {
    // Act
    const config = loadPortalConfig({ AUTH_PROVIDER: 'Auth0', AUTH0_DOMAIN: 'acme.eu.auth0.com', AUTH0_CLIENT_ID: 'auth0-client', ...GENERIC })
    // Assess
    expect(config.issuer).toBe(GENERIC.PORTAL_ISSUER)
    expect(config.jwksUri.href).toBe(GENERIC.PORTAL_JWKS_URI)
    expect(config.audience).toBe(GENERIC.PORTAL_AUDIENCE)
  })

  it('takes PORTAL_AUDIENCE alone with the provider issuer', () => {
    const config = loadPortalConfig({ AUTH_PROVIDER: 'Okta', OKTA_ORG_URL: 'https://acme.okta.com', PORTAL_AUDIENCE: 'override' })
    expect([config.issuer, config.audience]).toEqual(['https://acme.okta.com/oauth2/default', 'override'])
  })

  it('refuses Auth0 without AUTH0_DOMAIN', () => {
    expectConfigError(() => loadPortalConfig({ AUTH_PROVIDER: 'Auth0', AUTH0_CLIENT_ID: 'c' }), 'AUTH0_DOMAIN')
  })

  it('refuses Okta without OKTA_ORG_URL', () => {
    expectConfigError(() => loadPortalConfig({ AUTH_PROVIDER: 'Okta', OKTA_CLIENT_ID: 'c' }), 'OKTA_ORG_URL')
  })

  it('refuses an unknown AUTH_PROVIDER', () => {
    expectConfigError(() => loadPortalConfig({ AUTH_PROVIDER: 'Cognito', ...GENERIC }), 'AUTH_PROVIDER')
  })

  // Regression test, fixed since (src/lib/portal/portal-config.ts:47 + :88): OKTA_ORG_URL is never validated itself; a value
  // without a scheme (or on http://) fails later as PORTAL_JWKS_URI, a variable the operator never set.
  it.each([['acme.okta.com'], ['http://acme.okta.com']])('blames OKTA_ORG_URL for OKTA_ORG_URL=%j', (orgUrl) => {
    expectConfigError(() => loadPortalConfig({ AUTH_PROVIDER: 'Okta', OKTA_ORG_URL: orgUrl, OKTA_CLIENT_ID: 'c' }), 'OKTA_ORG_URL')
  })

  it('refuses an Okta org URL without a scheme (whatever variable it names)', () => {
    expect(() => loadPortalConfig({ AUTH_PROVIDER: 'Okta', OKTA_ORG_URL: 'acme.okta.com', OKTA_CLIENT_ID: 'c' })).toThrow(ConfigError)
  })
})

describe('loadPortalConfig: generic settings', () => {
  it('reads PORTAL_ISSUER, PORTAL_JWKS_URI and PORTAL_AUDIENCE with the defaults', () => {
    // Act
    const config = loadPortalConfig(GENERIC)
    // Assess
    expect(config).toMatchObject({ issuer: GENERIC.PORTAL_ISSUER, audience: GENERIC.PORTAL_AUDIENCE, companyIdClaim: 'org_id' })
    expect(config.jwksUri).toBeInstanceOf(URL)
    expect(Object.isFrozen(config)).toBe(true)
  })

  it.each([
    ['PORTAL_ISSUER', { PORTAL_JWKS_URI: GENERIC.PORTAL_JWKS_URI, PORTAL_AUDIENCE: 'a' }],
    ['PORTAL_JWKS_URI', { PORTAL_ISSUER: GENERIC.PORTAL_ISSUER, PORTAL_AUDIENCE: 'a' }],
    ['PORTAL_AUDIENCE', { PORTAL_ISSUER: GENERIC.PORTAL_ISSUER, PORTAL_JWKS_URI: GENERIC.PORTAL_JWKS_URI }],
    ['PORTAL_AUDIENCE', { ...GENERIC, PORTAL_AUDIENCE: '  ' }],
    ['PORTAL_AUDIENCE', { AUTH_PROVIDER: 'Auth0', AUTH0_DOMAIN: 'acme.eu.auth0.com' }]
  ])('refuses a missing %s', (variable, env) => {
    expectConfigError(() => loadPortalConfig(env), variable)
  })

  it.each([['http://127.0.0.1:9999/.well-known/jwks.json'], ['http://localhost:9999/jwks'], ['http://[::1]:9999/jwks']])(
    'allows plain http on loopback: %s',
    (uri) => {
      expect(loadPortalConfig({ ...GENERIC, PORTAL_JWKS_URI: uri }).jwksUri.href).toBe(uri)
    }
  )

  it.each([
    ['http://idp.example/.well-known/jwks.json'],
    ['http://10.0.0.5/jwks'],
    ['http://127.0.0.1.evil.example/jwks'],
    ['ftp://idp.example/jwks'],
    ['file:///etc/jwks.json'],
    ['not a url'],
    ['/relative/jwks.json']
  ])('refuses PORTAL_JWKS_URI=%s', (uri) => {
    expectConfigError(() => loadPortalConfig({ ...GENERIC, PORTAL_JWKS_URI: uri }), 'PORTAL_JWKS_URI')
  })

  it('reads PORTAL_COMPANY_ID_CLAIM', () => {
    expect(loadPortalConfig({ ...GENERIC, PORTAL_COMPANY_ID_CLAIM: 'https://portal.example/org' }).companyIdClaim).toBe('https://portal.example/org')
  })

  it('refuses PORTAL_COMPANY_ID_CLAIM=__proto__', () => {
    expectConfigError(() => loadPortalConfig({ ...GENERIC, PORTAL_COMPANY_ID_CLAIM: '__proto__' }), 'PORTAL_COMPANY_ID_CLAIM')
  })
})

describe('loadPortalConfig: provider settings are checked themselves', () => {
  it.each([
    ['AUTH0_DOMAIN with a space', { AUTH_PROVIDER: 'Auth0', AUTH0_DOMAIN: 'acme auth0.com', AUTH0_CLIENT_ID: 'c' }, 'AUTH0_DOMAIN'],
    ['AUTH0_DOMAIN with only a scheme', { AUTH_PROVIDER: 'Auth0', AUTH0_DOMAIN: 'https://', AUTH0_CLIENT_ID: 'c' }, 'AUTH0_DOMAIN'],
    ['AUTH0_DOMAIN with a path', { AUTH_PROVIDER: 'Auth0', AUTH0_DOMAIN: 'acme.auth0.com/x', AUTH0_CLIENT_ID: 'c' }, 'AUTH0_DOMAIN'],
    [
      'OKTA_ORG_URL with /oauth2/default already',
      { AUTH_PROVIDER: 'Okta', OKTA_ORG_URL: 'https://acme.okta.com/oauth2/default', OKTA_CLIENT_ID: 'c' },
      'OKTA_ORG_URL'
    ]
  ])('refuses %s, naming %s', (_name, env, variable) => {
    expect(() => loadPortalConfig(env)).toThrow(expect.objectContaining({ variable }))
  })

  it('still accepts the reference forms, with or without a scheme', () => {
    expect(loadPortalConfig({ AUTH_PROVIDER: 'Auth0', AUTH0_DOMAIN: 'https://acme.eu.auth0.com/', AUTH0_CLIENT_ID: 'c' }).issuer).toBe(
      'https://acme.eu.auth0.com/'
    )
    expect(loadPortalConfig({ AUTH_PROVIDER: 'Okta', OKTA_ORG_URL: 'https://acme.okta.com', OKTA_CLIENT_ID: 'c' }).issuer).toBe(
      'https://acme.okta.com/oauth2/default'
    )
  })
})
