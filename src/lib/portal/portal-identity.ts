import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose'
import { HttpError } from '../runtime/errors'
import { isIdentifier } from '../keys/identifier'
import type { PortalConfig } from './portal-config'

/** The portal user behind a request, from the verified ID token only. */
export interface PortalIdentity {
  readonly userId: string
  readonly companyId: string
  readonly email: string | undefined
  /** The ID token's `email_verified`: `false` only when the identity provider says the address is unproven. */
  readonly emailVerified: boolean | undefined
}

/** ID tokens from Auth0 and Okta are asymmetric; a shared-secret token can never be a portal login. */
const PORTAL_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']

/** Verifies a portal ID token and returns who it names. */
export type PortalTokenVerifier = (token: string | undefined) => Promise<PortalIdentity>

const jwksCache = new Map<string, JWTVerifyGetKey>()

/** Whether a JOSE `typ` names an OAuth access token: `at+jwt` or `application/at+jwt`, any case (RFC 9068). */
function isAccessTokenType(typ: unknown): boolean {
  return typeof typ === 'string' && /^(application\/)?at\+jwt$/i.test(typ)
}

/**
 * Whether a verification failure is the identity provider's fault rather than
 * the token's: a network error, a timeout, a non-200 or unparseable JWKS.
 * Those are 503s; a provider outage must never look like a bad login.
 */
function isIdentityProviderFault(error: unknown): boolean {
  if (!(error instanceof joseErrors.JOSEError)) return error instanceof Error
  return error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid || error.code === 'ERR_JOSE_GENERIC'
}

/**
 * Build a verifier for portal ID tokens: signature against the identity
 * provider's JWKS (fetched with jose, cached per container), pinned
 * asymmetric algorithms, issuer, audience and expiry. A bad or missing token
 * throws a 401 {@link HttpError}; an unreachable identity provider, a 503.
 *
 * The user id is `sub`. The company id is the configured claim, falling back
 * to `sub` (a one-user company, as in the reference portal's data model).
 *
 * @example
 * const verify = createPortalTokenVerifier(portalConfig)
 * const { userId, companyId } = await verify(bearerToken)
 */
export function createPortalTokenVerifier(config: PortalConfig): PortalTokenVerifier {
  const href = config.jwksUri.href
  let jwks = jwksCache.get(href)
  if (jwks === undefined) {
    jwks = createRemoteJWKSet(config.jwksUri, { timeoutDuration: 3000, cooldownDuration: 30_000, cacheMaxAge: 600_000 })
    jwksCache.set(href, jwks)
  }
  const keySet = jwks

  return async (token) => {
    if (token === undefined) throw new HttpError(401, 'ERR_PORTAL_TOKEN_MISSING', 'Missing portal ID token: send Authorization: Bearer <ID token>')
    let payload
    let protectedHeader
    try {
      ;({ payload, protectedHeader } = await jwtVerify(token, keySet, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: PORTAL_ALGORITHMS,
        clockTolerance: 30,
        requiredClaims: ['sub', 'exp']
      }))
    } catch (error) {
      if (isIdentityProviderFault(error)) {
        throw new HttpError(503, 'ERR_IDP_UNAVAILABLE', 'The identity provider could not be reached', { cause: error })
      }
      const code = error instanceof joseErrors.JOSEError ? error.code : 'ERR_UNKNOWN'
      throw new HttpError(401, 'ERR_PORTAL_TOKEN_INVALID', 'Invalid portal ID token', { cause: new Error(code) })
    }
    // OpenID Connect logs in with ID tokens. An access token (RFC 9068 `typ: at+jwt`) from the same
    // issuer and audience is a credential for an API, not a login, and is refused.
    if (isAccessTokenType(protectedHeader.typ)) {
      throw new HttpError(401, 'ERR_PORTAL_TOKEN_INVALID', 'Invalid portal ID token: an access token (typ at+jwt) was sent; send the ID token')
    }
    const userId = payload.sub
    if (!isIdentifier(userId)) {
      throw new HttpError(401, 'ERR_PORTAL_TOKEN_INVALID', 'Invalid portal ID token')
    }
    // Own properties only: a claim name such as "toString" must not find Object.prototype's.
    const claimed = Object.hasOwn(payload, config.companyIdClaim) ? payload[config.companyIdClaim] : undefined
    let companyId = userId
    if (claimed !== undefined) {
      if (!isIdentifier(claimed)) {
        throw new HttpError(401, 'ERR_PORTAL_TOKEN_INVALID', `Invalid portal ID token: ${config.companyIdClaim} must be a non-empty string`)
      }
      companyId = claimed
    }
    const email = typeof payload.email === 'string' ? payload.email : undefined
    const emailVerified = typeof payload.email_verified === 'boolean' ? payload.email_verified : undefined
    return { userId, companyId, email, emailVerified }
  }
}
