import { portalKeysHandler } from './shared/portal-keys-handler'
import { listKeys } from '../lib/portal/portal-keys'

/** `GET /keys: the caller's company's keys, as metadata only`. Authenticated with the portal ID token. */
export const handler = portalKeysHandler('list-keys', listKeys)
