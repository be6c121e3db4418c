// Moesif overhead for one collector mode, in its own process (moesifapi's
// configuration is module state). Two instances of the packaged whoami
// handler are loaded side by side: one with Moesif off (MOESIF_APPLICATION_ID
// unset), one with it on; calls alternate between them in pairs, so each
// "added latency" sample is on minus off under the same machine conditions.
import { loadHandler } from './lib/load-handler.mjs'
import { lambdaContext, protectedApiEvent } from './lib/tokens.mjs'

const handlerPath = process.env.BENCH_HANDLER
const calls = Number(process.env.BENCH_CALLS)
const warmup = Number(process.env.BENCH_WARMUP)
const applicationId = process.env.BENCH_MOESIF_APPLICATION_ID

let n = 0
async function timed(handler) {
  const event = protectedApiEvent(++n)
  const context = lambdaContext('dev-portal-keys-prod-whoami', n)
  const t0 = performance.now()
  const result = await handler(event, context)
  const ms = performance.now() - t0
  if (result.statusCode !== 200) throw new Error(`whoami answered ${result.statusCode}`)
  return ms
}

// Two module instances of the same bundle. The bundle is CommonJS: a second import() URL would
// share the first instance (Node keeps one per file), so the second load evaluates the file
// afresh instead (see lib/load-handler.mjs). whoami reads MOESIF_* on its first request
// (src/handlers/whoami.ts), so each instance makes its first call with its own environment.
delete process.env.MOESIF_APPLICATION_ID
const off = await loadHandler(handlerPath)
await timed(off)
process.env.MOESIF_APPLICATION_ID = applicationId
const on = await loadHandler(handlerPath, { fresh: true })
if (on === off) throw new Error('Moesif on and off share one module instance')
await timed(on)

const onMs = []
const offMs = []
const addedMs = []
// The first call of `on` above sent an event too.
let sent = 1
for (let i = 0; i < warmup + calls; i++) {
  // Alternate which goes first, so neither side always runs right after the other.
  let a, b
  if (i % 2 === 0) {
    a = await timed(off)
    b = await timed(on)
  } else {
    b = await timed(on)
    a = await timed(off)
  }
  sent++
  if (i < warmup) continue
  offMs.push(a)
  onMs.push(b)
  addedMs.push(b - a)
}
process.send({ type: 'ready', onMs, offMs, addedMs, sent })
process.on('message', (message) => {
  if (message.type === 'exit') process.exit(0)
})
