/**
 * `APP_PAYMENT_PROVIDER=stripe npm start` refuses, before anything listens, a
 * Stripe setting every create-key or webhook would fail on, with one
 * `[local] could not start:` line naming the variable (never its value).
 * Each case runs src/local/start.ts as `npm start` does, in a clean environment.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { freePort } from '../../src/local/free-port'
import { runLocalCommand, type LocalCommandResult } from '../../src/local/stack-process'

async function start(env: Record<string, string>): Promise<LocalCommandResult> {
  const stateDir = mkdtempSync(join(tmpdir(), 'dpk-stripe-refuse-'))
  return runLocalCommand('src/local/start.ts', [], { PORT: String(await freePort()), ...env }, { stateDir, timeoutMs: 60_000 })
}

function expectRefused(result: LocalCommandResult, reason: RegExp): void {
  const output = result.stderr + result.stdout
  expect(result.code, output).toBe(1)
  const lines = result.stderr.split('\n').filter((line) => line.trim() !== '')
  expect(
    lines.filter((line) => line.includes('could not start')),
    output
  ).toEqual([lines.at(-1)])
  expect(lines.at(-1)).toMatch(reason)
  // Nothing was started: no helper server, no stand-in, no serverless-offline.
  expect(result.stderr).not.toMatch(/JWKS at|local collector at|dynalite at|stand-in listens|starting serverless offline/)
}

describe('stripe mode: settings refused at start', { timeout: 90_000 }, () => {
  it('an unknown APP_PAYMENT_PROVIDER', async () => {
    expectRefused(
      await start({ APP_PAYMENT_PROVIDER: 'paypal' }),
      /^\[local\] could not start: Invalid configuration: APP_PAYMENT_PROVIDER must be stripe or none/
    )
  })

  it('STRIPE_API_BASE without the webhook secret of that Stripe, and a bad allowed status with the stand-in', async () => {
    const external = await start({
      APP_PAYMENT_PROVIDER: 'stripe',
      STRIPE_API_BASE: 'https://api.stripe.com',
      STRIPE_API_KEY: 'sk_test_0123456789abcdef'
    })
    const statuses = await start({ APP_PAYMENT_PROVIDER: 'stripe', STRIPE_ALLOWED_STATUSES: 'active,paid' })
    expectRefused(external, /^\[local\] could not start: Invalid configuration: STRIPE_WEBHOOK_SECRET must be set when STRIPE_API_BASE is/)
    expect(external.stderr).not.toContain('sk_test_0123456789abcdef')
    expectRefused(statuses, /^\[local\] could not start: Invalid configuration: STRIPE_ALLOWED_STATUSES must be/)
  })
})
