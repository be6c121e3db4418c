import { portalKeysHandler } from './shared/portal-keys-handler'
import { revokeKey } from '../lib/portal/portal-keys'

/** `DELETE /keys/{keyId}: revoke one key of the caller's company`. Authenticated with the portal ID token. */
export const handler = portalKeysHandler('revoke-key', revokeKey)
