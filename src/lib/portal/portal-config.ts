import { readEnv, type Env } from '../runtime/env'
import { ConfigError } from '../runtime/errors'
import { isLoopbackUrl } from '../http/url'

/**
 * How portal logins (the identity provider's ID tokens) are verified. Which
 * browser origins may call is API Gateway's business (CORS, from
 * PORTAL_ORIGINS at package time: config/serverless-env.cjs).
 */
export interface PortalConfig {
  readonly issuer: string
  readonly jwksUri: URL
  readonly audience: string
  readonly companyIdClaim: string
}

function parseHttpsUrl(value: string, variable: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ConfigError(variable, 'an absolute URL')
  }
  // Keys fetched over plain HTTP could be swapped in transit; loopback is for local runs and tests.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackUrl(url))) {
    throw new ConfigError(variable, 'an https:// URL (http:// only on 127.0.0.1 or localhost)')
  }
  return url
}

/** Issuer and JWKS address implied by the reference portal's AUTH_PROVIDER settings. */
function providerDefaults(env: Env): { issuer?: string; jwksUri?: string; audience?: string } {
  const provider = readEnv(env, 'AUTH_PROVIDER')
  if (provider === undefined) return {}
  switch (provider.toLowerCase()) {
    case 'auth0': {
      const domain = readEnv(env, 'AUTH0_DOMAIN')
      if (domain === undefined) throw new ConfigError('AUTH0_DOMAIN', 'set when AUTH_PROVIDER=Auth0 (for example your-tenant.us.auth0.com)')
      const host = domain.replace(/^https?:\/\//, '').replace(/\/+$/, '')
      // A bare host name (the reference's form): no path, port, credentials or spaces.
      if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$/.test(host)) {
        throw new ConfigError('AUTH0_DOMAIN', 'a host name such as your-tenant.us.auth0.com')
      }
      return { issuer: `https://${host}/`, jwksUri: `https://${host}/.well-known/jwks.json`, audience: readEnv(env, 'AUTH0_CLIENT_ID') }
    }
    case 'okta': {
      const orgUrl = readEnv(env, 'OKTA_ORG_URL')
      if (orgUrl === undefined) throw new ConfigError('OKTA_ORG_URL', 'set when AUTH_PROVIDER=Okta (for example https://your-org.okta.com)')
      const parsed = parseHttpsUrl(orgUrl, 'OKTA_ORG_URL')
      // The reference appends /oauth2/default itself: a URL that already has it would double it.
      if (parsed.pathname.includes('/oauth2')) {
        throw new ConfigError('OKTA_ORG_URL', 'the Okta org URL without /oauth2/... (for example https://your-org.okta.com)')
      }
      const base = `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}/oauth2/default`
      return { issuer: base, jwksUri: `${base}/v1/keys`, audience: readEnv(env, 'OKTA_CLIENT_ID') }
    }
    default:
      throw new ConfigError('AUTH_PROVIDER', 'Auth0 or Okta (or unset, with PORTAL_ISSUER and PORTAL_JWKS_URI)')
  }
}

/**
 * Load the portal identity settings: the reference portal's `AUTH_PROVIDER`
 * names (`Auth0` + `AUTH0_DOMAIN`, `Okta` + `OKTA_ORG_URL`), or the generic
 * `PORTAL_ISSUER`, `PORTAL_JWKS_URI` and `PORTAL_AUDIENCE`, which win when set.
 *
 * @example
 * const portal = loadPortalConfig({ AUTH_PROVIDER: 'Auth0', AUTH0_DOMAIN: 'acme.eu.auth0.com', PORTAL_AUDIENCE: 'client-id' })
 */
export function loadPortalConfig(env: Env): PortalConfig {
  const defaults = providerDefaults(env)
  const issuer = readEnv(env, 'PORTAL_ISSUER') ?? defaults.issuer
  if (issuer === undefined) throw new ConfigError('PORTAL_ISSUER', 'set (or AUTH_PROVIDER with AUTH0_DOMAIN or OKTA_ORG_URL)')
  const jwksUri = readEnv(env, 'PORTAL_JWKS_URI') ?? defaults.jwksUri
  if (jwksUri === undefined) throw new ConfigError('PORTAL_JWKS_URI', 'set (or AUTH_PROVIDER with AUTH0_DOMAIN or OKTA_ORG_URL)')
  const audience = readEnv(env, 'PORTAL_AUDIENCE') ?? defaults.audience
  if (audience === undefined) throw new ConfigError('PORTAL_AUDIENCE', "set to the portal's client id (the ID token's aud)")

  const companyIdClaim = readEnv(env, 'PORTAL_COMPANY_ID_CLAIM') ?? 'org_id'
  if (companyIdClaim === '__proto__') throw new ConfigError('PORTAL_COMPANY_ID_CLAIM', 'a claim name')

  return Object.freeze({
    issuer,
    jwksUri: parseHttpsUrl(jwksUri, 'PORTAL_JWKS_URI'),
    audience,
    companyIdClaim
  })
}
