import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { loadApiKeyConfig } from '../lib/api-key-config'
import { configFrom, configMiddleware } from '../lib/config-middleware'
import { httpErrorsMiddleware } from '../lib/http-errors-middleware'
import { jsonResponse } from '../lib/http-response'
import { publicJwks, type JwksDocument } from '../lib/jwks'
import { Logger } from '../lib/logger'
import { envWithFetchedSecrets, secretSourcesMiddleware } from '../lib/secret-sources'

const logger = new Logger({ service: 'jwks' })

/** `GET /.well-known/jwks.json`: the public keys API keys are signed with, for other verifiers. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorsMiddleware(logger))
  .use(secretSourcesMiddleware(process.env, 'publish'))
  .use(configMiddleware({ load: (env, ctx) => publicJwks(loadApiKeyConfig(envWithFetchedSecrets(env, ctx), 'publish').verifyingKeys) }))
  .handler(async (_event, context) => jsonResponse(200, configFrom<JwksDocument>(context), { 'cache-control': 'public, max-age=300' }))
