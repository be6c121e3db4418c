import { HttpError } from '../runtime/errors'
import type { MoesifManagementSettings } from './portal-api-config'

/** A JSON object as Moesif answers it: the fields the portal reads are checked where they are read. */
export type MoesifObject = Record<string, unknown>

/** The calls the portal routes make to Moesif's management API, each bounded by `MOESIF_MANAGEMENT_TIMEOUT_MS`. */
export interface MoesifManagementClient {
  /** `GET /v1/~/billing/catalog/plans?includes=prices&provider=<provider>`: the `hits` (plans, each with its `prices`). */
  plans(provider: string): Promise<unknown[]>
  /** `GET /v1/search/~/users/<id>`: the user (with its `company`), or `undefined` when Moesif has no such user (404). */
  user(userId: string): Promise<MoesifObject | undefined>
  /**
   * `POST /v1/portal/~/workspaces/<id>/access_token?expiration=<ISO>` with
   * `{"template":{"values":{"user_id":<userId>}}}`: Moesif's answer, which
   * carries the workspace's `_id` and the embed `token`.
   */
  workspaceToken(workspaceId: string, userId: string, expiration: Date): Promise<MoesifObject>
}

const unavailable = (operation: string, detail: string): HttpError =>
  new HttpError(503, 'ERR_MOESIF_UNAVAILABLE', 'Moesif is unavailable right now: try again in a minute', {
    cause: new Error(`Moesif ${operation}: ${detail}`),
    expose: true
  })

const isObject = (value: unknown): value is MoesifObject => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * A client of Moesif's management API (`Authorization: Bearer
 * <MOESIF_MANAGEMENT_TOKEN>`). Every call waits at most `timeoutMs`, body
 * included. No answer, a timeout, a 429 or a 5xx is a 503
 * `ERR_MOESIF_UNAVAILABLE` (exposed: the portal can say "try again"); a 401,
 * 403 or other refusal means the token or a setting is wrong, and is a
 * generic 500 whose detail (status only, never the token) reaches the log.
 *
 * @example
 * const moesif = createMoesifManagementClient(config.management)
 * const plans = await moesif.plans('stripe')
 */
export function createMoesifManagementClient(settings: MoesifManagementSettings): MoesifManagementClient {
  const call = async (operation: string, path: string, init: { method?: string; body?: unknown; notFound?: 'undefined' }): Promise<unknown> => {
    let response: Response
    let text: string
    try {
      response = await fetch(new URL(path, settings.apiBase), {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${settings.token}`,
          accept: 'application/json',
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' })
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        signal: AbortSignal.timeout(settings.timeoutMs)
      })
      text = await response.text()
    } catch (error) {
      const name = (error as { name?: unknown } | null)?.name
      const timedOut = name === 'TimeoutError' || name === 'AbortError'
      throw unavailable(operation, timedOut ? `no answer within ${settings.timeoutMs} ms` : `no answer (${String((error as Error).cause ?? name)})`)
    }
    if (response.status === 404 && init.notFound === 'undefined') return undefined
    if (response.status === 429 || response.status >= 500) throw unavailable(operation, `HTTP ${response.status}`)
    if (!response.ok) {
      throw new HttpError(500, 'ERR_INTERNAL', 'Internal Server Error', {
        cause: new Error(`Moesif ${operation} refused: HTTP ${response.status} (check MOESIF_MANAGEMENT_TOKEN and its scopes)`)
      })
    }
    try {
      return JSON.parse(text) as unknown
    } catch {
      throw unavailable(operation, `HTTP ${response.status} with a body that is not JSON`)
    }
  }

  return {
    plans: async (provider) => {
      const query = new URLSearchParams({ includes: 'prices', provider })
      const answer = await call('billing catalog', `/v1/~/billing/catalog/plans?${query}`, {})
      // Moesif answers { hits: [...] }; a bare array is taken too.
      const hits = Array.isArray(answer) ? answer : isObject(answer) ? answer.hits : undefined
      if (!Array.isArray(hits)) throw unavailable('billing catalog', 'an answer without hits')
      return hits
    },
    user: async (userId) => {
      const answer = await call('user search', `/v1/search/~/users/${encodeURIComponent(userId)}`, { notFound: 'undefined' })
      if (answer === undefined) return undefined
      if (!isObject(answer)) throw unavailable('user search', 'an answer that is not an object')
      return answer
    },
    workspaceToken: async (workspaceId, userId, expiration) => {
      const query = new URLSearchParams({ expiration: expiration.toISOString() })
      const answer = await call('workspace access token', `/v1/portal/~/workspaces/${encodeURIComponent(workspaceId)}/access_token?${query}`, {
        method: 'POST',
        body: { template: { values: { user_id: userId } } }
      })
      if (!isObject(answer)) throw unavailable('workspace access token', 'an answer that is not an object')
      return answer
    }
  }
}
