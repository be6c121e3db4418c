// The revocation cache hit, measured in one process (bench/revocation-child.mjs):
// what a hit adds to the authorizer's decision, and what the check alone costs.
import { spawn } from 'node:child_process'
import { lambdaBaseEnv } from './child.mjs'

export function runRevocationProbe({ script, probe, dynamo, log, rounds = 30 }) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, ['--expose-gc', script], {
      env: {
        ...lambdaBaseEnv('revocation-probe', {
          KEYS_TABLE: dynamo.table,
          DYNAMODB_ENDPOINT: dynamo.endpoint,
          BENCH_PROBE: probe,
          BENCH_ROUNDS: String(rounds)
        })
      },
      stdio: ['ignore', 'ignore', 'pipe', 'pipe']
    })
    let report = ''
    let stderr = ''
    child.stdio[3].setEncoding('utf8').on('data', (chunk) => (report += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0 || report === '') return reject(new Error(`revocation probe failed (exit ${code})\n${stderr}`))
      const results = JSON.parse(report)
      log(
        `a cache hit adds ${results.hitCpuUs.median.toFixed(2)} µs of CPU to an HS256 decision; the check alone takes ${results.checkCpuUs.median.toFixed(2)} µs (${((performance.now() - started) / 1000).toFixed(1)} s)`
      )
      resolve(results)
    })
  })
}
