import { parseArgs } from 'node:util'
import { webhookNotes, type WebhookNote } from './local-stripe'
import { sellablePrices, STRIPE_WEBHOOK_PATH, stripeStatePath } from './local-stripe-settings'
import { printable } from './printable'
import { findRunningStack } from './state-lock'
import { connectToStripeStandIn, type AdminCallResult, type StandInSnapshot, type StripeStandInAdminClient } from './stripe/admin-client'
import type { StripeErrorObject } from './stripe/errors'
import { findRunningStripeStandIn } from './stripe/state-file'

/**
 * `npm run -s stripe -- <command>`: what happens in Stripe outside the
 * portal (a customer paying, canceling, finishing Checkout), played at the
 * local Stripe stand-in of the running `APP_PAYMENT_PROVIDER=stripe npm start`
 * stack. The stand-in makes the events and delivers them, signed, to the
 * stack's `/webhooks/stripe`, as Stripe would; the command waits for those
 * deliveries and says how they went.
 */

/** The usage lines (exit code 2 prints them). */
export const STRIPE_USAGE = [
  'usage: npm run -s stripe -- subscribe --email <email> --price <price id>',
  '       npm run -s stripe -- cancel --email <email>',
  '       npm run -s stripe -- complete-checkout --session <checkout session id> [--email <email>]'
].join('\n')

/** A parsed command line. */
export type StripeCommand =
  | { readonly action: 'subscribe'; readonly email: string; readonly priceId: string }
  | { readonly action: 'cancel'; readonly email: string }
  | { readonly action: 'complete-checkout'; readonly sessionId: string; readonly email: string | undefined }
  | { readonly action: 'help' }

/** A command line that cannot be run: exit code 2, with the usage lines. */
export class StripeUsageError extends Error {
  readonly exitCode = 2
  constructor(message: string) {
    super(message)
    this.name = 'StripeUsageError'
  }
}

/** Something the command needs is missing (no stack, no stand-in, no answer): exit code 1. */
export class StripeCommandError extends Error {
  readonly exitCode: 1 | 2
  constructor(message: string, exitCode: 1 | 2 = 1) {
    super(message)
    this.name = 'StripeCommandError'
    this.exitCode = exitCode
  }
}

const OPTIONS_OF: Record<Exclude<StripeCommand['action'], 'help'>, readonly string[]> = {
  subscribe: ['email', 'price'],
  cancel: ['email'],
  'complete-checkout': ['session', 'email']
}

const EMAIL = /^[^\s@]{1,200}@[^\s@]{1,200}$/

function required(values: Record<string, string | boolean | undefined>, name: string, action: string): string {
  const value = values[name]
  if (typeof value !== 'string' || value.trim() === '') throw new StripeUsageError(`${action} needs --${name}`)
  return value.trim()
}

function email(value: string): string {
  if (!EMAIL.test(value)) throw new StripeUsageError(`--email ${value} is not an email address`)
  return value
}

/**
 * Parse the arguments after `npm run -s stripe --`.
 *
 * @example
 * parseStripeCommand(['subscribe', '--email', 'alice@acme.test', '--price', 'price_basic'])
 * // { action: 'subscribe', email: 'alice@acme.test', priceId: 'price_basic' }
 */
