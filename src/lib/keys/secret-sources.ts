import { readEnv, type Env } from '../runtime/env'
import type { KeyRole } from './api-key-config'
import { ConfigError } from '../runtime/errors'

/** Where secrets come from when they are not in the environment. */
export interface SecretSources {
  /** SSM Parameter Store names (SecureString), by the variable they stand for. */
  readonly ssm: Readonly<Partial<Record<SsmVariable, string>>>
  /** A Secrets Manager secret: a plain string (the JWT_SECRET), or JSON whose fields are named like the variables. */
  readonly secretArn: string | undefined
}

/** The variables an SSM parameter can stand for (`<NAME>_SSM_PARAMETER`). */
export const SSM_VARIABLES = ['JWT_SECRET', 'JWT_VERIFY_KEY', 'STRIPE_API_KEY', 'STRIPE_WEBHOOK_SECRET', 'MOESIF_MANAGEMENT_TOKEN'] as const
/** One of {@link SSM_VARIABLES}. */
export type SsmVariable = (typeof SSM_VARIABLES)[number]
/** Secrets other than the API-key material, fetched only by the functions that use them. */
export type ServiceSecret = 'STRIPE_API_KEY' | 'STRIPE_WEBHOOK_SECRET' | 'MOESIF_MANAGEMENT_TOKEN'
/** Variables a Secrets Manager JSON secret may carry. */
const SECRET_FIELDS = [
  'JWT_SECRET',
  'JWT_VERIFY_KEY',
  'JWT_PREVIOUS_KEYS',
  'STRIPE_API_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'MOESIF_MANAGEMENT_TOKEN'
] as const

/**
 * What one function needs from the secret stores: the API-key material for
 * its role (`keys`), and service secrets by name (`services`). A role alone
 * is shorthand for `{ keys: role }`.
 */
export type SecretNeeds = KeyRole | { readonly keys?: KeyRole; readonly services?: readonly ServiceSecret[] }

const SSM_NAME = /^(\/?[A-Za-z0-9_.\-/]{1,2011}|arn:[A-Za-z0-9-]+:ssm:[^:]*:\d*:parameter\/.+)$/

/**
 * Read the `<NAME>_SSM_PARAMETER` settings and `JWT_SECRET_ARN`. Setting a
 * secret both directly and through a store is ambiguous and refused, as is
 * using both stores for the signing secret.
 *
 * @example
 * const sources = secretSourcesFromEnv(process.env)
 */
export function secretSourcesFromEnv(env: Env): SecretSources {
  const secretArn = readEnv(env, 'JWT_SECRET_ARN')
  const ssm: Partial<Record<SsmVariable, string>> = {}
  for (const variable of SSM_VARIABLES) {
    const setting = `${variable}_SSM_PARAMETER`
    const name = readEnv(env, setting)
    if (name === undefined) continue
    if (!SSM_NAME.test(name)) throw new ConfigError(setting, 'an SSM parameter name such as /dev-portal-keys/prod/jwt-secret')
    if (readEnv(env, variable) !== undefined) throw new ConfigError(variable, `unset when it comes from ${setting}`)
    ssm[variable] = name
  }
  if (ssm.JWT_SECRET !== undefined && secretArn !== undefined) {
    throw new ConfigError('JWT_SECRET_ARN', 'unset when JWT_SECRET_SSM_PARAMETER is set (choose one store)')
  }
  if (secretArn !== undefined && readEnv(env, 'JWT_SECRET') !== undefined) {
    throw new ConfigError('JWT_SECRET', 'unset when it comes from JWT_SECRET_SSM_PARAMETER or JWT_SECRET_ARN')
  }
  if (secretArn !== undefined && !/^(arn:[A-Za-z0-9-]+:secretsmanager:[^:]+:\d+:secret:.+|[A-Za-z0-9/_+=.@-]{1,512})$/.test(secretArn)) {
    throw new ConfigError('JWT_SECRET_ARN', 'a Secrets Manager secret ARN or name')
  }
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
 * SSM parameters (`<NAME>_SSM_PARAMETER`) and the Secrets Manager secret
 * (`JWT_SECRET_ARN`), limited to what the function needs. With no store configured it returns `env` itself at once,
 * and the AWS SDK clients are never even loaded, which keeps cold starts
 * short for deployments that do not use them. Call it inside a
 * `configMiddleware` load, so it runs once per cold start and a failure is
 * retried on the next request.
 *
 * @example
 * configMiddleware({ load: async (env) => loadApiKeyConfig(await envWithSecrets(env, 'verify'), 'verify') })
 */
export async function envWithSecrets(env: Env, needs: SecretNeeds): Promise<Env> {
  const sources = neededSources(secretSourcesFromEnv(env), env, typeof needs === 'string' ? { keys: needs } : needs)
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
 * Only what the function needs: the signing secret is fetched by the issuer,
 * and by the authorizer or the JWKS only when they cannot do without it
 * (HMAC, or no public verification key), so an authorizer with an asymmetric
 * algorithm and `JWT_VERIFY_KEY` never holds the private key. A service
 * secret comes from its own SSM parameter, else from the environment, else
 * from the JSON secret.
 */
function neededSources(
  sources: SecretSources,
  env: Env,
  needs: { readonly keys?: KeyRole; readonly services?: readonly ServiceSecret[] }
): SecretSources {
  const ssm: Partial<Record<SsmVariable, string>> = {}
  let useSecret = false
  if (needs.keys !== undefined) {
    const hmac = (readEnv(env, 'JWT_ALGORITHM') ?? '').startsWith('HS')
    const publicKeyAvailable = readEnv(env, 'JWT_VERIFY_KEY') !== undefined || sources.ssm.JWT_VERIFY_KEY !== undefined
    const needSecret = needs.keys === 'sign' || (needs.keys === 'verify' ? hmac || !publicKeyAvailable : !hmac && !publicKeyAvailable)
    if (needSecret && sources.ssm.JWT_SECRET !== undefined) ssm.JWT_SECRET = sources.ssm.JWT_SECRET
    if (sources.ssm.JWT_VERIFY_KEY !== undefined) ssm.JWT_VERIFY_KEY = sources.ssm.JWT_VERIFY_KEY
    useSecret ||= needSecret
  }
  for (const name of needs.services ?? []) {
    const parameter = sources.ssm[name]
    if (parameter !== undefined) ssm[name] = parameter
    else if (readEnv(env, name) === undefined) useSecret = true
  }
  return { ssm, secretArn: useSecret ? sources.secretArn : undefined }
}

/**
 * The environment with fetched secrets laid over it, so the config loaders
 * see one set of names wherever a secret came from. A JSON secret
 * contributes its `JWT_SECRET`, `JWT_VERIFY_KEY`, `JWT_PREVIOUS_KEYS`,
 * `STRIPE_API_KEY`, `STRIPE_WEBHOOK_SECRET` and `MOESIF_MANAGEMENT_TOKEN` fields (a JWKS object is
 * re-serialised); a plain string secret is the `JWT_SECRET`.
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
