import { isLoopbackUrl } from '../http/url'
import type { ServiceSecret } from '../keys/secret-sources'
import { readEnv, readList, readWholeNumber, type Env } from '../runtime/env'
import { ConfigError } from '../runtime/errors'

/** How the portal routes reach Moesif's management API (`https://api.moesif.com`). */
export interface MoesifManagementSettings {
  /** `MOESIF_MANAGEMENT_TOKEN`: a secret, fetched from SSM or the JSON secret in a deployment. */
  readonly token: string
  /** `MOESIF_MANAGEMENT_API_BASE`: scheme, host and port only. */
  readonly apiBase: URL
  /** `MOESIF_MANAGEMENT_TIMEOUT_MS`: the longest wait for one Moesif call a portal route makes. */
  readonly timeoutMs: number
}

/** The two Moesif workspace templates the portal's dashboard embeds. */
export interface EmbedWorkspaces {
  /** `MOESIF_TEMPLATE_WORKSPACE_ID_LIVE_EVENT_LOG`. */
  readonly liveEventLog: string
  /** `MOESIF_TEMPLATE_WORKSPACE_ID_TIME_SERIES`. */
  readonly timeSeries: string
}

/** The settings of the Moesif Developer Portal's backend routes. */
export interface PortalApiConfig {
  /** `undefined` without `MOESIF_MANAGEMENT_TOKEN`: the routes that need Moesif's management API answer 404. */
  readonly management: MoesifManagementSettings | undefined
  /** `undefined` unless both workspace ids are set: `GET /embed-charts/{id}` answers 404. */
  readonly workspaces: EmbedWorkspaces | undefined
  /** `PORTAL_URL`: where Stripe Checkout sends the customer back (`<PORTAL_URL>/return?...`). */
  readonly portalUrl: string
  /** `MOESIF_MANAGEMENT_TIMEOUT_MS`: also bounds the one collector call a route waits on (custom billing's subscription). */
  readonly moesifTimeoutMs: number
}

/** Moesif's management API, unless `MOESIF_MANAGEMENT_API_BASE` points elsewhere. */
export const MOESIF_MANAGEMENT_DEFAULT_API_BASE = 'https://api.moesif.com'

/** `PORTAL_ORIGINS`' default, and so `PORTAL_URL`'s: the portal frontend under `npm run dev`. */
const DEFAULT_PORTAL_ORIGIN = 'http://127.0.0.1:4000'

/** The portal routes, by their function name in serverless.yml. */
export type PortalRoute =
  'plans' | 'createCheckoutSession' | 'registerStripe' | 'subscriptions' | 'embedCharts' | 'stripeCustomer' | 'registerCustom' | 'oktaRegister'

/**
 * The secrets one portal route fetches in the configured billing mode:
 * exactly what its IAM role may read (`FUNCTION_STATEMENTS` in
 * config/serverless-env.cjs mirrors this). A route that answers 404 in this
 * mode reads nothing. Without billing, the token is read only when
 * `MOESIF_MANAGEMENT_TOKEN_SSM_PARAMETER` is set (or it is in the environment).
 *
 * @example
 * await envWithSecrets(env, { services: portalRouteSecrets('plans', env) }) // MOESIF_MANAGEMENT_TOKEN
 */
export function portalRouteSecrets(route: PortalRoute, env: Env): ServiceSecret[] {
  const provider = (readEnv(env, 'APP_PAYMENT_PROVIDER') ?? 'none').toLowerCase()
  const stripe = provider === 'stripe'
  // Without billing the portal routes are optional: the token then comes from its own SSM parameter (or the
  // environment, locally), never from a JSON secret that also holds the signing key.
  const token: ServiceSecret[] =
    stripe || provider === 'custom' || readEnv(env, 'MOESIF_MANAGEMENT_TOKEN_SSM_PARAMETER') !== undefined ? ['MOESIF_MANAGEMENT_TOKEN'] : []
  switch (route) {
    case 'plans':
      return token
    case 'createCheckoutSession':
      return stripe ? ['STRIPE_API_KEY', 'MOESIF_MANAGEMENT_TOKEN'] : []
    case 'registerStripe':
    case 'stripeCustomer':
      return stripe ? ['STRIPE_API_KEY'] : []
    case 'subscriptions':
    case 'embedCharts':
      return stripe ? ['STRIPE_API_KEY', 'MOESIF_MANAGEMENT_TOKEN'] : token
    case 'registerCustom':
      return provider === 'custom' ? ['MOESIF_MANAGEMENT_TOKEN'] : []
    case 'oktaRegister':
      return []
  }
}