export function parseStripeCommand(argv: readonly string[]): StripeCommand {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        email: { type: 'string' },
        price: { type: 'string' },
        session: { type: 'string' },
        help: { type: 'boolean', short: 'h' }
      },
      allowPositionals: true,
      strict: true
    })
  } catch (error) {
    throw new StripeUsageError((error as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help === true) return { action: 'help' }
  const [action, ...extra] = positionals
  if (action === undefined) throw new StripeUsageError('which command? subscribe, cancel or complete-checkout')
  if (!(action in OPTIONS_OF)) throw new StripeUsageError(`unknown command ${action}: subscribe, cancel or complete-checkout`)
  if (extra.length > 0) throw new StripeUsageError(`unexpected argument ${extra[0]}`)
  const allowed = OPTIONS_OF[action as keyof typeof OPTIONS_OF]
  const stray = Object.keys(values).find((name) => values[name as keyof typeof values] !== undefined && !allowed.includes(name))
  if (stray !== undefined) throw new StripeUsageError(`${action} takes no --${stray}`)
  if (action === 'subscribe') return { action, email: email(required(values, 'email', action)), priceId: required(values, 'price', action) }
  if (action === 'cancel') return { action, email: email(required(values, 'email', action)) }
  const sessionId = required(values, 'session', action)
  return { action: 'complete-checkout', sessionId, email: values.email === undefined ? undefined : email(required(values, 'email', action)) }
}

/** The running stack and its stand-in. */
export interface LocalStripeTarget {
  /** `http://127.0.0.1:<port>`. */
  readonly stackUrl: string
  readonly admin: StripeStandInAdminClient
}

const START_HINT = 'start it with APP_PAYMENT_PROVIDER=stripe npm start'

/**
 * Find the running stack through the state folder and port (`LOCAL_STATE_DIR`,
 * default `.local`; `PORT`, default 3000), and the Stripe stand-in it runs.
 * Throws a {@link StripeCommandError} that says what to start.
 *
 * @example
 * const { admin } = findLocalStripe({ stateDir: '.local', port: 3000 })
 */
export function findLocalStripe(options: { stateDir: string; port: number }): LocalStripeTarget {
  const { stateDir, port } = options
  const stack = findRunningStack(stateDir)
  const expected = `http://127.0.0.1:${port}`
  if (stack === undefined) {
    throw new StripeCommandError(`no local stack is running with the state folder ${stateDir} (LOCAL_STATE_DIR): ${START_HINT}`)
  }
  if (stack.url !== expected) {
    const theirs = /:(\d+)$/.exec(stack.url)?.[1] ?? '?'
    throw new StripeCommandError(
      `the local stack using the state folder ${stateDir} serves ${stack.url}, not port ${port}: run this with PORT=${theirs}` +
        (process.env.LOCAL_STATE_DIR === undefined ? '' : ` LOCAL_STATE_DIR=${stateDir}`)
    )
  }
  const statePath = stripeStatePath(stateDir)
  const standIn = findRunningStripeStandIn(statePath)
  const admin = standIn !== undefined && standIn.pid === stack.pid ? connectToStripeStandIn(statePath) : undefined
  if (admin === undefined) {
    throw new StripeCommandError(
      `the local stack at ${stack.url} (pid ${stack.pid}) runs no Stripe stand-in: it was not started in stripe mode, ` +
        `or uses another Stripe (STRIPE_API_BASE). Stop it, then ${START_HINT}`
    )
  }
  return { stackUrl: stack.url, admin }
}

/** What a run printed and how it ends. */
export interface StripeCommandOutcome {
  /** One line per action, for stdout. */
  readonly lines: readonly string[]
  /** Problems (an undelivered webhook), for stderr. */
  readonly problems: readonly string[]
  readonly exitCode: 0 | 1
}

/** The value of an admin call, or a {@link StripeCommandError} saying why there is none. */
function valueOf<T>(result: AdminCallResult<T>, refusal: (error: StripeErrorObject, status: number) => StripeCommandError): T {
  if (result.ok) return result.value
  if (result.status === undefined) {
    // "no answer from the Stripe stand-in at <url>: ECONNREFUSED"
    throw new StripeCommandError(`${result.error.message} (is the stack still running? If not, ${START_HINT})`)
  }
  throw refusal(result.error, result.status)
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

/** `2 webhooks delivered`, `webhooks queued until the stack listens`, and a problem line per failed delivery. */
function summarize(notes: readonly WebhookNote[], webhookUrl: string): { note: string; problems: string[] } {
  const delivered = notes.filter((note) => note.delivered).length
  const queued = notes.filter((note) => note.detail.startsWith('queued')).length
  const failed = notes.filter((note) => !note.delivered && !note.detail.startsWith('queued'))
  const parts: string[] = []
  if (delivered > 0 || notes.length === 0) parts.push(`${plural(delivered, 'webhook')} delivered`)
  if (queued > 0) parts.push(`${plural(queued, 'webhook')} queued until the stack listens`)
  if (failed.length > 0) parts.push(`${plural(failed.length, 'webhook')} NOT delivered`)
  return {
    note: parts.join(', '),
    problems: failed.map((note) => `webhook ${note.type} (${note.eventId}) was not delivered to ${webhookUrl}: ${note.detail}`)
  }
}

function customerByEmail(snapshot: StandInSnapshot, address: string): string | undefined {
  const customer = snapshot.customers.find((candidate) => !('deleted' in candidate && candidate.deleted === true) && candidate.email === address)
  return customer?.id
}

/**
 * Run a parsed command against the stand-in. Every value in the lines is
 * made printable. Throws {@link StripeCommandError} when the stand-in refuses
 * (exit code 2 for an unknown price) or does not answer.
 *
 * @example
 * const outcome = await runStripeCommand({ action: 'cancel', email: 'alice@acme.test' }, findLocalStripe({ stateDir: '.local', port: 3000 }))
 */
export async function runStripeCommand(
  command: Exclude<StripeCommand, { action: 'help' }>,
  target: LocalStripeTarget
): Promise<StripeCommandOutcome> {
  const { admin } = target
  const webhookUrl = `${target.stackUrl}${STRIPE_WEBHOOK_PATH}`
  const p = printable
  switch (command.action) {
    case 'subscribe': {
      const outcome = valueOf(await admin.subscribe({ email: command.email, priceId: command.priceId }), (error) => {
        if (error.param !== 'priceId') return new StripeCommandError(`the Stripe stand-in refused to subscribe ${command.email}: ${error.message}`)
        const known = sellablePrices()
          .map((price) => price.id)
          .join(', ')
        const why =
          error.code === 'resource_missing'
            ? `unknown price ${command.priceId}`
            : `price ${command.priceId} cannot be subscribed to (${error.message})`
        return new StripeCommandError(`${why}: the local stand-in sells ${known}`, 2)
      })
      const { note, problems } = summarize(webhookNotes(outcome.events, outcome.deliveries), webhookUrl)
      return {
        lines: [
          `subscribed ${p(command.email)} to ${p(command.priceId)}: customer ${p(outcome.customer.id)}, subscription ${p(outcome.subscription.id)}, ` +
            `status ${p(outcome.subscription.status)}; ${note}`
        ],
        problems,
        exitCode: problems.length === 0 ? 0 : 1
      }
    }
    case 'cancel': {
      const snapshot = valueOf(await admin.state(), (error) => new StripeCommandError(`the Stripe stand-in refused: ${error.message}`))
      const customerId = customerByEmail(snapshot, command.email)
      const notFound = new StripeCommandError(
        `no Stripe customer has the email ${command.email}: subscribe first (npm run -s stripe -- subscribe --email ${command.email} --price price_basic)`
      )
      if (customerId === undefined) throw notFound
      const outcome = valueOf(await admin.cancel({ email: command.email }), (error, status) =>
        status === 404 ? notFound : new StripeCommandError(`the Stripe stand-in refused to cancel: ${error.message}`)
      )
      if (outcome.subscriptions.length === 0) {
        return { lines: [`nothing to cancel: customer ${p(customerId)} (${p(command.email)}) has no active subscription`], problems: [], exitCode: 0 }
      }
      const notes = webhookNotes(outcome.events, outcome.deliveries)
      const problems: string[] = []
      const lines = outcome.subscriptions.map((subscription) => {
        const own = outcome.events.filter((event) => event.data.object.id === subscription.id).map((event) => event.id)
        const summary = summarize(
          notes.filter((note) => own.includes(note.eventId)),
          webhookUrl
        )
        problems.push(...summary.problems)
        return (
          `canceled ${p(command.email)}: customer ${p(typeof subscription.customer === 'string' ? subscription.customer : customerId)}, subscription ${p(subscription.id)}, ` +
          `status ${p(subscription.status)}; ${summary.note}`
        )
      })
      return { lines, problems, exitCode: problems.length === 0 ? 0 : 1 }
    }
    case 'complete-checkout': {
      const outcome = valueOf(
        await admin.completeCheckout(command.sessionId, command.email === undefined ? {} : { email: command.email }),
        (error, status) =>
          new StripeCommandError(
            status === 404
              ? `no Checkout Session ${command.sessionId} at the local stand-in (create one through the portal first)`
              : `the Stripe stand-in refused to complete ${command.sessionId}: ${error.message}`
          )
      )
      const { note, problems } = summarize(webhookNotes(outcome.events, outcome.deliveries), webhookUrl)
      return {
        lines: [
          `completed checkout ${p(outcome.session.id)}: customer ${p(outcome.customer.id)}, subscription ${p(outcome.subscription.id)}, ` +
            `status ${p(outcome.subscription.status)}; ${note}`
        ],
        problems,
        exitCode: problems.length === 0 ? 0 : 1
      }
    }
  }
}
