import { embedCharts } from '../lib/portal/embed-charts'
import { portalApiHandler } from './shared/portal-api-handler'

/** `GET /embed-charts/{authUserId}`: the dashboard's two Moesif workspace tokens. */
export const handler = portalApiHandler('embedCharts', embedCharts)
