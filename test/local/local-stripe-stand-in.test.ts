/**
 * The Stripe stand-in as `APP_PAYMENT_PROVIDER=stripe npm start` runs it
 * (src/local/local-stripe-stand-in.ts): its settings in the stack's
 * environment, one `[local]` line, and no webhook lost while the stack starts.
 */
import { existsSync, mkdtempSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Stripe from 'stripe'
import { afterEach, describe, expect, it } from 'vitest'
import { startStackStandIn, startStripeForStack, type StackStandIn } from '../../src/local/local-stripe-stand-in'

/** A webhook endpoint that checks each delivery's signature with the official SDK, as the stack does. */
interface Receiver {
  readonly url: string
  readonly received: { id: string; type: string; signed: boolean }[]
  setSecret(secret: string): void
  close(): Promise<void>
}

async function startReceiver(): Promise<Receiver> {
  const stripe = new Stripe('sk_test_receiver0000')
  const received: Receiver['received'] = []
  let secret = ''
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      let signed = true
      try {
        stripe.webhooks.constructEvent(body, String(req.headers['stripe-signature']), secret, 300)
      } catch {
        signed = false
      }
      const event = JSON.parse(body.toString('utf8')) as { id: string; type: string }
      received.push({ id: event.id, type: event.type, signed })
      res.writeHead(signed ? 200 : 400).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    received,
    setSecret: (value) => (secret = value),
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function receiver(): Promise<Receiver> {
  const started = await startReceiver()
  cleanups.push(() => started.close())
  return started
}

function track<T extends { close(): Promise<void> }>(started: T): T {
  cleanups.push(() => started.close())
  return started
}

const stateDir = (): string => mkdtempSync(join(tmpdir(), 'dpk-stripe-stack-'))

describe('startStackStandIn', () => {
  it('holds the events made before the stack listens, then delivers them signed, in order, once, before any later one', async () => {
    // Prepare: the endpoint already answers, but the stack is "not listening" yet.
    const endpoint = await receiver()
    const messages: string[] = []
    const stripe: StackStandIn = track(
      await startStackStandIn({ statePath: join(stateDir(), 'stripe.json'), webhookUrl: endpoint.url, say: (m) => messages.push(m) })
    )
    endpoint.setSecret(stripe.env.STRIPE_WEBHOOK_SECRET)

    // Act
    const early = await stripe.standIn.subscribe({ email: 'early@acme.test', priceId: 'price_basic' })
    const heldBefore = stripe.held()
    const deliveredBefore = endpoint.received.length
    stripe.stackListening()
    stripe.stackListening()
    const late = await stripe.standIn.cancel({ email: 'early@acme.test' })
    await stripe.standIn.settled()

    // Assess
    if (!early.ok || !late.ok) throw new Error('the stand-in refused')
    expect(early.value.deliveries).toEqual([])
    expect(heldBefore).toBe(2)
    expect(deliveredBefore).toBe(0)
    expect(stripe.held()).toBe(0)
    expect(endpoint.received).toEqual([
      { id: early.value.events[0]?.id, type: 'customer.created', signed: true },
      { id: early.value.events[1]?.id, type: 'customer.subscription.created', signed: true },
      { id: late.value.events[0]?.id, type: 'customer.subscription.deleted', signed: true }
    ])
    expect(late.value.deliveries.map((delivery) => delivery.ok)).toEqual([true])
    expect(messages).toEqual([`stripe: sending 2 webhook(s) made while the stack was starting to ${endpoint.url}`])
  })

  it('says nothing when no event waited, and points the stack at the stand-in with its own key and secret', async () => {
    const messages: string[] = []
    const stripe = track(
      await startStackStandIn({ statePath: join(stateDir(), 'stripe.json'), webhookUrl: 'http://127.0.0.1:9/x', say: (m) => messages.push(m) })
    )
    stripe.stackListening()
    expect(messages).toEqual([])
    expect(stripe.env).toEqual({
      STRIPE_API_BASE: stripe.standIn.url,
      STRIPE_API_KEY: expect.stringMatching(/^sk_test_/),
      STRIPE_WEBHOOK_SECRET: expect.stringMatching(/^whsec_/)
    })
    expect(stripe.standIn.webhookUrl).toBe('http://127.0.0.1:9/x')
  })
})

describe('startStripeForStack', () => {
  it('with the stand-in plan: starts it on <state>/stripe.json, fills the environment, blanks what it replaces, prints one line', async () => {
    // Prepare
    const dir = stateDir()
    const env: NodeJS.ProcessEnv = { STRIPE_API_KEY: 'sk_test_fromdotenv00', STRIPE_API_KEY_SSM_PARAMETER: '/x/stripe-key' }
    const lines: string[] = []

    // Act
    const started = await startStripeForStack(
      { kind: 'stand-in', ignored: ['STRIPE_API_KEY', 'STRIPE_API_KEY_SSM_PARAMETER'] },
      { stateDir: dir, stackUrl: 'http://127.0.0.1:3999', say: (m) => lines.push(m), env }
    )
    if (started === undefined || !('standIn' in started)) throw new Error('no stand-in started')
    track(started)

    // Assess
    expect(existsSync(join(dir, 'stripe.json'))).toBe(true)
    expect(env).toEqual({ ...started.env, STRIPE_API_KEY_SSM_PARAMETER: '' })
    expect(env.STRIPE_API_KEY).not.toBe('sk_test_fromdotenv00')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^warning: STRIPE_API_KEY, STRIPE_API_KEY_SSM_PARAMETER ignored: without STRIPE_API_BASE/)
    expect(lines[1]).toContain(`stripe mode: on; the local Stripe stand-in listens at ${started.standIn.url}`)
    expect(lines[1]).toContain(join(dir, 'stripe.json'))
    expect(lines[1]).toContain('http://127.0.0.1:3999/webhooks/stripe')
    expect(lines[1]).not.toContain(started.env.STRIPE_API_KEY)
  })

  it('against another Stripe: starts nothing, changes nothing, says where webhooks must go', async () => {
    const env: NodeJS.ProcessEnv = { STRIPE_API_BASE: 'https://api.stripe.com' }
    const lines: string[] = []
    const started = await startStripeForStack(
      { kind: 'external', apiBase: 'https://api.stripe.com' },
      { stateDir: stateDir(), stackUrl: 'http://127.0.0.1:3999', say: (m) => lines.push(m), env }
    )
    expect(started).toBeDefined()
    expect(started && 'standIn' in started).toBe(false)
    expect(env).toEqual({ STRIPE_API_BASE: 'https://api.stripe.com' })
    expect(lines).toEqual([
      expect.stringMatching(
        /^stripe mode: on, against https:\/\/api\.stripe\.com .*stripe listen --forward-to http:\/\/127\.0\.0\.1:3999\/webhooks\/stripe$/
      )
    ])
  })

  it('outside stripe mode: nothing at all', async () => {
    const lines: string[] = []
    const env: NodeJS.ProcessEnv = {}
    expect(
      await startStripeForStack({ kind: 'off' }, { stateDir: stateDir(), stackUrl: 'http://127.0.0.1:3999', say: (m) => lines.push(m), env })
    ).toBeUndefined()
    expect(lines).toEqual([])
    expect(env).toEqual({})
  })
})
