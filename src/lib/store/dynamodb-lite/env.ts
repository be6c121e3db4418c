/**
 * When the lite DynamoDB client (./client) may replace the SDK, read from the
 * environment: it signs only with credentials from the environment (what
 * Lambda provides), and it knows only the `aws` and `aws-cn` partitions'
 * regional endpoints. Anything else stays on the SDK.
 */
import { readEnv, type Env } from '../../runtime/env'
import { createDynamoDbLite, type AwsCredentials, type DynamoDbLite } from './client'

/**
 * The credentials in the environment (`AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), as Lambda sets them; `undefined`
 * when the key id or the secret is missing.
 *
 * @example
 * const credentials = credentialsFromEnv(process.env)
 */
export function credentialsFromEnv(env: Env): AwsCredentials | undefined {
  // Untrimmed, as the SDK reads them.
  const accessKeyId = readEnv(env, 'AWS_ACCESS_KEY_ID', { trim: false })
  const secretAccessKey = readEnv(env, 'AWS_SECRET_ACCESS_KEY', { trim: false })
  if (accessKeyId === undefined || secretAccessKey === undefined) return undefined
  return { accessKeyId, secretAccessKey, sessionToken: readEnv(env, 'AWS_SESSION_TOKEN', { trim: false }) }
}

/** The regional endpoint of `region` in the partitions this client knows, or `undefined` (FIPS, ISO and other partitions stay on the SDK). */
function publicEndpoint(region: string): string | undefined {
  if (/^cn-[a-z]+-\d+$/.test(region)) return `https://dynamodb.${region}.amazonaws.com.cn`
  if (/^[a-z]{2}(-gov)?-[a-z]+-\d+$/.test(region)) return `https://dynamodb.${region}.amazonaws.com`
  return undefined
}

/** Settings the SDK honours and this client does not: with any of them, stay on the SDK. */
const SDK_ONLY_SETTINGS = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_DYNAMODB']
const SDK_ONLY_FLAGS = ['AWS_USE_FIPS_ENDPOINT', 'AWS_USE_DUALSTACK_ENDPOINT']

/**
 * The lite client the environment allows, or `undefined` to use the SDK.
 * With `DYNAMODB_ENDPOINT` (local stack, tests) it talks to that endpoint with
 * dummy credentials, as the SDK client does there. Otherwise it needs a known
 * region (`AWS_REGION` or `AWS_DEFAULT_REGION`) and `AWS_ACCESS_KEY_ID` plus
 * `AWS_SECRET_ACCESS_KEY` in the environment, which Lambda always sets; a host
 * using profiles, SSO or instance metadata gets `undefined`, as does one that
 * configures FIPS, dual-stack or a custom AWS endpoint.
 *
 * @example
 * const lite = dynamoDbLiteFromEnv(process.env)
 */
export function dynamoDbLiteFromEnv(env: Env): DynamoDbLite | undefined {
  const local = readEnv(env, 'DYNAMODB_ENDPOINT')
  if (local !== undefined) {
    // A local endpoint with a path or odd scheme is the SDK's business (it throws a clear error there).
    if (!/^https?:\/\/[^/?#@]+\/?$/.test(local)) return undefined
    // dynalite accepts any credentials; never real ones here.
    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' }
    const region = readEnv(env, 'AWS_REGION') ?? 'local'
    if (!/^[a-z0-9-]+$/.test(region)) return undefined
    return createDynamoDbLite({ region, endpoint: local, credentials: () => credentials })
  }
  const region = readEnv(env, 'AWS_REGION') ?? readEnv(env, 'AWS_DEFAULT_REGION')
  const endpoint = region === undefined ? undefined : publicEndpoint(region)
  if (region === undefined || endpoint === undefined) return undefined
  if (credentialsFromEnv(env) === undefined) return undefined
  if (SDK_ONLY_SETTINGS.some((name) => readEnv(env, name) !== undefined)) return undefined
  if (SDK_ONLY_FLAGS.some((name) => readEnv(env, name)?.toLowerCase() === 'true')) return undefined
  // Read at call time: the environment is the source of truth, as for the SDK's env provider.
  return createDynamoDbLite({ region, endpoint, credentials: () => credentialsFromEnv(env) })
}
