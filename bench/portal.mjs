#!/usr/bin/env node
// The portal side: what billing adds to POST /create-key, and how long a
// portal route takes to answer when Stripe or Moesif is down.
//
//   node bench/portal.mjs          # the table on stdout, JSON in bench/.work/portal/results.json
//   node bench/portal.mjs --json   # the JSON on stdout instead
//
// create-key runs in process, as the handler's core does on Lambda, against
// real parts on loopback: the local identity provider's JWKS, dynalite (the
// key table) and, in stripe mode, the local Stripe stand-in through the real
// Stripe SDK (customer search cached after the first call, subscription read
// fresh on every call, as in production). The two modes run interleaved in
// rounds with a fresh company per call; the figure is the median of the
// per-round median differences (target: stripe mode adds at most 30 ms).
// Outage rows: the stand-in answering 503 and never answering (with
// STRIPE_TIMEOUT_MS=1000), and the Moesif management API never answering
// (MOESIF_MANAGEMENT_TIMEOUT_MS=1000): each must end as a JSON 503, bounded by
// the configured timeouts, never a hang.
//
// `runPortal({ log })` is exported for bench/run.mjs: its `target` has the
// shape of bench/lib/report.mjs' targets.
// Lambda runs nodejs22.x: the AWS SDK's Node 20 notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = '1'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const ROOT = resolve(import.meta.dirname, '..')
const OUT_DIR = join(ROOT, 'bench', '.work', 'portal')
const TARGET_ADDED_MS = 30
const ROUNDS = 9
const CALLS_PER_ROUND = 12
const OUTAGE_CALLS = 5

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

