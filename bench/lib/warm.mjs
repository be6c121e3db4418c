// Warm authorizer throughput and latency: ours (packaged), the baseline and
// the floor (bundled like ours, called with the same events), each in its own
// long-lived child (one per configuration, as a Lambda container is), driven
// in interleaved rounds so every case sees the same machine noise. Only one
// child runs at a time.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BenchChild, lambdaBaseEnv } from './child.mjs'
import { median, quantile, seededRandom, shuffled } from './stats.mjs'
import { ALGORITHMS, BASELINE_ALGORITHMS, KID, apiKeyClaims, generateKeyMaterial, signToken, tamperSignature } from './tokens.mjs'

/** Invocations per batch, sized so a batch of ours takes roughly 50-100 ms. */
export const BATCH = { HS256: 2000, RS256: 1000, ES256: 600, EdDSA: 500 }
const INVALID_POOL = 500
/** Keys a revocation-enabled container keeps seeing (cycled); each is looked up once, then served from the cache. */
const REVOCATION_POOL = 256
/** Invocations per batch of revocation cache misses (each one a lookup against dynalite), for every algorithm. */
export const MISS_BATCH = 50
const batchOf = (alg, kind) => (kind === 'miss' ? MISS_BATCH : BATCH[alg])

function writeTokens(work, alg, rounds, log) {
  const started = performance.now()
  const material = generateKeyMaterial(alg)
  const now = Math.floor(Date.now() / 1000)
  const n = BATCH[alg]
  let i = 0
  const next = () => signToken(material, apiKeyClaims(i++, now))
  // A fresh slice of distinct tokens per round (slice 0 is the warm-up), so no child ever sees one twice.
  const distinct = Array.from({ length: (rounds + 1) * n }, next)
  const pool = Array.from({ length: REVOCATION_POOL }, next)
  const invalid = Array.from({ length: Math.min(n, INVALID_POOL) }, () => tamperSignature(next()))
  const file = join(work, `tokens-${alg}.json`)
  writeFileSync(file, JSON.stringify({ alg, verifyKey: material.verifyKey, same: next(), distinct, pool, invalid }))
  log(`${alg}: ${i} tokens signed in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  return { file, material }
}

function oursEnv(alg, material, extra) {
  return lambdaBaseEnv('dev-portal-keys-prod-authorizer', {
    // What serverless.yml deploys to every function.
    NODE_OPTIONS: '--enable-source-maps',
    JWT_ALGORITHM: alg,
    JWT_KID: KID,
    ...(alg === 'HS256' ? { JWT_SECRET: material.secret } : { JWT_VERIFY_KEY: material.verifyKey }),
    LOG_LEVEL: 'INFO',
    ...extra
  })
}

/**
 * @returns the per-case rounds, ratios and pooled latency quantiles.
 */
export async function runWarm({ work, script, handlers, dynamo, log, maxRounds, minRounds, deadline }) {
  const tokenFiles = {}
  for (const alg of ALGORITHMS) tokenFiles[alg] = writeTokens(work, alg, maxRounds, log)

  // Configurations: one child each.
  const configs = []
  for (const alg of ALGORITHMS) {
    const { file, material } = tokenFiles[alg]
    const common = { BENCH_ALG: alg, BENCH_TOKENS: file }
    configs.push({
      key: `ours:${alg}`,
      impl: 'ours',
      alg,
      kinds: ['distinct', 'same', 'invalid'],
      env: { ...oursEnv(alg, material), ...common, BENCH_IMPL: 'ours', BENCH_HANDLER: handlers.authorizer }
    })
    configs.push({
      key: `ours-warn:${alg}`,
      impl: 'ours-warn',
      alg,
      kinds: ['distinct', 'same', 'invalid'],
      env: { ...oursEnv(alg, material, { LOG_LEVEL: 'WARN' }), ...common, BENCH_IMPL: 'ours', BENCH_HANDLER: handlers.authorizer }
    })
    configs.push({
      key: `ours-revocation:${alg}`,
      impl: 'ours-revocation',
      alg,
      kinds: ['pool', 'same', 'miss'],
      env: {
        ...oursEnv(alg, material, {
          KEYS_TABLE: dynamo.table,
          DYNAMODB_ENDPOINT: dynamo.endpoint,
          REVOCATION_CACHE_TTL: '30',
          REVOCATION_STALE_TTL: '300'
        }),
        ...common,
        BENCH_IMPL: 'ours',
        BENCH_HANDLER: handlers.authorizer,
        BENCH_WARM_PASS: '1'
      }
    })
    configs.push({
      key: `floor:${alg}`,
      impl: 'floor',
      alg,
      kinds: ['distinct', 'same', 'invalid'],
      env: {
        ...lambdaBaseEnv('floor', { JWT_ALGORITHM: alg, JWT_VERIFY_KEY: material.verifyKey }),
        ...common,
        BENCH_IMPL: 'floor',
        BENCH_HANDLER: handlers.floor
      }
    })
    if (BASELINE_ALGORITHMS.has(alg)) {
      configs.push({
        key: `baseline:${alg}`,
        impl: 'baseline',
        alg,
        kinds: ['distinct', 'same', 'invalid'],
        env: {
          ...lambdaBaseEnv('reference-authorizer', { JWT_VERIFY_KEY: material.verifyKey }),
          ...common,
          BENCH_IMPL: 'baseline',
          BENCH_HANDLER: handlers.baseline
        }
      })
    }
  }

  const children = new Map()
  try {
    // Start two at a time: it is CPU-bound and the machine has two cores.
    for (let i = 0; i < configs.length; i += 2) {
      const batch = configs.slice(i, i + 2)
      for (const config of batch) children.set(config.key, new BenchChild(script, config.env, config.key))
      for (const config of batch) {
        const { sanity } = await children.get(config.key).ready()
        const bad = Object.entries(sanity).filter(([, ok]) => ok !== true)
        if (bad.length > 0) throw new Error(`${config.key}: sanity check failed: ${JSON.stringify(sanity)}`)
        config.sanity = sanity
      }
    }
    log(`${children.size} warm containers ready`)

    const cases = configs.flatMap((config) => config.kinds.map((kind) => ({ id: `${config.key}:${kind}`, config, kind })))
    const results = new Map(cases.map((c) => [c.id, []]))
    const run = async (c, slice, record) => {
      const n = batchOf(c.config.alg, c.kind)
      const result = await children.get(c.config.key).request({ type: 'run', kind: c.kind, slice, n, record })
      const expected = c.kind === 'invalid' ? 0 : n
      if (result.allowed !== expected) throw new Error(`${c.id}: ${result.allowed}/${n} allowed, expected ${expected}`)
      return result
    }

    const random = seededRandom(20261128)
    const started = performance.now()
    // Whatever signing the tokens and starting the containers took, the rounds stop in time for the deadline.
    const budgetMs = Math.max(60_000, deadline - started)
    log(`budget ${(budgetMs / 1000).toFixed(0)} s for the rounds`)
    for (const c of shuffled(cases, random)) await run(c, 0, false) // JIT warm-up, discarded
    log(`warm-up round done in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    let rounds = 0
    for (let round = 1; round <= maxRounds; round++) {
      const roundStarted = performance.now()
      for (const c of shuffled(cases, random)) results.get(c.id).push(await run(c, round, true))
      rounds = round
      const elapsed = performance.now() - started
      log(`round ${round}/${maxRounds} done in ${((performance.now() - roundStarted) / 1000).toFixed(1)} s`)
      if (round >= minRounds && elapsed + elapsed / (round + 1) > budgetMs) {
        log(`stopping after ${round} rounds to stay within the time budget`)
        break
      }
    }

    const pooledByConfig = new Map()
    for (const [key, child] of children) pooledByConfig.set(key, (await child.request({ type: 'summary' })).summary)

    const rows = cases.map((c) => {
      const list = results.get(c.id)
      const pooled = pooledByConfig.get(c.config.key)[c.kind]
      return {
        id: c.id,
        impl: c.config.impl,
        alg: c.config.alg,
        kind: c.kind,
        batch: batchOf(c.config.alg, c.kind),
        rounds: list.length,
        opsPerSec: median(list.map((r) => r.opsPerSec)),
        opsPerSecByRound: list.map((r) => Math.round(r.opsPerSec)),
        p50Us: median(list.map((r) => r.p50)),
        p99UsMedianOfRounds: median(list.map((r) => r.p99)),
        p99UsBestRound: Math.min(...list.map((r) => r.p99)),
        p99UsByRound: list.map((r) => Math.round(r.p99)),
        preemptionsPer1000Calls: median(list.map((r) => (r.preempted / r.n) * 1000)),
        p99UsPooled: pooled.p99,
        p999UsPooled: pooled.p999,
        maxUs: pooled.max
      }
    })
    const byId = new Map(rows.map((r) => [r.id, r]))
    const summarize = (per) => ({
      median: median(per),
      min: Math.min(...per),
      max: Math.max(...per),
      q25: quantile(per, 0.25),
      q75: quantile(per, 0.75)
    })
    // Per-round ratios of two cases (rounds are aligned: every case runs once per round).
    const perRound = (a, b, f) => {
      const ra = results.get(a)
      const rb = results.get(b)
      if (ra === undefined || rb === undefined) return undefined
      return summarize(ra.map((r, i) => f(r, rb[i])))
    }
    // Throughput ratio (higher is faster), and time ratio (time per call ÷ the other's; ≤ 1.3× is the floor target).
    const ratio = (a, b) => perRound(a, b, (x, y) => x.opsPerSec / y.opsPerSec)
    const timeRatio = (a, b) => perRound(a, b, (x, y) => y.opsPerSec / x.opsPerSec)
    // Median-call ratio: what a call costs when neither the machine nor a GC pause interrupts it.
    const p50Ratio = (a, b) => perRound(a, b, (x, y) => x.p50 / y.p50)
    for (const row of rows) {
      if (row.impl === 'floor' || row.impl === 'baseline' || row.kind === 'miss') continue
      const kindForOthers = row.kind === 'pool' ? 'distinct' : row.kind
      row.vsBaseline = ratio(row.id, `baseline:${row.alg}:${kindForOthers}`)
      row.vsFloor = ratio(row.id, `floor:${row.alg}:${kindForOthers}`)
      row.timeVsFloor = timeRatio(row.id, `floor:${row.alg}:${kindForOthers}`)
      row.p50VsFloor = p50Ratio(row.id, `floor:${row.alg}:${kindForOthers}`)
      if (row.impl !== 'ours') row.vsOursInfo = ratio(row.id, `ours:${row.alg}:${kindForOthers}`)
    }
    for (const row of rows) {
      if (row.impl !== 'baseline') continue
      row.vsFloor = ratio(row.id, `floor:${row.alg}:${row.kind}`)
      row.timeVsFloor = timeRatio(row.id, `floor:${row.alg}:${row.kind}`)
      row.p50VsFloor = p50Ratio(row.id, `floor:${row.alg}:${row.kind}`)
    }
    // Revocation on the hot path, per algorithm, across processes (the in-process measure of a hit is
    // bench/revocation-child.mjs): the time per call with the key table and a warm cache minus the time
    // per call without a table, in the same round (256 keys cycled vs distinct keys, and the same token
    // repeated on both sides), from throughput and from the median call. A miss: the latency of a call
    // whose key the container has not seen, i.e. one lookup against the parent's dynalite.
    const usPerCall = (r) => 1e6 / r.opsPerSec
    const revocation = {}
    for (const alg of ALGORITHMS) {
      const miss = results.get(`ours-revocation:${alg}:miss`)
      const plain = results.get(`ours:${alg}:distinct`)
      revocation[alg] = {
        hitAddedUs: perRound(`ours-revocation:${alg}:pool`, `ours:${alg}:distinct`, (x, y) => usPerCall(x) - usPerCall(y)),
        hitAddedUsSameToken: perRound(`ours-revocation:${alg}:same`, `ours:${alg}:same`, (x, y) => usPerCall(x) - usPerCall(y)),
        hitAddedP50Us: perRound(`ours-revocation:${alg}:pool`, `ours:${alg}:distinct`, (x, y) => x.p50 - y.p50),
        missP50Ms: summarize(miss.map((r) => r.p50 / 1000)),
        missP99Ms: summarize(miss.map((r) => r.p99 / 1000)),
        missAddedP50Ms: summarize(miss.map((r, i) => (r.p50 - plain[i].p50) / 1000)),
        missBatch: MISS_BATCH
      }
    }
    return { rounds, batch: BATCH, missBatch: MISS_BATCH, rows, byId, revocation, sanity: Object.fromEntries(configs.map((c) => [c.key, c.sanity])) }
  } finally {
    await Promise.all([...children.values()].map((child) => child.close()))
  }
}
