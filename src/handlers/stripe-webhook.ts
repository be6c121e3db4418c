import { handleStripeWebhook, loadStripeWebhookDeps } from '../lib/billing/stripe-webhook'
import { envWithSecrets } from '../lib/keys/secret-sources'
import { httpHandler } from './shared/http-handler'

/** `POST /webhooks/stripe`: a cancelled or lapsed subscription revokes the customer's keys. Public, signed by Stripe. */
export const handler = httpHandler(
  'stripe-webhook',
  // Wrapped in an object: outside stripe mode there are no dependencies, and the route answers 404.
  async (env, logger) => ({
    deps: await loadStripeWebhookDeps(await envWithSecrets(env, { services: ['STRIPE_WEBHOOK_SECRET', 'STRIPE_API_KEY'] }), logger)
  }),
  (config, event) => handleStripeWebhook(config.deps, event)
)
