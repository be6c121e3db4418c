import { printable } from './printable'
import {
  findLocalStripe,
  parseStripeCommand,
  runStripeCommand,
  STRIPE_USAGE,
  StripeCommandError,
  StripeUsageError,
  type StripeCommand
} from './stripe-commands'

/**
 * `npm run -s stripe -- subscribe --email <email> --price <price id>`,
 * `... cancel --email <email>`, `... complete-checkout --session <id> [--email <email>]`.
 *
 * Drives the Stripe stand-in of the running `APP_PAYMENT_PROVIDER=stripe npm start`
 * stack, found through PORT (default 3000) and LOCAL_STATE_DIR (default
 * .local) as `portal-token` finds it: one line per action on stdout, problems
 * on stderr. Exit code 0 when done (webhooks delivered), 1 when something
 * is missing or a webhook was not delivered, 2 for a bad command line.
 */

/** A message on stderr, made printable: it may quote what was typed. */
const complain = (message: string): void => console.error(`stripe: ${printable(message)}`)

function portOf(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 3000
  const port = /^\d{1,5}$/.test(raw.trim()) ? Number(raw.trim()) : NaN
  if (!(port >= 1 && port <= 65535)) throw new StripeUsageError('PORT must be a whole number from 1 to 65535')
  return port
}

async function main(): Promise<number> {
  let command: StripeCommand
  let port: number
  try {
    command = parseStripeCommand(process.argv.slice(2))
    port = portOf(process.env.PORT)
  } catch (error) {
    if (!(error instanceof StripeUsageError)) throw error
    complain(error.message)
    console.error(STRIPE_USAGE)
    return 2
  }
  if (command.action === 'help') {
    console.error(STRIPE_USAGE)
    return 0
  }
  try {
    const target = findLocalStripe({ stateDir: process.env.LOCAL_STATE_DIR || '.local', port })
    const outcome = await runStripeCommand(command, target)
    for (const line of outcome.lines) process.stdout.write(`${line}\n`)
    for (const problem of outcome.problems) complain(problem)
    return outcome.exitCode
  } catch (error) {
    if (!(error instanceof StripeCommandError)) throw error
    complain(error.message)
    return error.exitCode
  }
}

process.exitCode = await main()
