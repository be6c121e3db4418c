// Moesif overhead: the packaged whoami with and without Moesif, against a
// local collector that is healthy, refusing connections, or hanging.
import { BenchChild, lambdaBaseEnv } from './child.mjs'
import { quantile } from './stats.mjs'

const MODES = [
  { mode: 'healthy', calls: 200, warmup: 10 },
  { mode: 'refused', calls: 200, warmup: 10 },
  // Each call waits MOESIF_MAX_WAIT_MS here, so fewer of them.
  { mode: 'hang', calls: 40, warmup: 3 }
]

export async function runMoesif({ script, handler, collectorModule, log, maxWaitMs = 100 }) {
  const { startMoesifCollector, closedPortBaseUri } = await import(collectorModule)
  const rows = []
  for (const { mode, calls, warmup } of MODES) {
    const collector = mode === 'refused' ? undefined : await startMoesifCollector({ mode })
    const baseUri = collector?.baseUri ?? (await closedPortBaseUri())
    const child = new BenchChild(
      script,
      lambdaBaseEnv('dev-portal-keys-prod-whoami', {
        NODE_OPTIONS: '--enable-source-maps',
        LOG_LEVEL: 'INFO',
        MOESIF_BASE_URI: baseUri,
        MOESIF_MAX_WAIT_MS: String(maxWaitMs),
        BENCH_MOESIF_APPLICATION_ID: 'bench-application-id',
        BENCH_HANDLER: handler,
        BENCH_CALLS: String(calls),
        BENCH_WARMUP: String(warmup)
      }),
      `moesif:${mode}`
    )
    try {
      const started = performance.now()
      const { onMs, offMs, addedMs, sent } = await child.ready(120_000)
      let received
      if (mode === 'healthy') {
        // Sends that outlived their call finish in the background; give them a moment.
        await collector.waitForEvents(sent, 5_000).catch(() => {})
        received = collector.events.length
      }
      const row = {
        mode,
        calls: addedMs.length,
        addedP50Ms: quantile(addedMs, 0.5),
        addedP99Ms: quantile(addedMs, 0.99),
        addedMaxMs: Math.max(...addedMs),
        onP50Ms: quantile(onMs, 0.5),
        onP99Ms: quantile(onMs, 0.99),
        offP50Ms: quantile(offMs, 0.5),
        offP99Ms: quantile(offMs, 0.99),
        eventsSent: sent,
        eventsReceived: received,
        malformedPayloads: collector?.malformedPayloads
      }
      rows.push(row)
      log(
        `${mode}: ${calls} pairs in ${((performance.now() - started) / 1000).toFixed(1)} s, added p50 ${row.addedP50Ms.toFixed(2)} ms, p99 ${row.addedP99Ms.toFixed(2)} ms`
      )
    } finally {
      await child.close()
      await collector?.close()
    }
  }
  return { maxWaitMs, rows }
}
