import { registerCustomSubscription } from '../lib/portal/register-custom'
import { portalApiHandler } from './shared/portal-api-handler'

/** `POST /register/custom`: custom billing registers a subscription (custom mode). */
export const handler = portalApiHandler('registerCustom', registerCustomSubscription)
