import type { MiddlewareObj } from '@middy/core'
import type { Context } from 'aws-lambda'
import { readEnv, type Env } from '../runtime/env'
import type { KeyRole } from './api-key-config'
import { ConfigError } from '../runtime/errors'

/** Where the key material comes from when it is not in the environment. */
export interface SecretSources {
  /** SSM Parameter Store names (SecureString), by the variable they stand for. */
  readonly ssm: Readonly<Partial<Record<'JWT_SECRET' | 'JWT_VERIFY_KEY', string>>>
  /** A Secrets Manager secret: a plain string (the JWT_SECRET), or JSON with JWT_SECRET / JWT_VERIFY_KEY / JWT_PREVIOUS_KEYS. */
  readonly secretArn: string | undefined
}

/** Names of the fetched values on the Lambda context. */
const CONTEXT_KEYS = { JWT_SECRET: 'jwtSecretFromSsm', JWT_VERIFY_KEY: 'jwtVerifyKeyFromSsm' } as const
const SECRET_CONTEXT_KEY = 'jwtSecretsFromSecretsManager'
/** Variables a Secrets Manager JSON secret may carry. */
const SECRET_FIELDS = ['JWT_SECRET', 'JWT_VERIFY_KEY', 'JWT_PREVIOUS_KEYS'] as const

/**
 * Read `JWT_SECRET_SSM_PARAMETER`, `JWT_VERIFY_KEY_SSM_PARAMETER` and
 * `JWT_SECRET_ARN`. Setting a secret both directly and through a store is
 * ambiguous and refused.
 *
 * @example
 * const sources = secretSourcesFromEnv(process.env)
 */
export function secretSourcesFromEnv(env: Env): SecretSources {
  const ssmSecret = readEnv(env, 'JWT_SECRET_SSM_PARAMETER')
  const ssmVerifyKey = readEnv(env, 'JWT_VERIFY_KEY_SSM_PARAMETER')
  const secretArn = readEnv(env, 'JWT_SECRET_ARN')
  if (ssmSecret !== undefined && secretArn !== undefined) {
    throw new ConfigError('JWT_SECRET_ARN', 'unset when JWT_SECRET_SSM_PARAMETER is set (choose one store)')
  }
  if ((ssmSecret !== undefined || secretArn !== undefined) && readEnv(env, 'JWT_SECRET') !== undefined) {
    throw new ConfigError('JWT_SECRET', 'unset when it comes from JWT_SECRET_SSM_PARAMETER or JWT_SECRET_ARN')
  }
  for (const [variable, name] of [
    ['JWT_SECRET_SSM_PARAMETER', ssmSecret],
    ['JWT_VERIFY_KEY_SSM_PARAMETER', ssmVerifyKey]
  ] as const) {
    if (name !== undefined && !/^(\/?[A-Za-z0-9_.\-/]{1,2011}|arn:[A-Za-z0-9-]+:ssm:[^:]*:\d*:parameter\/.+)$/.test(name)) {
      throw new ConfigError(variable, 'an SSM parameter name such as /dev-portal-keys/prod/jwt-secret')
    }
  }
  if (secretArn !== undefined && !/^(arn:[A-Za-z0-9-]+:secretsmanager:[^:]+:\d+:secret:.+|[A-Za-z0-9/_+=.@-]{1,512})$/.test(secretArn)) {
    throw new ConfigError('JWT_SECRET_ARN', 'a Secrets Manager secret ARN or name')
  }
  const ssm: Partial<Record<'JWT_SECRET' | 'JWT_VERIFY_KEY', string>> = {}
  if (ssmSecret !== undefined) ssm.JWT_SECRET = ssmSecret
  if (ssmVerifyKey !== undefined) ssm.JWT_VERIFY_KEY = ssmVerifyKey
  return { ssm, secretArn }
}

/**
 * Middy middleware fetching the key material from SSM Parameter Store or
 * Secrets Manager, through middy's own `ssm` / `secrets-manager` middleware,
 * once per cold start (cached for the container's life). With no store
 * configured it does nothing, and the AWS SDK clients are never even loaded,
 * which keeps cold starts short for deployments that do not use them.
 *
 * Use it before {@link configMiddleware}, and build the config from
 * {@link envWithFetchedSecrets}.
 *
 * @example
 * middy().use(secretSourcesMiddleware(process.env)).use(configMiddleware({ load: (env, ctx) => loadApiKeyConfig(envWithFetchedSecrets(env, ctx), 'verify') }))
 */
