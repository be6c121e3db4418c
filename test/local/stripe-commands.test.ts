/**
 * `npm run -s stripe -- subscribe|cancel|complete-checkout` (src/local/stripe-commands.ts,
 * src/local/stripe-cli.ts): the command line, finding the running stack and
 * its stand-in through the state folder and port, and what each action
 * prints, against a real stand-in whose webhooks go to an endpoint that
 * checks their signatures with the official SDK.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Stripe from 'stripe'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startStackStandIn, type StackStandIn } from '../../src/local/local-stripe-stand-in'
import { runLocalCommand } from '../../src/local/stack-process'
import { LOCK_FILE } from '../../src/local/state-lock'
import {
  findLocalStripe,
  parseStripeCommand,
  runStripeCommand,
  STRIPE_USAGE,
  StripeCommandError,
  StripeUsageError,
  type LocalStripeTarget
} from '../../src/local/stripe-commands'

/** The stack's webhook endpoint: checks each signature as the stack does, and answers `status`. */
interface Endpoint {
  readonly port: number
  readonly received: { type: string; signed: boolean }[]
  status: number
  secret: string
  close(): Promise<void>
}

async function startEndpoint(): Promise<Endpoint> {
  const sdk = new Stripe('sk_test_endpoint0000')
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      let signed = true
      try {
        sdk.webhooks.constructEvent(body, String(req.headers['stripe-signature']), endpoint.secret, 300)
      } catch {
        signed = false
      }
      endpoint.received.push({ type: (JSON.parse(body.toString('utf8')) as { type: string }).type, signed })
      res.writeHead(signed && req.url === '/webhooks/stripe' ? endpoint.status : 400).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const endpoint: Endpoint = {
    port: (server.address() as AddressInfo).port,
    received: [],
    status: 200,
    secret: '',
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return endpoint
}

/** A state folder whose lock names a "stack" (`pid`) serving on `port`. */
function stackFolder(port: number, pid: number = process.pid): string {
  const dir = mkdtempSync(join(tmpdir(), 'dpk-stripe-cli-'))
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid, url: `http://127.0.0.1:${port}`, startedAt: new Date().toISOString() }))
  return dir
}

function commandError(run: () => unknown): StripeCommandError {
  try {
    run()
  } catch (error) {
    if (error instanceof StripeCommandError) return error
    throw error
  }
  return expect.unreachable('expected a StripeCommandError') as never
}

async function rejection(promise: Promise<unknown>): Promise<StripeCommandError> {
  return promise.then(
    () => expect.unreachable('expected a StripeCommandError') as never,
    (error: unknown) => {
      if (error instanceof StripeCommandError) return error
      throw error
    }
  )
}

let endpoint: Endpoint
let stateDir: string
let stripe: StackStandIn
let target: LocalStripeTarget

beforeAll(async () => {
  endpoint = await startEndpoint()
  stateDir = stackFolder(endpoint.port)
  // This process plays the stack: its pid is in stack.lock, and the stand-in it runs takes the lock of stripe.json.
  stripe = await startStackStandIn({ statePath: join(stateDir, 'stripe.json'), webhookUrl: `http://127.0.0.1:${endpoint.port}/webhooks/stripe` })
  endpoint.secret = stripe.env.STRIPE_WEBHOOK_SECRET
  target = findLocalStripe({ stateDir, port: endpoint.port })
})

afterAll(async () => {
  await stripe?.close()
  await endpoint?.close()
})

