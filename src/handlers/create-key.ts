import { billingSecrets } from '../lib/billing/billing-config'
import { envWithSecrets } from '../lib/keys/secret-sources'
import { createKey, createKeyDepsFromEnv } from '../lib/portal/create-key'
import { httpHandler } from './shared/http-handler'

/** `POST /create-key`: the Moesif Developer Portal's Keys page calls this with the user's ID token. */
export const handler = httpHandler(
  'create-key',
  async (env, logger) => createKeyDepsFromEnv(await envWithSecrets(env, { keys: 'sign', services: billingSecrets(env) }), logger),
  createKey
)
