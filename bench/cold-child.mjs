// One cold start: a fresh Node process that loads a handler and completes its
// first invocation, timed from just before the handler is loaded (after
// Node's own bootstrap and the runtime's modules, below) to the moment that
// invocation resolves. The parent times the whole process too. Builtins only,
// so the runner adds nothing to the load. The handler file is loaded as the
// Lambda runtime loads it: .cjs with require(), .mjs with import() (see
// lib/load-handler.mjs).
import { writeSync } from 'node:fs'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const require = createRequire(import.meta.url)
// What the Lambda Node.js runtime has loaded before it loads a handler: its
// Runtime API client requires node:http (and with it node:net and the
// node:stream internals) at the top of its module (src/RAPIDClient.js, or
// src/client/rapid-client.ts in newer versions, of
// aws-lambda-nodejs-runtime-interface-client). Loaded here, before the clock
// starts, for every case alike, so no handler is charged for what the
// runtime has already paid.
require('node:http')
// The AWS SDK clients loaded so far (every CommonJS module loaded, by require or import, is in require's cache).
const sdkClients = () =>
  [
    ...new Set(Object.keys(require.cache).flatMap((file) => /[/\\]node_modules[/\\]@aws-sdk[/\\](client-[a-z0-9-]+)[/\\]/.exec(file)?.[1] ?? []))
  ].sort()

const cpu0 = process.cpuUsage()
const t0 = performance.now()
const spec = JSON.parse(process.env.BENCH_COLD_SPEC)
const mod = spec.path.endsWith('.cjs') ? require(spec.path) : await import(pathToFileURL(spec.path).href)
const t1 = performance.now()
const cpu1 = process.cpuUsage(cpu0)
const sdkAfterLoad = sdkClients()
// The snapshot is the runner's work, not the handler's: its time is left out of every figure.
const snapshotMs = performance.now() - t1
const snapshotCpu = process.cpuUsage(cpu0)
const handler = mod.handler ?? mod.default?.handler
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: spec.functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${spec.functionName}`,
  memoryLimitInMB: '256',
  awsRequestId: '00000000-0000-4000-8000-000000000001',
  logGroupName: `/aws/lambda/${spec.functionName}`,
  logStreamName: '2026/11/28/[$LATEST]0123456789abcdef',
  getRemainingTimeInMillis: () => 10_000,
  done: () => {},
  fail: () => {},
  succeed: () => {}
}
let result
if (spec.style === 'callback') {
  result = await new Promise((resolve) => {
    handler(spec.event, context, (error, value) => resolve(error == null ? value : { error: String(error) }))
  })
} else {
  result = await handler(spec.event, context)
}
const t2 = performance.now() - snapshotMs
const cpu2 = process.cpuUsage(cpu0)
// CPU time (µs → ms), the snapshot's left out: the work itself, without the time other processes had the CPU.
const cpuMs = (usage) => (usage.user + usage.system) / 1000
const cpuSnapshotMs = cpuMs(snapshotCpu) - cpuMs(cpu1)
// fd 3 is a pipe to the parent; stdout (the handler's logs) goes to /dev/null.
writeSync(
  3,
  JSON.stringify({
    loadMs: t1 - t0,
    firstMs: t2 - t1,
    totalMs: t2 - t0,
    cpuLoadMs: cpuMs(cpu1),
    cpuTotalMs: cpuMs(cpu2) - cpuSnapshotMs,
    sinceProcessStartMs: t2,
    result,
    sdkAfterLoad,
    sdkAfterFirstCall: sdkClients()
  })
)
process.exit(0)
