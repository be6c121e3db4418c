import { STRIPE_WEBHOOK_PATH, stripeStatePath, type LocalStripePlan } from './local-stripe-settings'
import { startStripeStandIn, type StripeStandIn } from './stripe/stand-in'
import type { WireEvent } from './stripe/wire'

/**
 * The local Stripe stand-in as `APP_PAYMENT_PROVIDER=stripe npm start` runs
 * it, in the stack's own process: its state in `<LOCAL_STATE_DIR>/stripe.json`
 * (the `stripe` command finds it there), its webhooks signed and sent to the
 * stack's `/webhooks/stripe`.
 *
 * The stand-in listens before serverless-offline does (the functions need its
 * address in their environment), and it delivers each event once, with no
 * retry. So events made while the stack is still starting (a `stripe
 * subscribe` run early) are held back, and sent in order as soon as the
 * stack listens ({@link StackStandIn.stackListening}); a delivery that then
 * fails is printed by the stand-in (`[stripe stand-in] webhook ... not delivered`).
 */

/** A stand-in serving a local stack. */
export interface StackStandIn {
  readonly standIn: StripeStandIn
  /** What the stack's functions need to use it: `STRIPE_API_BASE`, `STRIPE_API_KEY`, `STRIPE_WEBHOOK_SECRET`. */
  readonly env: { readonly STRIPE_API_BASE: string; readonly STRIPE_API_KEY: string; readonly STRIPE_WEBHOOK_SECRET: string }
  /** How many events wait for the stack to listen. */
  readonly held: () => number
  /** The stack listens: deliver to `webhookUrl` from now on, starting with the events held back (in order). Idempotent. */
  readonly stackListening: () => void
  readonly close: () => Promise<void>
}

/**
 * Start the stand-in for a stack whose webhook endpoint is `webhookUrl` (not listening yet).
 *
 * @example
 * const stripe = await startStackStandIn({ statePath: '.local/stripe.json', webhookUrl: 'http://127.0.0.1:3000/webhooks/stripe' })
 * Object.assign(process.env, stripe.env)
 * // ... once serverless-offline listens:
 * stripe.stackListening()
 */
export async function startStackStandIn(options: {
  statePath: string
  webhookUrl: string
  /** Told how many held events are being sent once the stack listens. */
  say?: (message: string) => void
  port?: number
}): Promise<StackStandIn> {
  const held: WireEvent[] = []
  let listening = false
  const standIn = await startStripeStandIn({
    statePath: options.statePath,
    ...(options.port === undefined ? {} : { port: options.port }),
    // Called for every event as it is made, before the stand-in looks at its webhookUrl (none until the stack listens).
    onEvent: (event) => {
      if (!listening) held.push(event)
    }
  })
  return {
    standIn,
    env: { STRIPE_API_BASE: standIn.url, STRIPE_API_KEY: standIn.apiKey, STRIPE_WEBHOOK_SECRET: standIn.webhookSecret },
    held: () => held.length,
    stackListening: () => {
      if (listening) return
      listening = true
      standIn.setWebhookUrl(options.webhookUrl)
      const waiting = held.splice(0)
      if (waiting.length === 0) return
      options.say?.(`stripe: sending ${waiting.length} webhook(s) made while the stack was starting to ${options.webhookUrl}`)
      // Queued synchronously, one after the other: the stand-in delivers them in this order, before any later event.
      for (const event of waiting) void standIn.redeliver(event.id)
    },
    close: () => standIn.close()
  }
}

/**
 * What `npm start` does in stripe mode, after the checks and before
 * serverless-offline starts: with the stand-in plan, start it on
 * `<stateDir>/stripe.json` and put its address, key and webhook secret in
 * `env` (the functions' environment); against another Stripe, leave `env` as
 * it is. Prints one line either way (plus a warning for replaced settings).
 * Answers what to call once the stack listens, or `undefined` outside stripe mode.
 *
 * @example
 * const stripe = await startStripeForStack(planLocalStripe(process.env), { stateDir, stackUrl: baseUrl, say, env: process.env })
 * // once serverless-offline listens:
 * stripe?.stackListening()
 */
export async function startStripeForStack(
  plan: LocalStripePlan,
  options: { stateDir: string; stackUrl: string; say: (message: string) => void; env: NodeJS.ProcessEnv }
): Promise<StackStandIn | { readonly stackListening: () => void } | undefined> {
  const { say, env } = options
  const webhookUrl = `${options.stackUrl}${STRIPE_WEBHOOK_PATH}`
  if (plan.kind === 'off') return undefined
  if (plan.kind === 'external') {
    say(
      `stripe mode: on, against ${plan.apiBase} (STRIPE_API_BASE; no local stand-in): its webhooks must reach ${webhookUrl}, ` +
        `for example with stripe listen --forward-to ${webhookUrl}`
    )
    return { stackListening: () => undefined }
  }
  if (plan.ignored.length > 0) {
    say(
      `warning: ${plan.ignored.join(', ')} ignored: without STRIPE_API_BASE, the stack uses the local Stripe stand-in and its own key and webhook secret`
    )
  }
  const statePath = stripeStatePath(options.stateDir)
  const stripe = await startStackStandIn({ statePath, webhookUrl, say })
  // Blank, not deleted: serverless.yml reads an unset and an empty name alike, and nothing falls back to a secret store.
  for (const name of plan.ignored) env[name] = ''
  Object.assign(env, stripe.env)
  say(
    `stripe mode: on; the local Stripe stand-in listens at ${stripe.standIn.url} (state in ${statePath}) and signs its webhooks to ${webhookUrl}; ` +
      `subscribe with npm run -s stripe -- subscribe --email <email> --price price_basic`
  )
  return stripe
}
