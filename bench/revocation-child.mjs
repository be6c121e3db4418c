// The cost of a revocation cache hit, measured inside one process, in
// interleaved batches: the authorizer's decision (authorizeApiKey, HS256) for
// keys whose revocation answer is cached, against the same decision without a
// revocation check, on the same tokens (both verify every token in full, so
// the difference is what the hit adds); and the check alone on cached answers,
// against the same loop without it. The check is the real one
// (revocationCheckFromEnv on the parent's dynalite); every key is looked up
// once, untimed, first.
import { writeSync } from 'node:fs'
import { createRequire } from 'node:module'
import { median, quantile } from './lib/stats.mjs'
import { KID, apiKeyClaims, generateKeyMaterial, signToken } from './lib/tokens.mjs'

const require = createRequire(import.meta.url)
const probe = require(process.env.BENCH_PROBE)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30)
const POOL = 256
const BATCH = 2000

/** CPU time of this process so far, in µs (getrusage brings the calling thread's count up to date first). */
function cpuUs() {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}

const logger = new probe.Logger({ service: 'revocation-probe', level: 'ERROR' })
const isRevoked = await probe.revocationCheckFromEnv(
  {
    KEYS_TABLE: process.env.KEYS_TABLE,
    DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT,
    AWS_REGION: 'us-east-1',
    // Long enough that no answer goes stale while the probe runs: every timed check is a hit.
    REVOCATION_CACHE_TTL: '3600',
    REVOCATION_STALE_TTL: '3600'
  },
  logger
)

const summary = (values) => ({
  median: median(values),
  min: Math.min(...values),
  max: Math.max(...values),
  q25: quantile(values, 0.25),
  q75: quantile(values, 0.75)
})

// HS256: the cheapest verification, so the least noise around what a hit adds.
const material = generateKeyMaterial('HS256')
const config = probe.loadApiKeyConfig({ JWT_ALGORITHM: 'HS256', JWT_KID: KID, JWT_SECRET: material.secret }, 'verify')
const now = Math.floor(Date.now() / 1000)
const pool = Array.from({ length: POOL }, (_, i) => signToken(material, apiKeyClaims(i, now)))
const tokens = Array.from({ length: BATCH }, (_, i) => pool[i % POOL])
// Untimed: one lookup per key fills the cache; the identities are what the check is asked about.
const identities = []
for (const token of pool) {
  const decision = await probe.authorizeApiKey(token, { config, nowSeconds: now, isRevoked })
  if (!decision.valid) throw new Error(`revocation probe: key denied (${decision.reason})`)
  identities.push(decision.identity)
}
const checks = Array.from({ length: BATCH }, (_, i) => identities[i % POOL])

const latencies = new Float64Array(BATCH)

/** CPU and wall µs per call of `body(i)` over a batch, and the median call. */
async function timed(body) {
  const cpu0 = cpuUs()
  const t0 = performance.now()
  for (let i = 0; i < BATCH; i++) {
    const started = performance.now()
    await body(i)
    latencies[i] = (performance.now() - started) * 1000
  }
  return { cpu: (cpuUs() - cpu0) / BATCH, wall: ((performance.now() - t0) * 1000) / BATCH, p50: quantile(latencies, 0.5) }
}

const cases = {
  // As the handler does: a decision made without the store is used as it is, a promise is waited for.
  plain: async (i) => {
    const decision = probe.authorizeApiKey(tokens[i], { config, nowSeconds: now })
    if (!(decision instanceof Promise ? await decision : decision).valid) throw new Error('revocation probe: denied')
  },
  cached: async (i) => {
    const decision = probe.authorizeApiKey(tokens[i], { config, nowSeconds: now, isRevoked })
    if (!(decision instanceof Promise ? await decision : decision).valid) throw new Error('revocation probe: denied')
  },
  // The check alone, on a cached answer, against the same loop without it.
  check: async (i) => {
    const answer = isRevoked(checks[i], now)
    if ((answer instanceof Promise ? await answer : answer) !== undefined) throw new Error('revocation probe: revoked')
  },
  loop: async (i) => {
    if (checks[i] === undefined) throw new Error('revocation probe: no identity')
  }
}
const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, { cpu: [], wall: [], p50: [] }]))
for (let round = -2; round < ROUNDS; round++) {
  const names = Object.keys(cases)
  for (const name of round % 2 === 0 ? names : names.reverse()) {
    const timing = await timed(cases[name])
    if (round >= 0) for (const field of ['cpu', 'wall', 'p50']) samples[name][field].push(timing[field])
  }
}
const diff = (a, b, field) => samples[a][field].map((value, i) => value - samples[b][field][i])
const results = {
  alg: 'HS256',
  batch: BATCH,
  rounds: ROUNDS,
  decisionCpuUs: median(samples.plain.cpu),
  hitCpuUs: summary(diff('cached', 'plain', 'cpu')),
  hitWallUs: summary(diff('cached', 'plain', 'wall')),
  hitP50Us: summary(diff('cached', 'plain', 'p50')),
  checkCpuUs: summary(diff('check', 'loop', 'cpu')),
  checkWallUs: summary(diff('check', 'loop', 'wall')),
  checkP50Us: summary(diff('check', 'loop', 'p50'))
}
// fd 3 is a pipe to the parent.
writeSync(3, JSON.stringify(results))
process.exit(0)
