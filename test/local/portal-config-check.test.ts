/**
 * Finding 5b: `npm start` refuses a broken identity-provider setting by
 * calling loadPortalConfig before anything starts (src/local/start.ts). This
 * pins down that loadPortalConfig itself rejects each case, with a message
 * naming the variable, as ConfigError does for the JWT_* settings.
 */
import { describe, expect, it } from 'vitest'
import { loadPortalConfig } from '../../src/lib/portal/portal-config'
import { ConfigError } from '../../src/lib/runtime/errors'

describe('loadPortalConfig refuses what would fail every create-key', () => {
  it.each([
    [{ AUTH_PROVIDER: 'Auth0', PORTAL_AUDIENCE: 'portal' }, 'AUTH0_DOMAIN'],
    [{ AUTH_PROVIDER: 'Okta', OKTA_ORG_URL: 'not-a-url', PORTAL_AUDIENCE: 'portal' }, 'OKTA_ORG_URL'],
    [{ AUTH_PROVIDER: 'Okta', OKTA_ORG_URL: 'http://acme.okta.com', PORTAL_AUDIENCE: 'portal' }, 'OKTA_ORG_URL'],
    [{ PORTAL_ISSUER: 'https://login.example.com/', PORTAL_AUDIENCE: 'portal' }, 'PORTAL_JWKS_URI'],
    [{ PORTAL_JWKS_URI: 'https://login.example.com/jwks', PORTAL_AUDIENCE: 'portal' }, 'PORTAL_ISSUER'],
    [{ AUTH_PROVIDER: 'Auth0', AUTH0_DOMAIN: 'acme.eu.auth0.com' }, 'PORTAL_AUDIENCE'],
    [{ AUTH_PROVIDER: 'Cognito' }, 'AUTH_PROVIDER']
  ])('%j: ConfigError naming %s', (env, variable) => {
    let error: unknown
    try {
      loadPortalConfig(env)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ variable, message: expect.stringMatching(new RegExp(`^Invalid configuration: ${variable} must be `)) })
  })
})
