import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { loadApiKeyConfig } from '../lib/keys/api-key-config'
import { configFrom, configMiddleware } from '../lib/runtime/config-middleware'
import { httpErrorsMiddleware } from '../lib/http/http-errors-middleware'
import { jsonResponse } from '../lib/http/http-response'
import { publicJwks, type JwksDocument } from '../lib/keys/jwks'
import { Logger } from '../lib/runtime/logger'
import { envWithFetchedSecrets, secretSourcesMiddleware } from '../lib/keys/secret-sources'

const logger = new Logger({ service: 'jwks' })

/** `GET /.well-known/jwks.json`: the public keys API keys are signed with, for other verifiers. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorsMiddleware(logger))
  .use(secretSourcesMiddleware(process.env, 'publish'))
  .use(configMiddleware({ load: (env, ctx) => publicJwks(loadApiKeyConfig(envWithFetchedSecrets(env, ctx), 'publish').verifyingKeys) }))
  .handler(async (_event, context) => jsonResponse(200, configFrom<JwksDocument>(context), { 'cache-control': 'public, max-age=300' }))
