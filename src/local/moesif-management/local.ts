/**
 * What `npm start` does with the Moesif management stand-in in local stripe
 * mode: start it on the local Stripe stand-in's account and point the
 * portal routes at it, unless the settings name a Moesif of their own.
 */
import { startMoesifManagementStandIn, type MoesifManagementStandIn, type StripeAccountAccess } from './stand-in'

/** The settings that make `npm start` use a Moesif management API of the user's (a real account) instead. */
const OWN_MOESIF_SETTINGS = ['MOESIF_MANAGEMENT_TOKEN', 'MOESIF_MANAGEMENT_API_BASE'] as const

const isSet = (env: NodeJS.ProcessEnv, name: string): boolean => (env[name] ?? '').trim() !== ''

/**
 * The portal settings that point the functions at `standIn`:
 * `MOESIF_MANAGEMENT_API_BASE`, `MOESIF_MANAGEMENT_TOKEN` and both
 * `MOESIF_TEMPLATE_WORKSPACE_ID_*` (the stand-in's workspaces).
 *
 * @example
 * Object.assign(process.env, moesifManagementEnv(standIn))
 */
export function moesifManagementEnv(standIn: Pick<MoesifManagementStandIn, 'url' | 'token' | 'workspaces'>): Record<string, string> {
  return {
    MOESIF_MANAGEMENT_API_BASE: standIn.url,
    MOESIF_MANAGEMENT_TOKEN: standIn.token,
    MOESIF_TEMPLATE_WORKSPACE_ID_LIVE_EVENT_LOG: standIn.workspaces.liveEventLog,
    MOESIF_TEMPLATE_WORKSPACE_ID_TIME_SERIES: standIn.workspaces.timeSeries
  }
}

/**
 * For `npm start` in stripe mode, once the Stripe stand-in runs: start the
 * Moesif management stand-in on that Stripe account and set `env`'s
 * `MOESIF_MANAGEMENT_*` and `MOESIF_TEMPLATE_WORKSPACE_ID_*` to it (workspace
 * ids already set are kept), so `/plans`, `/subscriptions` and
 * `/embed-charts` work on a bare `APP_PAYMENT_PROVIDER=stripe npm start`.
 * With `MOESIF_MANAGEMENT_TOKEN` or `MOESIF_MANAGEMENT_API_BASE` already set
 * (a real Moesif account), it starts nothing and returns `undefined`. It
 * stops with the process; `close()` stops it sooner.
 *
 * @example
 * const moesifManagement = await startLocalMoesifManagement(stripeStandIn, say)
 */
export async function startLocalMoesifManagement(
  stripe: StripeAccountAccess,
  say: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env
): Promise<MoesifManagementStandIn | undefined> {
  if (OWN_MOESIF_SETTINGS.some((name) => isSet(env, name))) {
    say('moesif management API: yours (MOESIF_MANAGEMENT_* is set); /plans, /subscriptions and /embed-charts call it')
    return undefined
  }
  const standIn = await startMoesifManagementStandIn({ stripe })
  for (const [name, value] of Object.entries(moesifManagementEnv(standIn))) {
    if (name.startsWith('MOESIF_TEMPLATE_WORKSPACE_ID_') && isSet(env, name)) continue
    env[name] = value
  }
  say(
    `moesif management API: a local stand-in at ${standIn.url} (plans from the local Stripe catalog, subscriptions from its ` +
      'subscriptions, workspace tokens for the dashboard; the dashboard iframes themselves need a real Moesif account)'
  )
  return standIn
}
