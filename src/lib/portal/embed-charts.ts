import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { jsonResponse } from '../http/http-response'
import { HttpError } from '../runtime/errors'
import type { MoesifObject } from './moesif-management'
import { requireMoesif, type PortalApiDeps } from './portal-api-deps'
import { portalCaller } from './portal-caller'
import { moesifUserOf } from './portal-customer'

/** How long an embed token lives, as the reference portal asks for. */
export const EMBED_TOKEN_LIFETIME_MS = 7 * 86_400_000

/** One embedded workspace: the portal builds `https://www.moesif.com/public/em/ws/<_id>?...#<token>` from it. */
export interface EmbedToken extends MoesifObject {
  readonly _id: string
  readonly token: string
}

function embedToken(answer: MoesifObject, workspaceId: string): EmbedToken {
  if (typeof answer.token !== 'string' || answer.token === '') throw new Error('Moesif answered a workspace access token without token')
  return { ...answer, _id: typeof answer._id === 'string' && answer._id !== '' ? answer._id : workspaceId, token: answer.token }
}

/**
 * `GET /embed-charts/{authUserId}`: the dashboard's two Moesif workspace
 * tokens, `[liveEventLog, timeSeries]`, each `{ _id, token }` (Moesif's other
 * fields pass through), valid 7 days, with the templates' `user_id` set to
 * the caller's Moesif user (the Stripe customer in stripe mode, the ID
 * token's `sub` otherwise, and also before a stripe-mode caller has a
 * customer: then the charts are empty). The path segment is ignored. Moesif
 * failing in any way is a 502 `ERR_MOESIF_UNAVAILABLE`, never a hang; without
 * the workspace ids or the management token, a 404.
 *
 * @example
 * const response = await embedCharts(deps, event) // 200 [{ _id, token }, { _id, token }]
 */
export async function embedCharts(deps: PortalApiDeps, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const caller = await portalCaller(deps.verifyPortalToken, event)
  const moesif = requireMoesif(deps.moesif)
  const workspaces = deps.config.workspaces
  if (workspaces === undefined) {
    throw new HttpError(
      404,
      'ERR_NOT_FOUND',
      'Embedded charts are not configured here (MOESIF_TEMPLATE_WORKSPACE_ID_LIVE_EVENT_LOG and MOESIF_TEMPLATE_WORKSPACE_ID_TIME_SERIES are not set)'
    )
  }
  const userId = (await moesifUserOf(deps, caller)) ?? caller.userId
  const expiration = new Date(deps.nowMs() + EMBED_TOKEN_LIFETIME_MS)
  const ids = [workspaces.liveEventLog, workspaces.timeSeries]
  try {
    const answers = await Promise.all(ids.map((id) => moesif.workspaceToken(id, userId, expiration)))
    return jsonResponse(
      200,
      answers.map((answer, index) => embedToken(answer, ids[index] as string))
    )
  } catch (error) {
    throw new HttpError(502, 'ERR_MOESIF_UNAVAILABLE', "Moesif did not hand out the dashboard's charts: try again in a minute", {
      cause: error,
      expose: true
    })
  }
}
