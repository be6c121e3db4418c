import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { billingSecrets } from '../../lib/billing/billing-config'
import { envWithSecrets } from '../../lib/keys/secret-sources'
import { loadPortalKeysDeps, type PortalKeysDeps } from '../../lib/portal/portal-keys'
import { httpHandler } from './http-handler'

type PortalKeysCore = (deps: PortalKeysDeps, event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>

/**
 * Wrap one of the portal's key-management cores (`listKeys`, `revokeKey`,
 * `revokeAllKeys`) as a deployable handler: config once per cold start, then
 * JSON errors.
 *
 * @example
 * export const handler = portalKeysHandler('list-keys', listKeys)
 */
export function portalKeysHandler(service: string, core: PortalKeysCore) {
  return httpHandler(service, async (env) => loadPortalKeysDeps(await envWithSecrets(env, { services: billingSecrets(env) })), core)
}
