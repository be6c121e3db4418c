import { listSubscriptions } from '../lib/portal/subscriptions'
import { portalApiHandler } from './shared/portal-api-handler'

/** `GET /subscriptions`: the caller's company's subscriptions, from Moesif. */
export const handler = portalApiHandler('subscriptions', listSubscriptions)
