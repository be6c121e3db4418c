import { portalKeysHandler } from '../lib/portal-keys-handler'
import { listKeys } from '../lib/portal-keys'

/** `GET /keys: the caller's company's keys, as metadata only`. Authenticated with the portal ID token. */
export const handler = portalKeysHandler('list-keys', listKeys)