describe('parseStripeCommand', () => {
  it('reads the three commands', () => {
    expect(parseStripeCommand(['subscribe', '--email', 'alice@acme.test', '--price', 'price_basic'])).toEqual({
      action: 'subscribe',
      email: 'alice@acme.test',
      priceId: 'price_basic'
    })
    expect(parseStripeCommand(['cancel', '--email=alice@acme.test'])).toEqual({ action: 'cancel', email: 'alice@acme.test' })
    expect(parseStripeCommand(['complete-checkout', '--session', 'cs_test_1'])).toEqual({
      action: 'complete-checkout',
      sessionId: 'cs_test_1',
      email: undefined
    })
    expect(parseStripeCommand(['complete-checkout', '--session', 'cs_test_1', '--email', 'bob@acme.test'])).toMatchObject({ email: 'bob@acme.test' })
    expect(parseStripeCommand(['--help'])).toEqual({ action: 'help' })
  })

  it.each([
    [[], /which command/],
    [['refund', '--email', 'a@b'], /unknown command refund/],
    [['subscribe', '--email', 'alice@acme.test'], /subscribe needs --price/],
    [['subscribe', '--price', 'price_basic'], /subscribe needs --email/],
    [['subscribe', '--email', 'alice', '--price', 'price_basic'], /--email alice is not an email address/],
    [['cancel', '--email', 'a@b', '--price', 'price_basic'], /cancel takes no --price/],
    [['cancel', '--email', 'a@b', 'now'], /unexpected argument now/],
    [['cancel', '--mail', 'a@b'], /Unknown option '--mail'/],
    [['complete-checkout'], /complete-checkout needs --session/]
  ])('refuses %j with a usage error', (argv, message) => {
    expect(() => parseStripeCommand(argv)).toThrow(StripeUsageError)
    expect(() => parseStripeCommand(argv)).toThrow(message)
  })
})

describe('findLocalStripe', () => {
  it('finds the stack by state folder and port, and the stand-in it runs', () => {
    expect(target.stackUrl).toBe(`http://127.0.0.1:${endpoint.port}`)
    expect(target.admin.url).toBe(stripe.standIn.url)
  })

  it('without a running stack, says to start one in stripe mode', () => {
    const error = commandError(() => findLocalStripe({ stateDir: mkdtempSync(join(tmpdir(), 'dpk-stripe-none-')), port: 3000 }))
    expect(error.exitCode).toBe(1)
    expect(error.message).toMatch(/^no local stack is running with the state folder .*: start it with APP_PAYMENT_PROVIDER=stripe npm start$/)
  })

  it('with the stack on another port, names the port to use', () => {
    const error = commandError(() => findLocalStripe({ stateDir, port: endpoint.port + 1 }))
    expect(error.message).toContain(`serves http://127.0.0.1:${endpoint.port}, not port ${endpoint.port + 1}: run this with PORT=${endpoint.port}`)
  })

  it('with a stack that runs no stand-in (default mode, or another stack owns stripe.json), says to restart it in stripe mode', () => {
    const plain = commandError(() => findLocalStripe({ stateDir: stackFolder(4321), port: 4321 }))
    expect(plain.message).toMatch(/runs no Stripe stand-in: .*APP_PAYMENT_PROVIDER=stripe npm start$/)
    // The same folder's stand-in, but the lock names another (live) process as the stack.
    writeFileSync(join(stateDir, LOCK_FILE), JSON.stringify({ pid: process.ppid, url: `http://127.0.0.1:${endpoint.port}` }))
    try {
      expect(commandError(() => findLocalStripe({ stateDir, port: endpoint.port })).message).toMatch(/runs no Stripe stand-in/)
    } finally {
      writeFileSync(join(stateDir, LOCK_FILE), JSON.stringify({ pid: process.pid, url: `http://127.0.0.1:${endpoint.port}` }))
    }
  })
})

