import { HttpError } from '../runtime/errors'

/**
 * `POST /okta/register`: the portal's Okta sign-up form. Not offered: the
 * reference backend creates the user with an Okta API token (a credential
 * that can create and activate users) from an open, unthrottled route, and
 * with the unchanged frontend an Okta login cannot use any other route
 * anyway (it sends `Bearer [object Object]`). Always 501 `ERR_NOT_IMPLEMENTED`.
 *
 * @example
 * await oktaRegister() // throws 501
 */
export async function oktaRegister(): Promise<never> {
  throw new HttpError(
    501,
    'ERR_NOT_IMPLEMENTED',
    "Okta sign-up is not offered by this backend: create users in Okta (or turn on Okta's self-service registration), then log in",
    { expose: true }
  )
}
