import type { APIGatewayProxyEventV2 } from 'aws-lambda'
import { headerValue, tokenFromAuthorization } from '../http/bearer-token'
import { HttpError } from '../runtime/errors'
import type { PortalIdentity, PortalTokenVerifier } from './portal-identity'

/** A portal user whose ID token carries an email address: every portal route but `GET /plans` needs one. */
export interface PortalCaller extends PortalIdentity {
  readonly email: string
}

/**
 * What the unchanged Moesif portal frontend sends under Okta: it writes
 * okta-auth-js's `IDToken` object into a template string, so the header is
 * `Bearer [object Object]`. No user can be identified from that.
 */
const OBJECT_TOKEN = /^\s*(Bearer\s+)?\[object [A-Za-z]+\]\s*$/i

/**
 * The bearer token of a portal request. A header carrying `[object Object]`
 * (the Moesif portal frontend under Okta, which sends the `IDToken` object
 * rather than its `idToken` string) is a 401 `ERR_PORTAL_TOKEN_OBJECT` that
 * says so, rather than a bare "missing token".
 *
 * @example
 * portalBearerToken(event) // 'eyJ...'
 */
export function portalBearerToken(event: Pick<APIGatewayProxyEventV2, 'headers'>): string | undefined {
  const authorization = headerValue(event.headers, 'authorization')
  if (authorization !== undefined && OBJECT_TOKEN.test(authorization)) {
    throw new HttpError(
      401,
      'ERR_PORTAL_TOKEN_OBJECT',
      'The Authorization header carries "[object Object]", not an ID token: the portal sent a token object instead of its string ' +
        "(the Moesif portal frontend does this under Okta). Send `Bearer ${authState.idToken.idToken}`, the ID token's compact JWT."
    )
  }
  return tokenFromAuthorization(authorization)
}

/**
 * Verify the request's portal ID token (issuer, audience, signature, expiry:
 * the check `POST /create-key` makes) and require an `email` claim (401
 * `ERR_EMAIL_REQUIRED` without one).
 *
 * @example
 * const caller = await portalCaller(deps.verifyPortalToken, event) // { userId, companyId, email, emailVerified }
 */
export async function portalCaller(verify: PortalTokenVerifier, event: Pick<APIGatewayProxyEventV2, 'headers'>): Promise<PortalCaller> {
  const identity = await verify(portalBearerToken(event))
  const email = identity.email
  if (email === undefined || email.trim() === '') {
    throw new HttpError(401, 'ERR_EMAIL_REQUIRED', 'The ID token has no email claim: log in with an ID token that carries the email scope')
  }
  return { ...identity, email }
}