async function bundleEntry() {
  const outfile = join(OUT_DIR, 'portal.mjs')
  await build({
    stdin: {
      contents: [
        "export { createKey, createKeyDepsFromEnv } from './src/lib/portal/create-key'",
        "export { listPlans } from './src/lib/portal/plans'",
        "export { loadPlansDeps } from './src/lib/portal/portal-api-deps'",
        "export { Logger, setLogSink } from './src/lib/runtime/logger'",
        "export { startStripeStandIn } from './src/local/stripe/stand-in'",
        "export { generateIdentityProviderKeys, mintIdToken, startJwksServer, LOCAL_IDP_AUDIENCE, LOCAL_IDP_ISSUER } from './src/local/identity-provider'",
        "export { startLocalDynamoDb, ensureKeyTable } from './src/local/local-dynamodb'"
      ].join('\n'),
      resolveDir: ROOT,
      loader: 'ts',
      sourcefile: 'portal-bench-entry.ts'
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning'
  })
  return import(pathToFileURL(outfile).href)
}

/** An HTTP API v2 event for POST /create-key with a bearer ID token. */
function createKeyEvent(idToken) {
  const now = Date.now()
  return {
    version: '2.0',
    routeKey: 'POST /create-key',
    rawPath: '/create-key',
    rawQueryString: '',
    headers: { authorization: `Bearer ${idToken}`, 'content-type': 'application/json' },
    requestContext: {
      http: { method: 'POST', path: '/create-key', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: `bench-${now}`,
      routeKey: 'POST /create-key',
      stage: '$default',
      time: '',
      timeEpoch: now,
      accountId: '',
      apiId: '',
      domainName: '',
      domainPrefix: ''
    },
    body: '{}',
    isBase64Encoded: false
  }
}

/** A server on loopback that accepts connections and never answers (a hung dependency). */
async function hungServer() {
  const server = createServer(() => {})
  await new Promise((ready) => server.listen(0, '127.0.0.1', ready))
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => (server.closeAllConnections(), new Promise((done) => server.close(done))) }
}

async function timed(run) {
  const started = performance.now()
  const response = await run().catch((error) => ({ statusCode: error?.statusCode ?? 500, body: JSON.stringify({ code: error?.code }) }))
  return { ms: performance.now() - started, status: response.statusCode, code: JSON.parse(response.body ?? '{}').code }
}

export async function runPortal({ log = () => {} } = {}) {
  mkdirSync(OUT_DIR, { recursive: true })
  log('bundling the create-key core and the local stand-ins')
  const lib = await bundleEntry()
  lib.setLogSink(() => {})
  const logger = new lib.Logger({ service: 'bench', level: 'ERROR' })
  const idp = await lib.generateIdentityProviderKeys()
  const jwks = await lib.startJwksServer([idp.publicJwk])
  const db = await lib.startLocalDynamoDb()
  await lib.ensureKeyTable(db.endpoint, 'bench-keys')
  const stripe = await lib.startStripeStandIn()
  const hung = await hungServer()
  const base = {
    JWT_ALGORITHM: 'HS256',
    JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123456789',
    PORTAL_ISSUER: lib.LOCAL_IDP_ISSUER,
    PORTAL_AUDIENCE: lib.LOCAL_IDP_AUDIENCE,
    PORTAL_JWKS_URI: jwks.jwksUri,
    KEYS_TABLE: 'bench-keys',
    DYNAMODB_ENDPOINT: db.endpoint,
    AWS_REGION: 'local',
    MAX_ACTIVE_KEYS_PER_COMPANY: '10000'
  }
  const stripeEnv = { ...base, APP_PAYMENT_PROVIDER: 'stripe', STRIPE_API_KEY: stripe.apiKey, STRIPE_API_BASE: stripe.url, STRIPE_TIMEOUT_MS: '1000' }
  try {
    const deps = { none: await lib.createKeyDepsFromEnv(base, logger), stripe: await lib.createKeyDepsFromEnv(stripeEnv, logger) }
    let next = 0
    /** A fresh portal user (and, in stripe mode, a subscribed customer) per call: no cache helps the first lookup but one. */
    const user = async (mode) => {
      next += 1
      const email = `bench-${next}@acme.test`
      if (mode === 'stripe') {
        const outcome = await stripe.subscribe({ email, priceId: 'price_basic' })
        if (!outcome.ok) throw new Error('the stand-in refused to subscribe')
      }
      return lib.mintIdToken(idp, { sub: `auth0|bench-${next}`, email, org: `bench-${next}` })
    }
    const call = async (mode) => {
      const token = await user(mode)
      const result = await timed(() => lib.createKey(deps[mode], createKeyEvent(token)))
      if (result.status !== 201) throw new Error(`create-key (${mode}) answered ${result.status} ${result.code ?? ''}`)
      return result.ms
    }
    for (const mode of ['none', 'stripe', 'none', 'stripe']) await call(mode) // warm-up: imports, JWKS, SDK, connections
    const rounds = []
    for (let round = 0; round < ROUNDS; round += 1) {
      const samples = { none: [], stripe: [] }
      for (let i = 0; i < CALLS_PER_ROUND; i += 1) {
        for (const mode of i % 2 === 0 ? ['none', 'stripe'] : ['stripe', 'none']) samples[mode].push(await call(mode))
      }
      rounds.push({ none: median(samples.none), stripe: median(samples.stripe) })
      log(
        `round ${round + 1}/${ROUNDS}: create-key p50 ${rounds.at(-1).none.toFixed(1)} ms without billing, ${rounds.at(-1).stripe.toFixed(1)} ms with the stand-in`
      )
    }
    const added = median(rounds.map((r) => r.stripe - r.none))

    // Outages: each call must end as a JSON 503 within the configured timeouts.
    const outage = async (name, setup, run, teardown) => {
      await setup()
      const results = []
      try {
        for (let i = 0; i < OUTAGE_CALLS; i += 1) results.push(await run())
      } finally {
        await teardown()
      }
      const codes = [...new Set(results.map((r) => `${r.status} ${r.code}`))]
      log(`${name}: ${codes.join(', ')}, p50 ${median(results.map((r) => r.ms)).toFixed(0)} ms`)
      return { name, answers: codes, p50Ms: median(results.map((r) => r.ms)), maxMs: Math.max(...results.map((r) => r.ms)) }
    }
    const outages = [
      await outage(
        'create-key, Stripe answering 503',
        () => stripe.setFault({ mode: 'error', status: 503 }),
        async () => {
          const token = await lib.mintIdToken(idp, { sub: 'auth0|down', email: 'down@acme.test' })
          return timed(() => lib.createKey(deps.stripe, createKeyEvent(token)))
        },
        () => stripe.setFault({ mode: 'none' })
      ),
      await outage(
        'create-key, Stripe never answering (STRIPE_TIMEOUT_MS=1000)',
        () => stripe.setFault({ mode: 'hang' }),
        async () => {
          const token = await lib.mintIdToken(idp, { sub: 'auth0|hang', email: 'hang@acme.test' })
          return timed(() => lib.createKey(deps.stripe, createKeyEvent(token)))
        },
        () => stripe.setFault({ mode: 'none' })
      ),
      await outage(
        'GET /plans, Moesif never answering (MOESIF_MANAGEMENT_TIMEOUT_MS=1000)',
        async () => {},
        async () => {
          // A fresh container each time: the catalog is cached per container once fetched.
          const plansDeps = lib.loadPlansDeps({
            ...stripeEnv,
            MOESIF_MANAGEMENT_TOKEN: 'bench-token',
            MOESIF_MANAGEMENT_API_BASE: hung.url,
            MOESIF_MANAGEMENT_TIMEOUT_MS: '1000'
          })
          return timed(() => lib.listPlans(plansDeps))
        },
        async () => {}
      )
    ]
    const results = {
      createKey: { rounds, addedByStripeMs: added, targetAddedMs: TARGET_ADDED_MS },
      outages
    }
    const target = {
      measure: 'create-key: added by Stripe billing (stand-in on loopback, real SDK; customer search, fresh subscription read)',
      target: `≤ ${TARGET_ADDED_MS} ms at the median`,
      measured: `${added.toFixed(1)} ms (p50 ${median(rounds.map((r) => r.none)).toFixed(1)} ms without billing, ${median(rounds.map((r) => r.stripe)).toFixed(1)} ms with; median of ${ROUNDS} rounds)`,
      holds: added <= TARGET_ADDED_MS
    }
    const outageTargets = outages.map((o) => ({
      measure: `Outage: ${o.name}`,
      target: 'JSON 5xx, bounded by the configured timeouts, never a hang',
      measured: `${o.answers.join(', ')}: p50 ${o.p50Ms.toFixed(0)} ms, max ${o.maxMs.toFixed(0)} ms`,
      holds: o.answers.every((answer) => /^50[23] ERR_/.test(answer))
    }))
    return { results, target, outageTargets }
  } finally {
    await Promise.allSettled([stripe.close(), jwks.close(), db.close(), hung.close()])
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const json = process.argv.includes('--json')
  const { results, target, outageTargets } = await runPortal({ log: (line) => process.stderr.write(`[portal] ${line}\n`) })
  writeFileSync(join(OUT_DIR, 'results.json'), JSON.stringify(results, null, 2) + '\n')
  if (json) {
    process.stdout.write(JSON.stringify(results, null, 2) + '\n')
  } else {
    const rows = ['| Measure | Target | Measured | Holds |', '|---|---|---|---|']
    for (const t of [target, ...outageTargets]) rows.push(`| ${t.measure} | ${t.target} | ${t.measured} | ${t.holds ? 'yes' : 'no'} |`)
    process.stdout.write(rows.join('\n') + '\n')
  }
  process.exit(0)
}