function parseApiBase(value: string): URL {
  const expected = 'an https:// origin such as https://api.moesif.com (http:// only on 127.0.0.1 or localhost), with no path'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ConfigError('MOESIF_MANAGEMENT_API_BASE', expected)
  }
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackUrl(url))
  if (!secure || url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ConfigError('MOESIF_MANAGEMENT_API_BASE', expected)
  }
  return url
}

function parsePortalUrl(value: string, variable: string): string {
  const expected = 'the portal frontend URL, such as https://portal.example.com (http(s), no query or fragment)'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ConfigError(variable, expected)
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ConfigError(variable, expected)
  }
  return url.href.replace(/\/+$/, '')
}

/** Moesif workspace ids are 24 hex digits; anything URL-safe is accepted, nothing that could change the path. */
const WORKSPACE_ID = /^[A-Za-z0-9_-]{1,100}$/

function workspaceId(env: Env, name: string): string | undefined {
  const value = readEnv(env, name)
  if (value !== undefined && !WORKSPACE_ID.test(value)) throw new ConfigError(name, 'a Moesif workspace id (letters, digits, - and _)')
  return value
}

/**
 * Read the settings of the portal routes. An empty value counts as unset.
 *
 * - `MOESIF_MANAGEMENT_TOKEN`: optional (the routes that need it answer 404
 *   without it); printable, no spaces. Never printed.
 * - `MOESIF_MANAGEMENT_API_BASE`: default `https://api.moesif.com`; http only on loopback.
 * - `MOESIF_MANAGEMENT_TIMEOUT_MS`: 100 to 30000, default 5000.
 * - `MOESIF_TEMPLATE_WORKSPACE_ID_LIVE_EVENT_LOG`, `MOESIF_TEMPLATE_WORKSPACE_ID_TIME_SERIES`: both or neither.
 * - `PORTAL_URL`: default the first `PORTAL_ORIGINS` entry (itself `http://127.0.0.1:4000` by default).
 *
 * @example
 * loadPortalApiConfig({ MOESIF_MANAGEMENT_TOKEN: 'eyJ...', PORTAL_ORIGINS: 'https://portal.example.com' }).portalUrl // 'https://portal.example.com'
 */
export function loadPortalApiConfig(env: Env): PortalApiConfig {
  const token = readEnv(env, 'MOESIF_MANAGEMENT_TOKEN')
  if (token !== undefined && !/^[\x21-\x7e]{8,8192}$/.test(token)) {
    throw new ConfigError(
      'MOESIF_MANAGEMENT_TOKEN',
      "a Moesif management API token (Moesif's API Keys page); deployments fetch it with MOESIF_MANAGEMENT_TOKEN_SSM_PARAMETER"
    )
  }
  const apiBase = parseApiBase(readEnv(env, 'MOESIF_MANAGEMENT_API_BASE') ?? MOESIF_MANAGEMENT_DEFAULT_API_BASE)
  const timeoutMs = readWholeNumber(env, 'MOESIF_MANAGEMENT_TIMEOUT_MS', 5000, 100, 30_000)
  const liveEventLog = workspaceId(env, 'MOESIF_TEMPLATE_WORKSPACE_ID_LIVE_EVENT_LOG')
  const timeSeries = workspaceId(env, 'MOESIF_TEMPLATE_WORKSPACE_ID_TIME_SERIES')
  if ((liveEventLog === undefined) !== (timeSeries === undefined)) {
    const missing = liveEventLog === undefined ? 'MOESIF_TEMPLATE_WORKSPACE_ID_LIVE_EVENT_LOG' : 'MOESIF_TEMPLATE_WORKSPACE_ID_TIME_SERIES'
    throw new ConfigError(missing, 'set too: the dashboard embeds both workspace templates')
  }
  const portalUrl =
    readEnv(env, 'PORTAL_URL') === undefined
      ? parsePortalUrl(readList(env, 'PORTAL_ORIGINS')?.[0] ?? DEFAULT_PORTAL_ORIGIN, 'PORTAL_ORIGINS')
      : parsePortalUrl(readEnv(env, 'PORTAL_URL') as string, 'PORTAL_URL')
  return Object.freeze({
    management: token === undefined ? undefined : Object.freeze({ token, apiBase, timeoutMs }),
    workspaces: liveEventLog === undefined || timeSeries === undefined ? undefined : Object.freeze({ liveEventLog, timeSeries }),
    portalUrl,
    moesifTimeoutMs: timeoutMs
  })
}
