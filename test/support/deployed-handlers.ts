/**
 * Cold starts of the deployed handler exports (src/handlers/*), configured
 * only through process.env as Lambda configures them, with their log lines
 * captured. Each cold start re-imports the module graph (vi.resetModules),
 * like a new container; the logger is imported from the same fresh graph, or
 * its sink would not be the handler's.
 *
 * Each cold start also runs one warm-up invocation with no credentials, so
 * the configuration is loaded while `env` is in place: a later cold start of
 * another handler may set a different environment.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { vi } from 'vitest'
import type { AuthorizerEvent, AuthorizerResult } from '../../src/lib/authorizer-event'
import { authorizerEvent, httpApiEvent, lambdaContext } from './events'
import type { EnvRecord } from './keys'
import { useProcessEnv } from './process-env'

/** A cold-started handler: how to invoke it, and how to stop capturing its logs. */
export interface DeployedHandler<E, R> {
  readonly invoke: (event: E) => Promise<R>
  /** Put the logger's previous sink back (call in afterAll). */
  readonly restoreLogSink: () => void
}

async function freshLogger(lines: string[]): Promise<() => void> {
  const { setLogSink } = await import('../../src/lib/logger')
  return setLogSink((line) => lines.push(line))
}

/**
 * The authorizer as deployed with `env`, its log lines appended to `lines`.
 *
 * @example
 * const authorizer = await coldStartAuthorizer({ ...envFor('HS256'), LOG_LEVEL: 'DEBUG' }, lines)
 * await authorizer.invoke(authorizerEvent({ headers: { authorization: `Bearer ${apikey}` } }))
 */
export async function coldStartAuthorizer(env: EnvRecord, lines: string[]): Promise<DeployedHandler<AuthorizerEvent, AuthorizerResult>> {
  useProcessEnv(env)
  vi.resetModules()
  const restoreLogSink = await freshLogger(lines)
  const { handler } = await import('../../src/handlers/authorizer')
  const invoke = async (event: AuthorizerEvent): Promise<AuthorizerResult> => handler(event, lambdaContext() as Parameters<typeof handler>[1])
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
export async function coldStartCreateKey(env: EnvRecord, lines: string[]): Promise<DeployedHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>> {
  useProcessEnv(env)
  vi.resetModules()
  const restoreLogSink = await freshLogger(lines)
  const { handler } = await import('../../src/handlers/create-key')
  const invoke = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> =>
    handler(event, lambdaContext() as Parameters<typeof handler>[1])
  const warmUp = await invoke(httpApiEvent({ method: 'POST', path: '/create-key' }))
  if (warmUp.statusCode !== 401) throw new Error(`create-key did not start cleanly: ${warmUp.statusCode} ${warmUp.body ?? ''}`)
  return { invoke, restoreLogSink }
}
