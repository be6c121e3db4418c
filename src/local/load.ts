import autocannon from 'autocannon'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mintIdToken } from './identity-provider'
import { ensureLocalState } from './local-state'
import { printable } from './printable'
import { startLocalStack } from './stack-process'

/**
 * `npm run load`: a bounded load test of the local stack on 127.0.0.1.
 *
 * Starts a fresh stack (its own state folder), issues a few keys through
 * `POST /create-key`, then sends `GET /v1/whoami` at concurrency 20 in
 * phases of fixed size (10 x 800 by default; LOAD_PHASES and
 * LOAD_REQUESTS_PER_PHASE change them), sampling the stack process's memory
 * after each. Prints the figures and exits non-zero if any valid-key call
 * failed, the stack died, or the second half's memory peak is more than 5 %
 * above the first half's (memory that keeps growing).
 */

const CONNECTIONS = 20
const PHASES = Number(process.env.LOAD_PHASES ?? 10)
const REQUESTS_PER_PHASE = Number(process.env.LOAD_REQUESTS_PER_PHASE ?? 800)
const KEYS = 10

const say = (message: string): void => {
  process.stderr.write(`[load] ${printable(message)}\n`)
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN)
  return Math.round((kib / 1024) * 10) / 10
}

async function main(): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), 'dpk-load-'))
  const state = await ensureLocalState(stateDir, say)
  say('starting the local stack')
  const stack = await startLocalStack({ LOG_LEVEL: 'WARN' }, { stateDir })
  let failed = false
  try {
    const idToken = await mintIdToken(state.identityProvider, { sub: 'auth0|load', org: 'load-co' })
    const keys: string[] = []
    for (let i = 0; i < KEYS; i++) {
      const response = await fetch(`${stack.baseUrl}/create-key`, { method: 'POST', headers: { authorization: `Bearer ${idToken}` } })
      if (response.status !== 201) throw new Error(`create-key answered ${response.status}`)
      keys.push(((await response.json()) as { apikey: string }).apikey)
    }
    say(`issued ${KEYS} keys; warming up`)
    let next = 0
    const requests = [
      {
        method: 'GET',
        path: '/v1/whoami',
        setupRequest: (request: { headers?: Record<string, string> }) => ({
          ...request,
          headers: { ...request.headers, authorization: `Bearer ${keys[next++ % keys.length]}` }
        })
      }
    ]
    await autocannon({ url: stack.baseUrl, connections: CONNECTIONS, amount: 200, timeout: 10, requests })

    const rows: string[] = []
    const rss: number[] = []
    let total = 0
    let non2xx = 0
    let errors = 0
    for (let phase = 1; phase <= PHASES; phase++) {
      const result = await autocannon({ url: stack.baseUrl, connections: CONNECTIONS, amount: REQUESTS_PER_PHASE, timeout: 10, requests })
      rss.push(rssMiB(stack.pid))
      total += result.requests.total
      non2xx += result.non2xx
      errors += result.errors + result.timeouts
      rows.push(
        `| ${phase} | ${result.requests.total} | ${result['2xx']} | ${result.non2xx} | ${result.errors + result.timeouts} | ${result.requests.average.toFixed(0)} | ${result.latency.p50} | ${result.latency.p99} | ${rss.at(-1)} |`
      )
      say(`phase ${phase}/${PHASES}: ${result.requests.total} requests, ${result.non2xx} non-2xx, rss ${rss.at(-1)} MiB`)
    }
    const events = (stack.output().match(/moesif event: GET \/v1\/whoami -> 200/g) ?? []).length
    // RSS saws up and down with garbage collection, so compare peaks: memory that keeps growing
    // makes the second half's peak clearly higher than the first half's.
    const midpoint = Math.floor(PHASES / 2)
    const firstPeak = Math.max(...rss.slice(0, midpoint))
    const secondPeak = Math.max(...rss.slice(midpoint))
    const growth = (secondPeak - firstPeak) / firstPeak
    const alive = stack.running()
    console.log(`## npm run load: GET /v1/whoami, ${CONNECTIONS} connections, 127.0.0.1\n`)
    console.log('| phase | requests | 2xx | non-2xx | errors+timeouts | req/s | p50 ms | p99 ms | stack RSS MiB |')
    console.log('|---|---|---|---|---|---|---|---|---|')
    for (const row of rows) console.log(row)
    console.log(`\ntotal ${total} requests with valid keys: ${non2xx} non-2xx, ${errors} errors/timeouts; stack process alive: ${alive}`)
    console.log(`Moesif events printed by the local collector: ${events} (events may still be in flight when the run ends)`)
    console.log(
      `RSS peak, phases 1-${midpoint}: ${firstPeak} MiB; phases ${midpoint + 1}-${PHASES}: ${secondPeak} MiB (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}%, limit +5%)`
    )
    failed = non2xx > 0 || errors > 0 || !alive || growth > 0.05
    if (failed) {
      writeFileSync(join(stateDir, 'stack.log'), stack.output())
      say(`the stack's output is in ${join(stateDir, 'stack.log')}`)
    }
  } finally {
    await stack.stop()
  }
  if (failed) {
    say('FAILED: see the figures above')
    process.exit(1)
  }
}

main().catch((error: unknown) => {
  say(`could not run: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