export function secretSourcesMiddleware(env: Env = process.env, role: KeyRole = 'sign'): MiddlewareObj<unknown, unknown, Error, Context> {
  type Middleware = MiddlewareObj<unknown, unknown, Error, Context>
  let inner: Promise<Middleware[]> | undefined
  let fetched: Record<string, unknown> | undefined

  // Validated on the first invocation, so a bad setting is answered like any config error (a generic 500).
  const load = async (): Promise<Middleware[]> => {
    const sources = neededSources(secretSourcesFromEnv(env), env, role)
    const ssmNames = Object.entries(sources.ssm)
    const middlewares: Middleware[] = []
    if (ssmNames.length > 0) {
      const { default: ssm } = await import('@middy/ssm')
      const fetchData = Object.fromEntries(ssmNames.map(([variable, name]) => [CONTEXT_KEYS[variable as keyof typeof CONTEXT_KEYS], name]))
      // middy caches per cacheKey for the process; key it by what is fetched so two sources never share an entry.
      const cacheKey = `dev-portal-keys-ssm:${ssmNames.map(([, name]) => name).join(',')}`
      middlewares.push(ssm({ fetchData, setToContext: true, cacheKey, cacheExpiry: -1, disablePrefetch: true }) as Middleware)
    }
    if (sources.secretArn !== undefined) {
      const { default: secretsManager } = await import('@middy/secrets-manager')
      const cacheKey = `dev-portal-keys-secrets-manager:${sources.secretArn}`
      middlewares.push(
        secretsManager({
          fetchData: { [SECRET_CONTEXT_KEY]: sources.secretArn },
          setToContext: true,
          cacheKey,
          cacheExpiry: -1,
          disablePrefetch: true
        }) as Middleware
      )
    }
    return middlewares
  }

  return {
    name: 'secret-sources',
    before: async (request) => {
      // Warm path: hand over what the first invocation fetched, without re-running middy's hooks.
      if (fetched !== undefined) {
        Object.assign(request.context, fetched)
        return
      }
      inner ??= load().catch((error: unknown) => {
        inner = undefined
        throw error
      })
      for (const middleware of await inner) await middleware.before?.(request)
      const context = request.context as unknown as Record<string, unknown>
      fetched = Object.fromEntries(
        [...Object.values(CONTEXT_KEYS), SECRET_CONTEXT_KEY].filter((key) => key in context).map((key) => [key, context[key]])
      )
    }
  }
}

/**
 * Only what the function's role needs: the signing secret is fetched by the
 * issuer, and by the authorizer or the JWKS only when they cannot do without
 * it (HMAC, or no public verification key). An authorizer with an asymmetric
 * algorithm and `JWT_VERIFY_KEY` never holds the private key.
 */
function neededSources(sources: SecretSources, env: Env, role: KeyRole): SecretSources {
  if (role === 'sign') return sources
  const hmac = (readEnv(env, 'JWT_ALGORITHM') ?? '').startsWith('HS')
  const publicKeyAvailable = readEnv(env, 'JWT_VERIFY_KEY') !== undefined || sources.ssm.JWT_VERIFY_KEY !== undefined
  const needSecret = role === 'verify' ? hmac || !publicKeyAvailable : !hmac && !publicKeyAvailable
  if (needSecret) return sources
  const ssm: Partial<Record<'JWT_SECRET' | 'JWT_VERIFY_KEY', string>> = {}
  if (sources.ssm.JWT_VERIFY_KEY !== undefined) ssm.JWT_VERIFY_KEY = sources.ssm.JWT_VERIFY_KEY
  return { ssm, secretArn: undefined }
}

/**
 * The environment with the values {@link secretSourcesMiddleware} fetched
 * laid over it, so the config loaders see one set of `JWT_*` names wherever
 * the secret came from.
 *
 * @example
 * loadApiKeyConfig(envWithFetchedSecrets(process.env, context), 'sign')
 */
export function envWithFetchedSecrets(env: Env, context: Context): Env {
  const fetched = context as unknown as Record<string, unknown>
  const overlay: Record<string, string> = {}
  for (const [variable, key] of Object.entries(CONTEXT_KEYS)) {
    const value = fetched[key]
    if (typeof value === 'string') overlay[variable] = value
  }
  const secret = fetched[SECRET_CONTEXT_KEY]
  if (typeof secret === 'string') overlay.JWT_SECRET = secret
  else if (secret !== null && typeof secret === 'object') {
    for (const field of SECRET_FIELDS) {
      const value = (secret as Record<string, unknown>)[field]
      if (typeof value === 'string') overlay[field] = value
      else if (value !== undefined && field === 'JWT_PREVIOUS_KEYS') overlay[field] = JSON.stringify(value)
    }
  }
  return Object.keys(overlay).length === 0 ? env : { ...env, ...overlay }
}