describe('runStripeCommand', () => {
  it('subscribe before the stack listens: done, with its webhooks queued; then delivered once it listens', async () => {
    const outcome = await runStripeCommand({ action: 'subscribe', email: 'early@acme.test', priceId: 'price_basic' }, target)
    expect(outcome.exitCode).toBe(0)
    expect(outcome.lines).toEqual([expect.stringMatching(/; 2 webhooks queued until the stack listens$/)])
    stripe.stackListening()
    await stripe.standIn.settled()
    expect(endpoint.received).toEqual([
      { type: 'customer.created', signed: true },
      { type: 'customer.subscription.created', signed: true }
    ])
  })

  it('subscribe: creates the customer, then an active subscription, and reports the signed webhooks delivered', async () => {
    endpoint.received.length = 0
    const outcome = await runStripeCommand({ action: 'subscribe', email: 'alice@acme.test', priceId: 'price_basic' }, target)
    const again = await runStripeCommand({ action: 'subscribe', email: 'alice@acme.test', priceId: 'price_basic_yearly' }, target)

    expect(outcome).toEqual({
      lines: [
        expect.stringMatching(
          /^subscribed alice@acme\.test to price_basic: customer (cus_\w+), subscription sub_\w+, status active; 2 webhooks delivered$/
        )
      ],
      problems: [],
      exitCode: 0
    })
    const customer = /customer (cus_\w+)/.exec(outcome.lines[0] ?? '')?.[1]
    // The same customer, found by email: only the subscription is new.
    expect(again.lines).toEqual([expect.stringMatching(new RegExp(`customer ${customer}, .*; 1 webhook delivered$`))])
    expect(endpoint.received.map((r) => [r.type, r.signed])).toEqual([
      ['customer.created', true],
      ['customer.subscription.created', true],
      ['customer.subscription.created', true]
    ])
  })

  it('subscribe: an unknown or inactive price is a usage error (exit 2) naming the prices on sale', async () => {
    const unknown = await rejection(runStripeCommand({ action: 'subscribe', email: 'alice@acme.test', priceId: 'price_gold' }, target))
    const inactive = await rejection(runStripeCommand({ action: 'subscribe', email: 'alice@acme.test', priceId: 'price_basic_legacy' }, target))
    expect(unknown.exitCode).toBe(2)
    expect(unknown.message).toBe('unknown price price_gold: the local stand-in sells price_basic, price_basic_yearly, price_metered')
    expect(inactive.exitCode).toBe(2)
    expect(inactive.message).toMatch(/^price price_basic_legacy cannot be subscribed to \(.*inactive.*\): the local stand-in sells/)
  })

  it('cancel: cancels every subscription of the customer, one line each, and the deleted webhooks are delivered', async () => {
    endpoint.received.length = 0
    const outcome = await runStripeCommand({ action: 'cancel', email: 'alice@acme.test' }, target)
    const twice = await runStripeCommand({ action: 'cancel', email: 'alice@acme.test' }, target)

    expect(outcome.exitCode).toBe(0)
    expect(outcome.lines).toEqual([
      expect.stringMatching(/^canceled alice@acme\.test: customer cus_\w+, subscription sub_\w+, status canceled; 1 webhook delivered$/),
      expect.stringMatching(/^canceled alice@acme\.test: customer cus_\w+, subscription sub_\w+, status canceled; 1 webhook delivered$/)
    ])
    expect(endpoint.received).toEqual([
      { type: 'customer.subscription.deleted', signed: true },
      { type: 'customer.subscription.deleted', signed: true }
    ])
    expect(twice).toEqual({
      lines: [expect.stringMatching(/^nothing to cancel: customer cus_\w+ \(alice@acme\.test\) has no active subscription$/)],
      problems: [],
      exitCode: 0
    })
  })

  it('cancel: no customer with that email says to subscribe first', async () => {
    const error = await rejection(runStripeCommand({ action: 'cancel', email: 'nobody@acme.test' }, target))
    expect(error.exitCode).toBe(1)
    expect(error.message).toBe(
      'no Stripe customer has the email nobody@acme.test: subscribe first (npm run -s stripe -- subscribe --email nobody@acme.test --price price_basic)'
    )
  })

  it('complete-checkout: completes an open session as the hosted form would, and delivers its webhooks', async () => {
    // Prepare: a session the portal would have created.
    const sdk = new Stripe(stripe.env.STRIPE_API_KEY, { ...stripe.standIn.stripeConfig(), maxNetworkRetries: 0 })
    const session = await sdk.checkout.sessions.create({
      mode: 'subscription',
      line_items: [{ price: 'price_basic', quantity: 1 }],
      customer_email: 'carol@acme.test',
      success_url: 'http://127.0.0.1:4000/done'
    })
    endpoint.received.length = 0

    // Act
    const outcome = await runStripeCommand({ action: 'complete-checkout', sessionId: session.id, email: undefined }, target)
    const again = await rejection(runStripeCommand({ action: 'complete-checkout', sessionId: session.id, email: undefined }, target))
    const missing = await rejection(runStripeCommand({ action: 'complete-checkout', sessionId: 'cs_test_nope', email: undefined }, target))

    // Assess
    expect(outcome.lines).toEqual([
      `completed checkout ${session.id}: customer ${(await sdk.customers.list({ email: 'carol@acme.test' })).data[0]?.id}, ` +
        `subscription ${(await sdk.checkout.sessions.retrieve(session.id)).subscription as string}, status active; 3 webhooks delivered`
    ])
    expect(endpoint.received.map((r) => r.type)).toEqual(['customer.created', 'customer.subscription.created', 'checkout.session.completed'])
    expect(again.message).toMatch(/no longer open/)
    expect(missing.message).toBe('no Checkout Session cs_test_nope at the local stand-in (create one through the portal first)')
  })

  it('a webhook the stack refuses is a problem line and exit code 1, and values are printed printable', async () => {
    endpoint.status = 500
    // The stand-in also says so in the stack's output.
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    try {
      const outcome = await runStripeCommand({ action: 'subscribe', email: 'eve\u202e@acme.test', priceId: 'price_basic' }, target)
      expect(outcome.exitCode).toBe(1)
      expect(outcome.lines).toEqual([expect.stringMatching(/^subscribed eve\\u202E@acme\.test to price_basic: .*; 2 webhooks NOT delivered$/)])
      expect(outcome.problems).toEqual([
        expect.stringMatching(
          /^webhook customer\.created \(evt_\w+\) was not delivered to http:\/\/127\.0\.0\.1:\d+\/webhooks\/stripe: the endpoint answered 500$/
        ),
        expect.stringMatching(/^webhook customer\.subscription\.created \(evt_\w+\) was not delivered/)
      ])
      expect(warned.mock.calls.map(([message]) => String(message))).toEqual([
        expect.stringMatching(/^\[stripe stand-in\] webhook customer\.created \(evt_\w+\) not delivered: the endpoint answered 500$/),
        expect.stringMatching(/^\[stripe stand-in\] webhook customer\.subscription\.created .* not delivered/)
      ])
    } finally {
      warned.mockRestore()
      endpoint.status = 200
    }
  })

  it('a stand-in that does not answer says so', async () => {
    await stripe.standIn.setFault({ mode: 'unreachable' })
    try {
      const error = await rejection(runStripeCommand({ action: 'cancel', email: 'alice@acme.test' }, target))
      expect(error.exitCode).toBe(1)
      expect(error.message).toMatch(
        /^no answer from the Stripe stand-in at http:\/\/127\.0\.0\.1:\d+: \w+ \(is the stack still running\? If not, start it with APP_PAYMENT_PROVIDER=stripe npm start\)$/
      )
    } finally {
      await stripe.standIn.setFault({ mode: 'none' })
    }
  })
})

