import { readEnv, type Env } from '../runtime/env'
import type { KeyRole } from './api-key-config'
import { ConfigError } from '../runtime/errors'

/** Where the key material comes from when it is not in the environment. */
export interface SecretSources {
  /** SSM Parameter Store names (SecureString), by the variable they stand for. */
  readonly ssm: Readonly<Partial<Record<SsmVariable, string>>>
  /** A Secrets Manager secret: a plain string (the JWT_SECRET), or JSON with JWT_SECRET / JWT_VERIFY_KEY / JWT_PREVIOUS_KEYS. */
  readonly secretArn: string | undefined
}

/** The variables an SSM parameter can stand for (`<NAME>_SSM_PARAMETER`). */
type SsmVariable = 'JWT_SECRET' | 'JWT_VERIFY_KEY'
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
  const ssm: Partial<Record<SsmVariable, string>> = {}
  if (ssmSecret !== undefined) ssm.JWT_SECRET = ssmSecret
  if (ssmVerifyKey !== undefined) ssm.JWT_VERIFY_KEY = ssmVerifyKey
  return { ssm, secretArn }
}

/** What the stores returned, before it is laid over the environment. */
export interface FetchedSecrets {
  /** SSM parameter values, by the variable they stand for. */
  readonly ssm?: Readonly<Partial<Record<SsmVariable, string>>>
  /** The Secrets Manager secret: its string, or the parsed JSON object. */
  readonly secret?: unknown
}

/**
 * The environment with the function's secrets fetched and laid over it: the
 * SSM parameters and Secrets Manager secret that `JWT_SECRET_SSM_PARAMETER`,
 * `JWT_VERIFY_KEY_SSM_PARAMETER` and `JWT_SECRET_ARN` name, limited to what
 * the role needs. With no store configured it returns `env` itself at once,
 * and the AWS SDK clients are never even loaded, which keeps cold starts
 * short for deployments that do not use them. Call it inside a
 * `configMiddleware` load, so it runs once per cold start and a failure is
 * retried on the next request.
 *
 * @example
 * configMiddleware({ load: async (env) => loadApiKeyConfig(await envWithSecrets(env, 'verify'), 'verify') })
 */
export async function envWithSecrets(env: Env, role: KeyRole): Promise<Env> {
  const sources = neededSources(secretSourcesFromEnv(env), env, role)
  const ssmEntries = Object.entries(sources.ssm) as Array<[SsmVariable, string]>
  if (ssmEntries.length === 0 && sources.secretArn === undefined) return env
  const [ssm, secret] = await Promise.all([
    ssmEntries.length === 0 ? undefined : fetchSsmParameters(ssmEntries),
    sources.secretArn === undefined ? undefined : fetchSecret(sources.secretArn)
  ])
  return overlaySecrets(env, { ssm, secret })
}

/** SecureString parameters, decrypted, in one GetParameters call; a missing one is an error naming its variable. */
async function fetchSsmParameters(entries: ReadonlyArray<[SsmVariable, string]>): Promise<Partial<Record<SsmVariable, string>>> {
  const { SSMClient, GetParametersCommand } = await import('@aws-sdk/client-ssm')
  const answer = await new SSMClient({}).send(new GetParametersCommand({ Names: entries.map(([, name]) => name), WithDecryption: true }))
  const values: Partial<Record<SsmVariable, string>> = {}
  for (const [variable, name] of entries) {
    const value = answer.Parameters?.find((parameter) => parameter.Name === name || parameter.ARN === name)?.Value
    if (value === undefined) throw new ConfigError(`${variable}_SSM_PARAMETER`, 'the name of an existing SSM parameter this function may read')
    values[variable] = value
  }
  return values
}

/** The secret's string: parsed when it is a JSON object, else the plain value (the JWT_SECRET). */
async function fetchSecret(secretId: string): Promise<unknown> {
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager')
  const answer = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretId }))
  const text = answer.SecretString
  if (text === undefined) throw new ConfigError('JWT_SECRET_ARN', 'a secret with a string value (binary secrets are not read)')
  try {
    const parsed: unknown = JSON.parse(text)
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : text
  } catch {
    return text
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
  const ssm: Partial<Record<SsmVariable, string>> = {}
  if (sources.ssm.JWT_VERIFY_KEY !== undefined) ssm.JWT_VERIFY_KEY = sources.ssm.JWT_VERIFY_KEY
  return { ssm, secretArn: undefined }
}

/**
 * The environment with fetched secrets laid over it, so the config loaders
 * see one set of `JWT_*` names wherever the secret came from. A JSON secret
 * contributes its `JWT_SECRET`, `JWT_VERIFY_KEY` and `JWT_PREVIOUS_KEYS`
 * fields (a JWKS object is re-serialised); a plain string secret is the
 * `JWT_SECRET`.
 *
 * @example
 * overlaySecrets({ JWT_ALGORITHM: 'HS256' }, { secret: { JWT_SECRET: 'a' } }) // { JWT_ALGORITHM: 'HS256', JWT_SECRET: 'a' }
 */
export function overlaySecrets(env: Env, fetched: FetchedSecrets): Env {
  const overlay: Record<string, string> = { ...fetched.ssm }
  const secret = fetched.secret
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
