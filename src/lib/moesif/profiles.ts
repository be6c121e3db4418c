import type { Logger } from '../runtime/logger'
import type { MoesifSettings } from './settings'

/** What Moesif should know about a key holder's company and user. */
export interface MoesifProfile {
  /** The Moesif company: the Stripe customer id in stripe mode. */
  readonly companyId: string
  /** The Moesif user: the same customer id in stripe mode, as the portal's dashboards filter by it. */
  readonly userId: string
  readonly email: string | undefined
  /** The portal user behind the request (the ID token's `sub`). */
  readonly portalUserId: string
  /** The subscription's ids, for the company's metadata. */
  readonly plan: { readonly subscriptionId: string; readonly priceIds: readonly string[]; readonly productIds: readonly string[] } | undefined
}

/** Updates a company and user in Moesif; never throws. */
export type MoesifProfileUpdater = (profile: MoesifProfile) => Promise<void>

/**
 * Keep Moesif's company and user profiles in step with the keys: `POST
 * /v1/companies` (`company_id`, the plan in `metadata`) and `POST /v1/users`
 * (`user_id`, `company_id`, the email in `metadata`), as the portal's backend
 * does, but awaited and bounded: both requests together wait at most
 * `MOESIF_MAX_WAIT_MS`, then are abandoned. A failure is logged (status only)
 * and never fails the caller. Without `MOESIF_APPLICATION_ID` it does nothing.
 *
 * @example
 * const updateProfiles = createMoesifProfileUpdater(moesifSettingsFromEnv(env), logger)
 * await updateProfiles({ companyId: 'cus_1', userId: 'cus_1', email: 'a@b.test', portalUserId: 'auth0|a', plan: undefined })
 */
export function createMoesifProfileUpdater(settings: MoesifSettings, logger: Logger): MoesifProfileUpdater {
  const applicationId = settings.applicationId
  if (applicationId === undefined) return async () => undefined
  const post = async (path: string, body: unknown, signal: AbortSignal): Promise<void> => {
    const response = await fetch(`${settings.baseUri}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-moesif-application-id': applicationId },
      body: JSON.stringify(body),
      signal
    })
    await response.body?.cancel()
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
  }
  return async (profile) => {
    const signal = AbortSignal.timeout(Math.max(settings.maxWaitMs, 1))
    const company = {
      company_id: profile.companyId,
      metadata:
        profile.plan === undefined
          ? {}
          : { plan: { subscription_id: profile.plan.subscriptionId, price_ids: profile.plan.priceIds, product_ids: profile.plan.productIds } }
    }
    const user = {
      user_id: profile.userId,
      company_id: profile.companyId,
      metadata: { ...(profile.email === undefined ? {} : { email: profile.email }), portal_user_id: profile.portalUserId }
    }
    const results = await Promise.allSettled([post('/v1/companies', company, signal), post('/v1/users', user, signal)])
    results.forEach((result, index) => {
      if (result.status === 'rejected') {
        const reason = result.reason as { name?: unknown; message?: unknown } | null
        logger.warn('moesif profile not updated', {
          profile: index === 0 ? 'company' : 'user',
          orgId: profile.companyId,
          error:
            reason?.name === 'TimeoutError' || reason?.name === 'AbortError'
              ? `no answer within ${settings.maxWaitMs} ms`
              : String(reason?.message ?? 'failed')
        })
      }
    })
  }
}
