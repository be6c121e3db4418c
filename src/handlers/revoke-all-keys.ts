import { portalKeysHandler } from './shared/portal-keys-handler'
import { revokeAllKeys } from '../lib/portal/portal-keys'

/** `DELETE /keys: revoke every key of the caller's company`. Authenticated with the portal ID token. */
export const handler = portalKeysHandler('revoke-all-keys', revokeAllKeys)
