// One warm Lambda container: loads a handler once (ours from the packaged
// zip, the baseline bundle, or the floor verifier bundled like ours), then
// runs the batches the parent asks for over IPC and reports throughput and
// per-invocation latency. Its stdout (the handlers' log lines) goes to
// /dev/null, as the parent spawns it.
import { readFileSync } from 'node:fs'
import { loadHandler } from './lib/load-handler.mjs'
import { httpApiAuthorizerEvent, lambdaContext, restTokenEvent } from './lib/tokens.mjs'
import { quantile } from './lib/stats.mjs'

const impl = process.env.BENCH_IMPL
const warmPass = process.env.BENCH_WARM_PASS === '1'
const tokens = JSON.parse(readFileSync(process.env.BENCH_TOKENS, 'utf8'))
const functionName = impl === 'baseline' ? 'reference-authorizer' : 'dev-portal-keys-prod-authorizer'

let invoke // (prepared) => Promise<boolean> | boolean : true when allowed
let prepare // (token, n) => what invoke takes

if (impl === 'ours' || impl === 'floor') {
  // The floor is called exactly like ours: the same HTTP API event and context, the same await.
  const handler = await loadHandler(process.env.BENCH_HANDLER)
  prepare = (token, n) => ({ event: httpApiAuthorizerEvent(token, n), context: lambdaContext(functionName, n) })
  invoke = async ({ event, context }) => (await handler(event, context)).isAuthorized === true
} else if (impl === 'baseline') {
  const handler = await loadHandler(process.env.BENCH_HANDLER)
  prepare = (token, n) => ({ event: restTokenEvent(token), context: lambdaContext(functionName, n) })
  invoke = ({ event, context }) =>
    new Promise((resolve) => {
      handler(event, context, (error, result) => resolve(error == null && result?.policyDocument?.Statement?.[0]?.Effect === 'Allow'))
    })
} else {
  throw new Error(`unknown BENCH_IMPL ${impl}`)
}

let sequence = 0
function tokensFor(kind, slice, n) {
  switch (kind) {
    // 'miss': revocation cache misses, keys this container has never seen (the revocation container runs no 'distinct' batch).
    case 'distinct':
    case 'miss': {
      const list = tokens.distinct.slice(slice * n, slice * n + n)
      if (list.length < n) throw new Error(`not enough distinct tokens for slice ${slice}`)
      return list
    }
    case 'same':
      return new Array(n).fill(tokens.same)
    case 'invalid':
      return Array.from({ length: n }, (_, i) => tokens.invalid[i % tokens.invalid.length])
    case 'pool':
      return Array.from({ length: n }, (_, i) => tokens.pool[i % tokens.pool.length])
    default:
      throw new Error(`unknown token kind ${kind}`)
  }
}

/**
 * The main (JavaScript) thread's involuntary context switches. On Linux
 * /proc/self/status counts that thread alone; elsewhere fall back to the whole
 * process (which also counts V8's GC and compiler threads).
 */
function mainThreadPreemptions() {
  try {
    return Number(/nonvoluntary_ctxt_switches:\s*(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1])
  } catch {
    return process.resourceUsage().involuntaryContextSwitches
  }
}

const pooled = new Map() // kind -> latencies (µs) over all recorded rounds

async function runBatch({ kind, slice, n, record }) {
  const inputs = tokensFor(kind, slice, n).map((token) => prepare(token, ++sequence))
  if (warmPass && kind !== 'miss') {
    // Keeps the revocation cache warm (entries older than REVOCATION_CACHE_TTL are fetched again here, untimed).
    const unique = kind === 'same' ? 1 : kind === 'pool' ? Math.min(n, tokens.pool.length) : n
    for (let i = 0; i < unique; i++) await invoke(inputs[i])
  }
  const latencies = new Float64Array(n)
  let allowed = 0
  // Collect the harness's own garbage (the events just built) now, so the timed loop pays only for the handler's.
  globalThis.gc?.()
  // Involuntary context switches of the main thread: how often the kernel took the CPU away mid-batch (the shared machine's noise).
  const switchesBefore = mainThreadPreemptions()
  const started = performance.now()
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    if (await invoke(inputs[i])) allowed++
    latencies[i] = (performance.now() - t0) * 1000
  }
  const ms = performance.now() - started
  const preempted = mainThreadPreemptions() - switchesBefore
  if (record) {
    let list = pooled.get(kind)
    if (list === undefined) pooled.set(kind, (list = []))
    for (const value of latencies) list.push(value)
  }
  return {
    ms,
    n,
    opsPerSec: (n / ms) * 1000,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    allowed,
    preempted
  }
}

async function sanity() {
  const valid = await invoke(prepare(tokens.same, ++sequence))
  const invalid = await invoke(prepare(tokens.invalid[0], ++sequence))
  const out = { validAllowed: valid, invalidDenied: !invalid }
  if (impl === 'baseline') out.bearerPrefixDenied = !(await invoke(prepare(`Bearer ${tokens.same}`, ++sequence)))
  return out
}

process.on('message', async (message) => {
  try {
    if (message.type === 'run') process.send({ type: 'result', id: message.id, ...(await runBatch(message)) })
    else if (message.type === 'summary') {
      const summary = {}
      for (const [kind, list] of pooled) {
        summary[kind] = {
          count: list.length,
          p50: quantile(list, 0.5),
          p99: quantile(list, 0.99),
          p999: quantile(list, 0.999),
          max: list.reduce((a, b) => (b > a ? b : a), 0)
        }
      }
      process.send({ type: 'summary', id: message.id, summary })
    } else if (message.type === 'exit') process.exit(0)
  } catch (error) {
    process.send({ type: 'error', id: message.id, error: String(error?.stack ?? error) })
  }
})

process.send({ type: 'ready', sanity: await sanity() })
