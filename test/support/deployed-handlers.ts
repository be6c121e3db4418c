/**
 * Cold starts of the deployed handler exports (src/handlers/*), configured
 * only through process.env as Lambda configures them, with their log lines
 * captured: the cold start itself is loadColdStart (./cold-start), so see
 * there for the fresh module graph and the logger.
 *
 * Each cold start here also runs one warm-up invocation with no credentials,
 * so the configuration is loaded while `env` is in place: a later cold start
 * of another handler may set a different environment.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda'
import type { AuthorizerEvent, AuthorizerResult } from '../../src/lib/authorizer/authorizer-event'
import { loadColdStart } from './cold-start'
import { authorizerEvent, httpApiEvent, lambdaContext } from './events'
import type { EnvRecord } from './keys'

/** A cold-started handler: how to invoke it, and how to stop capturing its logs. */
export interface DeployedHandler<E, R> {
  readonly invoke: (event: E) => Promise<R>
  /** Put the logger's previous sink back (call in afterAll). */
  readonly restoreLogSink: () => void
}

/**
 * `handler` as Lambda invokes it: with a plain Context, a fresh one per
 * invocation (`context` overrides its fields). The handler's type also names
 * what its middleware adds to the context (`config`), so view it as Lambda
 * calls it.
 *
 * @example
 * const invoke = lambdaInvoker(module.handler, { awsRequestId: 'req-1' })
 * const response = await invoke(httpApiEvent({ method: 'GET', path: '/.well-known/jwks.json' }))
 */
export function lambdaInvoker<E, R>(handler: (event: E, context: never) => Promise<R>, context: Partial<Context> = {}): (event: E) => Promise<R> {
  const invoked = handler as unknown as (event: E, context: Context) => Promise<R>
  return (event) => invoked(event, lambdaContext(context))
}

/**
 * The authorizer as deployed with `env`, its log lines appended to `lines`.
 *
 * @example
 * const authorizer = await coldStartAuthorizer({ ...envFor('HS256'), LOG_LEVEL: 'DEBUG' }, lines)
 * await authorizer.invoke(authorizerEvent({ headers: { authorization: `Bearer ${apikey}` } }))
 */
export async function coldStartAuthorizer(env: EnvRecord, lines: string[]): Promise<DeployedHandler<AuthorizerEvent, AuthorizerResult>> {
  const { module, restoreLogSink } = await loadColdStart(() => import('../../src/handlers/authorizer'), env, lines)
  const invoke = lambdaInvoker(module.handler)
  await invoke(authorizerEvent({ requestId: 'cold-start', headers: {} }))
  return { invoke, restoreLogSink }
}

/**
 * The create-key handler as deployed with `env`, its log lines appended to `lines`.
 * Throws if the warm-up does not get the 401 a request without a login gets.
 *
 * @example
 * const createKey = await coldStartCreateKey(env, lines)
 * const response = await createKey.invoke(httpApiEvent({ method: 'POST', path: '/create-key', headers }))
 */
export async function coldStartCreateKey(
  env: EnvRecord,
  lines: string[]
): Promise<DeployedHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>> {
  const { module, restoreLogSink } = await loadColdStart(() => import('../../src/handlers/create-key'), env, lines)
  const invoke = lambdaInvoker(module.handler)
  const warmUp = await invoke(httpApiEvent({ method: 'POST', path: '/create-key' }))
  if (warmUp.statusCode !== 401) throw new Error(`create-key did not start cleanly: ${warmUp.statusCode} ${warmUp.body ?? ''}`)
  return { invoke, restoreLogSink }
}
