#!/usr/bin/env node
// `npm run bench`: packages the service, builds the baseline, then measures
// warm throughput and latency, cold starts and Moesif overhead, interleaved
// in rounds so the ratios hold on a shared, noisy machine. Progress goes to
// stderr, the markdown tables to stdout, everything to bench/results.json.
// See bench/README.md for what each figure means.
import { writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { runCold } from './lib/cold.mjs'
import { runMoesif } from './lib/moesif.mjs'
import { runRevocationProbe } from './lib/revocation.mjs'
import { ROOT, WORK, prepare } from './lib/prepare.mjs'
import { renderReport, evaluateTargets } from './lib/report.mjs'
import { runWarm } from './lib/warm.mjs'
import { runGovernance } from './governance.mjs'
import { runPortal } from './portal.mjs'

// The parent's own DynamoDB client (creating the table) would warn on Node < 22; Lambda runs 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const BUDGET_MS = 285_000 // the whole run stays under 5 minutes
const startedAt = new Date()
const started = performance.now()
const elapsed = () => ((performance.now() - started) / 1000).toFixed(1)
const logger = (phase) => (message) => console.error(`[bench ${elapsed().padStart(5)} s] ${phase}: ${message}`)

const machine = {
  node: process.version,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  platform: `${process.platform}-${process.arch}`,
  date: startedAt.toISOString(),
  loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100)
}
logger('machine')(`${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}`)

const prepared = await prepare(logger('prepare'))
const { startLocalDynamoDb, ensureKeyTable } = await import(prepared.helpers.localDynamoDb)
const { startMoesifCollector } = await import(prepared.helpers.moesifCollector)

const db = await startLocalDynamoDb()
const dynamo = { endpoint: db.endpoint, table: 'dev-portal-keys-bench-keys' }
let warm, revocationProbe, cold, moesif, governance, portal
try {
  await ensureKeyTable(dynamo.endpoint, dynamo.table)

  const warmLog = logger('warm')
  // The warm rounds may run until 115 s before the budget ends: the cache-hit probe, the cold starts, Moesif,
  // governance and the portal rows take about 85 s.
  const warmDeadline = started + BUDGET_MS - 115_000
  warm = await runWarm({
    work: WORK,
    script: join(ROOT, 'bench', 'warm-child.mjs'),
    handlers: { authorizer: prepared.handlers.authorizer, baseline: prepared.baselineHandler, floor: prepared.floorHandler },
    dynamo,
    log: warmLog,
    maxRounds: 21,
    minRounds: 7,
    deadline: warmDeadline
  })

  revocationProbe = await runRevocationProbe({
    script: join(ROOT, 'bench', 'revocation-child.mjs'),
    probe: prepared.revocationProbe,
    dynamo,
    log: logger('revocation')
  })

  const collector = await startMoesifCollector({ mode: 'healthy' })
  try {
    cold = await runCold({ script: join(ROOT, 'bench', 'cold-child.mjs'), prepared, dynamo, collector, log: logger('cold'), rounds: 30 })
  } finally {
    await collector.close()
  }

  moesif = await runMoesif({
    script: join(ROOT, 'bench', 'moesif-child.mjs'),
    handler: prepared.handlers.whoami,
    collectorModule: prepared.helpers.moesifCollector,
    log: logger('moesif')
  })

  // Moesif governance rules per call, and what billing adds to create-key (each about 10 s).
  governance = await runGovernance({ log: logger('governance') })
  portal = await runPortal({ log: logger('portal') })
} finally {
  await db.close()
}

machine.loadAverageAtEnd = loadavg().map((l) => Math.round(l * 100) / 100)
const durationSeconds = Math.round((performance.now() - started) / 100) / 10
const sizes = { zips: prepared.zips, ourAuthorizerRezipped: prepared.ourAuthorizerRezipped, bundleBytes: prepared.bundleBytes }
const targets = [...evaluateTargets({ sizes, warm, revocationProbe, cold, moesif }), governance.target, portal.target, ...portal.outageTargets]
const results = {
  machine,
  durationSeconds,
  sizes,
  warm: { rounds: warm.rounds, batch: warm.batch, missBatch: warm.missBatch, sanity: warm.sanity, rows: warm.rows, revocation: warm.revocation },
  revocationProbe,
  cold,
  moesif,
  governance,
  portal: portal.results,
  targets
}
writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`)
process.stdout.write(renderReport(results))
logger('done')(`total ${durationSeconds} s; wrote bench/results.json`)