describe('npm run -s stripe (the command as npm runs it)', { timeout: 60_000 }, () => {
  it('a bad command line: the problem, the usage lines, exit code 2', async () => {
    const result = await runLocalCommand('src/local/stripe-cli.ts', ['subscribe', '--email', 'alice@acme.test'], {}, { stateDir, timeoutMs: 30_000 })
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(`stripe: subscribe needs --price\n${STRIPE_USAGE}\n`)
  })

  it('no running stack: one line saying how to start it, exit code 1', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'dpk-stripe-none-'))
    const result = await runLocalCommand(
      'src/local/stripe-cli.ts',
      ['cancel', '--email', 'alice@acme.test'],
      {},
      { stateDir: empty, timeoutMs: 30_000 }
    )
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(
      `stripe: no local stack is running with the state folder ${empty} (LOCAL_STATE_DIR): start it with APP_PAYMENT_PROVIDER=stripe npm start\n`
    )
  })

  it('drives the running stand-in found through PORT and LOCAL_STATE_DIR: one line on stdout', async () => {
    const result = await runLocalCommand(
      'src/local/stripe-cli.ts',
      ['subscribe', '--email', 'frank@acme.test', '--price', 'price_metered'],
      { PORT: String(endpoint.port) },
      { stateDir, timeoutMs: 30_000 }
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(
      /^subscribed frank@acme\.test to price_metered: customer cus_\w+, subscription sub_\w+, status active; 2 webhooks delivered\n$/
    )
  })
})
