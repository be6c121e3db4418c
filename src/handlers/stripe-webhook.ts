import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { handleStripeWebhook, loadStripeWebhookDeps } from '../lib/billing/stripe-webhook'
import { httpErrorsMiddleware } from '../lib/http/http-errors-middleware'
import { envWithSecrets } from '../lib/keys/secret-sources'
import { configMiddleware } from '../lib/runtime/config-middleware'
import { Logger } from '../lib/runtime/logger'

const logger = new Logger({ service: 'stripe-webhook' })

// Wrapped in an object: outside stripe mode there are no dependencies, and the route answers 404.
const config = configMiddleware({
  load: async (env) => ({
    deps: await loadStripeWebhookDeps(await envWithSecrets(env, { services: ['STRIPE_WEBHOOK_SECRET', 'STRIPE_API_KEY'] }), logger)
  })
})

/** `POST /webhooks/stripe`: a cancelled or lapsed subscription revokes the customer's keys. Public, signed by Stripe. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorsMiddleware(logger))
  .use(config)
  .handler(async (event, context) => {
    logger.setPersistentKeys({ requestId: context.awsRequestId })
    return handleStripeWebhook(config.current().deps, event)
  })
