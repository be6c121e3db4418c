import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { httpErrorsMiddleware } from '../lib/http/http-errors-middleware'
import { jsonResponse } from '../lib/http/http-response'
import { loadApiKeyConfig } from '../lib/keys/api-key-config'
import { publicJwks } from '../lib/keys/jwks'
import { envWithSecrets } from '../lib/keys/secret-sources'
import { configMiddleware } from '../lib/runtime/config-middleware'
import { Logger } from '../lib/runtime/logger'

const logger = new Logger({ service: 'jwks' })

/** `GET /.well-known/jwks.json`: the public keys API keys are signed with, for other verifiers. */
const jwks = configMiddleware({ load: async (env) => publicJwks(loadApiKeyConfig(await envWithSecrets(env, 'publish'), 'publish').verifyingKeys) })

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrorsMiddleware(logger))
  .use(jwks)
  .handler(async () => jsonResponse(200, jwks.current(), { 'cache-control': 'public, max-age=300' }))
