import { randomUUID } from 'node:crypto'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import type { CustomRegistration } from '../billing/billing-records'
import { jsonResponse } from '../http/http-response'
import { ConfigError, HttpError } from '../runtime/errors'
import { requireMoesif, requireProvider, type PortalApiDeps } from './portal-api-deps'
import { portalCaller } from './portal-caller'

/** The body of `POST /register/custom`, as the portal's Return page sends it. */
export interface CustomRegistrationRequest {
  readonly planId: string
  readonly priceId: string
}

const MAX_BODY_BYTES = 4096
const CATALOG_ID = /^[A-Za-z0-9_.:-]{1,255}$/

const badBody = (message: string): HttpError => new HttpError(400, 'ERR_BAD_BODY', message)

/**
 * Parse `{ plan_id, price_id }` (JSON, at most 4 KB, nothing else). Anything else is a 400 `ERR_BAD_BODY`.
 *
 * @example
 * parseCustomRegistration({ body: '{"plan_id":"plan_pro","price_id":"price_pro"}' }) // { planId: 'plan_pro', priceId: 'price_pro' }
 */
export function parseCustomRegistration(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): CustomRegistrationRequest {
  const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '')
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES) throw new HttpError(413, 'ERR_BODY_TOO_LARGE', `Body must be at most ${MAX_BODY_BYTES} bytes`)
  let body: unknown
  try {
    body = JSON.parse(raw)
  } catch {
    throw badBody('Body must be JSON: { "plan_id": ..., "price_id": ... }')
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw badBody('Body must be a JSON object: { "plan_id": ..., "price_id": ... }')
  const record = body as Record<string, unknown>
  for (const field of Object.keys(record)) {
    if (field !== 'plan_id' && field !== 'price_id') throw badBody(`Unknown field ${JSON.stringify(field.slice(0, 40))}; allowed: plan_id, price_id`)
  }
  const { plan_id: planId, price_id: priceId } = record
  if (typeof planId !== 'string' || !CATALOG_ID.test(planId)) throw badBody('plan_id must be the id of a plan of GET /plans')
  if (typeof priceId !== 'string' || !CATALOG_ID.test(priceId)) throw badBody('price_id must be the id of a price of GET /plans')
  return { planId, priceId }
}

/** `start` plus one calendar month (UTC; the 31st clamps to the month's last day). */
function nextMonth(start: Date): Date {
  const end = new Date(
    Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1, start.getUTCHours(), start.getUTCMinutes(), start.getUTCSeconds())
  )
  const lastDay = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() + 1, 0)).getUTCDate()
  end.setUTCDate(Math.min(start.getUTCDate(), lastDay))
  return end
}

/** `POST <MOESIF_BASE_URI>/v1/subscriptions`, bounded; throws on anything but a 2xx. */
async function sendSubscription(deps: PortalApiDeps, applicationId: string, registration: CustomRegistration): Promise<void> {
  const response = await fetch(`${deps.moesifSettings.baseUri}/v1/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-moesif-application-id': applicationId },
    body: JSON.stringify({
      subscription_id: registration.subscriptionId,
      company_id: registration.companyId,
      current_period_start: registration.periodStart,
      current_period_end: registration.periodEnd,
      status: 'active',
      items: [{ plan_id: registration.planId, price_id: registration.priceId }],
      metadata: {}
    }),
    signal: AbortSignal.timeout(deps.config.moesifTimeoutMs)
  })
  await response.body?.cancel()
  if (!response.ok) throw new Error(`HTTP ${response.status}`)
}

/**
 * `POST /register/custom` (`APP_PAYMENT_PROVIDER=custom`, else 404): the
 * caller subscribes to `price_id` of `plan_id`, which must be an active price
 * of that plan in Moesif's catalog (400 `ERR_BAD_PRICE`). The company is the
 * ID token's `sub`, as in the reference portal. The registration is recorded
 * in the key table first (from then on `POST /create-key` issues keys to that
 * company), then the Moesif company and user are updated and the subscription
 * is sent to Moesif (`POST /v1/subscriptions`), awaited and bounded by
 * `MOESIF_MANAGEMENT_TIMEOUT_MS`. Idempotent per company and price: once
 * Moesif has taken it, a repeat sends nothing. If Moesif does not take it,
 * the answer is 502 `ERR_MOESIF_UNAVAILABLE` and a repeat sends the same
 * subscription again. Answers 201 `{ status: "provisioned" }`.
 *
 * @example
 * const response = await registerCustomSubscription(deps, event) // 201 { status: 'provisioned' }
 */
export async function registerCustomSubscription(deps: PortalApiDeps, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const caller = await portalCaller(deps.verifyPortalToken, event)
  requireProvider(deps, 'custom')
  const { planId, priceId } = parseCustomRegistration(event)
  const found = await requireMoesif(deps.catalog).activePrice(priceId)
  if (found === undefined || found.plan.id !== planId) {
    throw new HttpError(400, 'ERR_BAD_PRICE', `price_id ${priceId} is not an active price of plan ${planId} (GET /plans)`)
  }
  const records = deps.records
  if (records === undefined) throw new ConfigError('KEYS_TABLE', 'set: custom billing keeps its registered subscriptions in the key table')
  const companyId = caller.userId
  const now = new Date(deps.nowMs())
  const registration = await records.claimCustomRegistration({
    companyId,
    planId,
    priceId,
    subscriptionId: `sub_custom_${randomUUID()}`,
    periodStart: now.toISOString(),
    periodEnd: nextMonth(now).toISOString(),
    registeredAt: now.toISOString(),
    syncedAt: undefined
  })
  if (registration.syncedAt !== undefined) return jsonResponse(201, { status: 'provisioned' })

  await deps.updateProfiles({
    companyId,
    userId: companyId,
    email: caller.email,
    portalUserId: caller.userId,
    plan: { subscriptionId: registration.subscriptionId, priceIds: [priceId], productIds: [planId] }
  })
  const applicationId = deps.moesifSettings.applicationId
  if (applicationId === undefined) {
    deps.logger.warn('custom subscription registered, not sent to Moesif: MOESIF_APPLICATION_ID is not set', { orgId: companyId, priceId })
    return jsonResponse(201, { status: 'provisioned' })
  }
  try {
    await sendSubscription(deps, applicationId, registration)
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name
    const detail =
      name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${deps.config.moesifTimeoutMs} ms` : String((error as Error).message)
    throw new HttpError(502, 'ERR_MOESIF_UNAVAILABLE', 'Your subscription is registered, but Moesif did not take it yet: try again in a minute', {
      cause: new Error(`Moesif POST /v1/subscriptions: ${detail}`),
      expose: true
    })
  }
  await records.saveCustomRegistration({ ...registration, syncedAt: new Date(deps.nowMs()).toISOString() })
  deps.logger.info('custom subscription registered', { orgId: companyId, subscriptionId: registration.subscriptionId, priceId })
  return jsonResponse(201, { status: 'provisioned' })
}
