// Markdown tables and target verdicts from the results object.
import { ALGORITHMS } from './tokens.mjs'

const int = (v) => (v == null || !Number.isFinite(v) ? '–' : Math.round(v).toLocaleString('en-US'))
const fixed = (v, d = 1) => (v == null || !Number.isFinite(v) ? '–' : v.toFixed(d))
const ratio = (r) => (r == null || !Number.isFinite(r.median ?? r) ? '–' : `${(r.median ?? r).toFixed(2)}×`)
const kb = (bytes) => (bytes == null ? '–' : `${(bytes / 1024).toFixed(1)} KB`)
const table = (header, rows) =>
  [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')

const KIND_LABEL = {
  distinct: 'distinct valid',
  same: 'same token repeated',
  invalid: 'bad signature',
  pool: '256 keys cycled, revocation cache warm',
  miss: 'keys never seen: revocation cache miss, one lookup'
}

/** The floor target: every measure at most this many times the floor verifier's (bundled like ours). */
export const FLOOR_TARGET = 1.3
/** The most a revocation cache hit may add to a call, in µs. */
export const CACHE_HIT_TARGET_US = 2
const range = (r, d = 2) => (r == null ? '–' : `${r.min.toFixed(d)}–${r.max.toFixed(d)}`)

function row(warm, id) {
  return warm.rows.find((r) => r.id === id)
}

/**
 * The floor targets: each measure of ours divided by the same measure of the
 * floor verifier (bundled like ours, called with the same events), at most
 * {@link FLOOR_TARGET}; and the revocation check's cost on the hot path.
 * Warm is judged on throughput (time per call from ops/s) and shows the
 * median call's ratio beside it, which preemptions and GC pauses do not move.
 * The cold start is judged on the child's CPU time, which the code alone
 * determines; its wall time, which whoever else has the CPU moves, is given
 * beside it. The cache hit is judged on CPU time measured in one process.
 */
function floorTargets({ warm, revocationProbe, cold }) {
  const targets = []
  const coldRow = (id) => cold.rows.find((r) => r.id === id)
  const floorCold = coldRow('floor')
  const crosses = (r) => r.min <= FLOOR_TARGET && r.max > FLOOR_TARGET
  for (const [id, label] of [
    ['authorizer', 'without KEYS_TABLE'],
    ['authorizer-keys-table', 'with KEYS_TABLE (its first call looks the key up; the floor looks nothing up)']
  ]) {
    const r = coldRow(id)
    const judged = id === 'authorizer'
    // With KEYS_TABLE the first call waits on the network, which CPU time leaves out: wall time there.
    const value = judged ? r.vsFloor.cpuInsideRange : r.vsFloor.insideRange
    targets.push({
      group: 'floor',
      measure: `Cold start, load + first verify, ${label}`,
      target: judged ? `≤ ${FLOOR_TARGET}× floor (CPU time)` : 'reported (wall time)',
      measured: judged
        ? `${value.median.toFixed(2)}× CPU time (per-round range ${range(value)}; ${fixed(r.cpuInside.median, 2)} ms vs ${fixed(floorCold.cpuInside.median, 2)} ms, load ${fixed(r.cpuLoad.median, 2)} vs ${fixed(floorCold.cpuLoad.median, 2)} ms); ` +
          `wall ${r.vsFloor.insideRange.median.toFixed(2)}× (range ${range(r.vsFloor.insideRange)}; ${fixed(r.inside.median, 2)} vs ${fixed(floorCold.inside.median, 2)} ms, load ${fixed(r.load.median, 2)} vs ${fixed(floorCold.load.median, 2)} ms, first call ${fixed(r.first.median, 2)} vs ${fixed(floorCold.first.median, 2)} ms); medians of ${r.samples} rounds`
        : `${value.median.toFixed(2)}× wall (per-round range ${range(value)}; ${fixed(r.inside.median, 2)} ms vs ${fixed(floorCold.inside.median, 2)} ms, first call ${fixed(r.first.median, 2)} ms; medians of ${r.samples} rounds)`,
      holds: judged ? value.median <= FLOOR_TARGET : null,
      everyRound: judged ? !crosses(value) : undefined
    })
  }
  for (const alg of ALGORITHMS) {
    const r = row(warm, `ours:${alg}:distinct`)
    const floor = row(warm, `floor:${alg}:distinct`)
    const value = r.timeVsFloor
    targets.push({
      group: 'floor',
      measure: `Warm, distinct keys, ${alg} (LOG_LEVEL=INFO, default LOG_ALLOW_SAMPLE_RATE)`,
      target: `≤ ${FLOOR_TARGET}× floor (time per call)`,
      measured:
        `${value.median.toFixed(2)}× (per-round range ${range(value)}; ${int(r.opsPerSec)} vs ${int(floor.opsPerSec)} ops/s); ` +
        `median call ${r.p50VsFloor.median.toFixed(2)}× (range ${range(r.p50VsFloor)}; p50 ${fixed(r.p50Us, 2)} vs ${fixed(floor.p50Us, 2)} µs)`,
      holds: value.median <= FLOOR_TARGET,
      everyRound: !crosses(value)
    })
  }
  const hits = ALGORITHMS.map((alg) => [alg, warm.revocation[alg]])
  const probe = revocationProbe
  targets.push({
    group: 'floor',
    measure: 'Revocation cache hit (KEYS_TABLE set, answer cached): what it adds to a decision, measured in one process',
    target: `< ${CACHE_HIT_TARGET_US} µs`,
    measured:
      `${fixed(probe.hitCpuUs.median, 2)} µs of CPU per ${probe.alg} decision (per-round range ${range(probe.hitCpuUs)}; median call +${fixed(probe.hitP50Us.median, 2)} µs, wall +${fixed(probe.hitWallUs.median, 2)} µs; ` +
      `the check alone ${fixed(probe.checkCpuUs.median, 2)} µs; ${probe.rounds} rounds of ${probe.batch} against a ${fixed(probe.decisionCpuUs, 2)} µs decision). ` +
      `Across processes (the deployed handler with and without KEYS_TABLE, 256 keys vs distinct, from ops/s; noisier): ` +
      hits.map(([alg, r]) => `${alg} ${fixed(r.hitAddedUs.median, 2)}`).join(', ') +
      ' µs',
    holds: probe.hitCpuUs.median < CACHE_HIT_TARGET_US,
    everyRound: probe.hitCpuUs.max < CACHE_HIT_TARGET_US || probe.hitCpuUs.min >= CACHE_HIT_TARGET_US
  })
  targets.push({
    group: 'floor',
    measure: `Revocation cache miss (a key the container has not seen): one lookup against the local dynalite, median latency of the call (${warm.missBatch} per batch)`,
    target: 'reported',
    measured:
      hits.map(([alg, r]) => `${alg} ${fixed(r.missP50Ms.median, 2)} ms (p99 ${fixed(r.missP99Ms.median, 2)})`).join('; ') +
      `; added over a call without KEYS_TABLE: ${hits.map(([alg, r]) => `${alg} ${fixed(r.missAddedP50Ms.median, 2)}`).join(', ')} ms. dynalite on loopback answers faster than DynamoDB over TLS`,
    holds: null
  })
  return targets
}

export function evaluateTargets({ sizes, warm, revocationProbe, cold, moesif }) {
  const targets = floorTargets({ warm, revocationProbe, cold })
  const coldRow = (id) => cold.rows.find((r) => r.id === id)
  const sdkNote = (r) => `AWS SDK clients loaded by the first call: ${r.sdkClientsAfterFirstCall.join(', ') || 'none'}`
  // Two comparisons: against the baseline bundled like ours (the fair one: same bundler, same
  // settings), and against the baseline as shipped (unbundled node_modules, the reference's own deployment).
  const firstColdBaseline = targets.length
  for (const [base, baseLabel, ratioOf] of [
    ['baseline', 'baseline bundled like ours', (r) => r.vsBaseline.inside],
    ['baseline-shipped', 'baseline as shipped, unbundled', (r) => r.vsShipped.inside]
  ]) {
    for (const [id, label] of [
      ['authorizer', 'without KEYS_TABLE'],
      ['authorizer-keys-table', 'with KEYS_TABLE, the deployed config']
    ]) {
      const r = coldRow(id)
      const value = ratioOf(r)
      targets.push({
        measure: `Cold start, load + first verify, ${label}, vs ${baseLabel}`,
        target: '≤ 0.15× baseline',
        measured: `${value.toFixed(2)}× (${fixed(r.inside.median)} ms vs ${fixed(coldRow(base).inside.median)} ms, medians of ${r.samples} rounds)`,
        holds: value <= 0.15
      })
    }
  }
  const floor = coldRow('floor')
  const dynamoOnly = coldRow('dynamodb-import')
  const keysTable = coldRow('authorizer-keys-table')
  // When even the floor (or the SDK load alone) misses 0.15×, say so: then no code change of ours can meet the target.
  const floorNote = (value) =>
    `the floor verifier as a handler takes ${fixed(floor.inside.median)} ms = ${value.toFixed(2)}× this baseline` +
    (value > 0.15 ? ', so 0.15× is out of reach for any Node verifier against it' : '')
  const lookupLoadsSdk = keysTable.sdkClientsAfterFirstCall.includes('client-dynamodb')
  const sdkLoadNote = (value) =>
    `an empty handler whose first call only loads @aws-sdk/client-dynamodb takes ${fixed(dynamoOnly.inside.median)} ms = ${value.toFixed(2)}× this baseline` +
    (lookupLoadsSdk
      ? value > 0.15
        ? ', so 0.15× is out of reach while the first lookup loads the SDK inside the cold start'
        : ''
      : " (what the first lookup would cost through the SDK; this build's lookup loaded no SDK client)")
  const coldBaseline = targets.slice(firstColdBaseline)
  coldBaseline[0].measured += `; ${sdkNote(coldRow('authorizer'))}; ${floorNote(floor.vsBaseline.inside)}`
  coldBaseline[1].measured += `; ${sdkNote(keysTable)}; its first call takes ${fixed(keysTable.first.median)} ms; ${sdkLoadNote(dynamoOnly.vsBaseline.inside)}`
  coldBaseline[2].measured += `; ${floorNote(floor.vsShipped.inside)}`
  coldBaseline[3].measured += `; ${sdkLoadNote(dynamoOnly.vsShipped.inside)}`
  const zipRatio = sizes.zips.authorizer / sizes.zips.baseline
  targets.push({
    measure: 'Authorizer zip',
    target: '≤ 1/40 of baseline',
    measured:
      `${kb(sizes.zips.authorizer)} vs ${kb(sizes.zips.baseline)} = 1/${(1 / zipRatio).toFixed(1)}; 1/40 of it would be ${Math.floor(sizes.zips.baseline / 40).toLocaleString('en-US')} B ` +
      `(vs the unbundled as-shipped baseline ${kb(sizes.zips.baselineShipped)}: 1/${(sizes.zips.baselineShipped / sizes.zips.authorizer).toFixed(1)}, where 1/40 would be ${Math.floor(sizes.zips.baselineShipped / 40).toLocaleString('en-US')} B)`,
    holds: zipRatio <= 1 / 40
  })
  for (const [alg, min] of [
    ['HS256', 1],
    ['RS256', 3]
  ]) {
    const r = row(warm, `ours:${alg}:distinct`)
    targets.push({
      measure: `Warm, distinct tokens, ${alg}`,
      target: `≥ ${min}× baseline`,
      measured:
        `${r.vsBaseline.median.toFixed(2)}× (per-round range ${r.vsBaseline.min.toFixed(2)}–${r.vsBaseline.max.toFixed(2)}; ${int(r.opsPerSec)} vs ${int(row(warm, `baseline:${alg}:distinct`).opsPerSec)} ops/s)` +
        (r.vsBaseline.min < min && r.vsBaseline.max >= min ? `; the range crosses ${min}×: a tendency, not a result` : ''),
      holds: r.vsBaseline.median >= min,
      // False when some round fell on the other side of the target: the verdict then rests on the median alone.
      everyRound: r.vsBaseline.min >= min || r.vsBaseline.max < min
    })
  }
  const oursRows = warm.rows.filter((r) => r.impl === 'ours')
  const worst = (field) => oursRows.reduce((a, b) => (b[field] > a[field] ? b : a))
  const worstRounds = worst('p99UsMedianOfRounds')
  const worstPooled = worst('p99UsPooled')
  const worstBest = worst('p99UsBestRound')
  const floorOfWorst = row(warm, `floor:${worstRounds.alg}:${worstRounds.kind}`)
  targets.push({
    measure: 'Warm p99, every algorithm and token kind (LOG_LEVEL=INFO)',
    target: '< 1 ms',
    measured:
      `worst median-of-rounds p99 ${int(worstRounds.p99UsMedianOfRounds)} µs (${worstRounds.alg} ${worstRounds.kind}, ${fixed(worstRounds.preemptionsPer1000Calls)} preemptions per 1000 calls; ` +
      `the floor's, same rounds: ${int(floorOfWorst.p99UsMedianOfRounds)} µs, ${fixed(floorOfWorst.preemptionsPer1000Calls)} preemptions per 1000 calls); ` +
      `worst p99 over all invocations ${int(worstPooled.p99UsPooled)} µs (${worstPooled.alg} ${worstPooled.kind}); worst best-round p99 ${int(worstBest.p99UsBestRound)} µs (${worstBest.alg} ${worstBest.kind})`,
    holds: worstRounds.p99UsMedianOfRounds < 1000
  })
  const healthy = moesif.rows.find((r) => r.mode === 'healthy')
  targets.push({
    measure: 'Moesif, healthy collector',
    target: '≤ 10 ms p50 added, every event delivered',
    measured: `${fixed(healthy.addedP50Ms, 2)} ms p50 added; ${healthy.eventsReceived}/${healthy.eventsSent} events received`,
    holds: healthy.addedP50Ms <= 10 && healthy.eventsReceived === healthy.eventsSent
  })
  for (const mode of ['refused', 'hang']) {
    const r = moesif.rows.find((x) => x.mode === mode)
    targets.push({
      measure: `Moesif, collector ${mode === 'refused' ? 'down (connection refused)' : 'hung'}`,
      target: `≤ MOESIF_MAX_WAIT_MS + 10 ms (${moesif.maxWaitMs + 10} ms) p99 added`,
      measured: `${fixed(r.addedP99Ms, 1)} ms p99 added (p50 ${fixed(r.addedP50Ms, 1)} ms)`,
      holds: r.addedP99Ms <= moesif.maxWaitMs + 10
    })
  }
  return targets
}

export function renderReport(results) {
  const { machine, sizes, warm, revocationProbe, cold, moesif, targets } = results
  const out = []
  out.push(`# dev-portal-keys bench`, '')
  out.push(
    `${machine.date} · ${machine.cpuModel} · ${machine.cores} cores · Node ${machine.node} · load average ${machine.loadAverageAtStart.join('/')} at start, ${machine.loadAverageAtEnd.join('/')} at end · run took ${results.durationSeconds} s`,
    ''
  )

  const verdict = (t) =>
    t.holds === null
      ? '–'
      : (t.holds ? 'yes' : '**no**') +
        (t.everyRound === false ? (t.holds ? ' (median only; some rounds miss it)' : ' (median only; some rounds reach it)') : '')
  const targetTable = (list) =>
    table(
      ['Measure', 'Target', 'Measured', 'Holds'],
      list.map((t) => [t.measure, t.target, t.measured, verdict(t)])
    )
  out.push(`## Floor targets (ours ÷ the floor verifier bundled like ours, medians of per-round ratios; ≤ ${FLOOR_TARGET}×)`, '')
  out.push(targetTable(targets.filter((t) => t.group === 'floor')), '')
  out.push('## Other targets', '')
  out.push(targetTable(targets.filter((t) => t.group !== 'floor')), '')

  out.push(`## Warm authorizer (median of ${warm.rounds} interleaved rounds; ratios are medians of per-round ratios)`, '')
  const warmRows = []
  const p99s = (r) => `${int(r.p99UsMedianOfRounds)} / ${int(r.p99UsBestRound)} / ${int(r.p99UsPooled)}`
  for (const alg of ALGORITHMS) {
    for (const kind of ['distinct', 'same', 'invalid']) {
      const ours = row(warm, `ours:${alg}:${kind}`)
      const base = row(warm, `baseline:${alg}:${kind}`)
      const floor = row(warm, `floor:${alg}:${kind}`)
      warmRows.push([
        alg,
        KIND_LABEL[kind],
        int(ours.opsPerSec),
        base ? int(base.opsPerSec) : 'n/a',
        int(floor.opsPerSec),
        base ? ratio(ours.vsBaseline) : 'n/a',
        `${ratio(ours.timeVsFloor)} (${range(ours.timeVsFloor)})`,
        `${ratio(ours.p50VsFloor)} (${range(ours.p50VsFloor)})`,
        fixed(ours.p50Us),
        p99s(ours),
        base ? `${int(base.p50Us)} / ${int(base.p99UsMedianOfRounds)}` : 'n/a',
        `${fixed(floor.p50Us)} / ${int(floor.p99UsMedianOfRounds)}`,
        `${fixed(ours.preemptionsPer1000Calls, 1)} / ${fixed(floor.preemptionsPer1000Calls, 1)}`
      ])
    }
  }
  out.push(
    table(
      [
        'Alg',
        'Tokens',
        'Ours ops/s',
        'Baseline ops/s',
        'Floor ops/s',
        'Ours ÷ baseline (ops/s)',
        'Ours ÷ floor, time per call (range over rounds)',
        'Ours ÷ floor, median call (range)',
        'Ours p50 (µs)',
        'Ours p99: median round / best round / all (µs)',
        'Baseline p50 / p99 (µs)',
        'Floor p50 / p99 (µs)',
        'Preemptions per 1000 calls, ours / floor'
      ],
      warmRows
    ),
    ''
  )
  out.push('Variants of ours (same interleaved rounds):', '')
  const variantRows = []
  for (const alg of ALGORITHMS) {
    for (const r of warm.rows.filter((x) => x.alg === alg && (x.impl === 'ours-revocation' || x.impl === 'ours-warn'))) {
      variantRows.push([
        alg,
        r.impl === 'ours-warn' ? 'LOG_LEVEL=WARN' : 'KEYS_TABLE, REVOCATION_CACHE_TTL=30',
        KIND_LABEL[r.kind],
        int(r.opsPerSec),
        r.kind === 'miss' ? '–' : ratio(r.vsOursInfo),
        r.vsBaseline ? ratio(r.vsBaseline) : 'n/a',
        r.timeVsFloor ? `${ratio(r.timeVsFloor)} / ${ratio(r.p50VsFloor)}` : '–',
        `${fixed(r.p50Us)} / ${p99s(r)}`
      ])
    }
  }
  out.push(
    table(
      [
        'Alg',
        'Variant',
        'Tokens',
        'ops/s',
        '÷ ours (INFO, no table; ops/s)',
        '÷ baseline (ops/s)',
        '÷ floor, time per call / median call',
        'p50 / p99 median round / best round / all (µs)'
      ],
      variantRows
    ),
    ''
  )
  out.push(
    `Revocation cache hit, in one process (bench/revocation-child.mjs, ${revocationProbe.alg}, ${revocationProbe.rounds} interleaved rounds of ${revocationProbe.batch}): ` +
      `a hit adds ${fixed(revocationProbe.hitCpuUs.median, 2)} µs of CPU to a ${fixed(revocationProbe.decisionCpuUs, 2)} µs decision (range ${range(revocationProbe.hitCpuUs)}; median call +${fixed(revocationProbe.hitP50Us.median, 2)} µs); ` +
      `the check alone takes ${fixed(revocationProbe.checkCpuUs.median, 2)} µs (median call ${fixed(revocationProbe.checkP50Us.median, 2)} µs).`,
    ''
  )
  out.push("Revocation on the hot path in the deployed handler (KEYS_TABLE against the parent's dynalite, REVOCATION_CACHE_TTL=30):", '')
  out.push(
    table(
      [
        'Alg',
        'Cache hit, handler across processes: µs added per call (256 keys vs distinct, no table; range)',
        'Same, same token on both sides',
        'Same, median call',
        `Cache miss: call p50 / p99 (ms, ${warm.missBatch} per batch)`,
        'Cache miss: p50 added over no table (ms)'
      ],
      ALGORITHMS.map((alg) => {
        const r = warm.revocation[alg]
        return [
          alg,
          `${fixed(r.hitAddedUs.median, 2)} (${range(r.hitAddedUs)})`,
          `${fixed(r.hitAddedUsSameToken.median, 2)} (${range(r.hitAddedUsSameToken)})`,
          `${fixed(r.hitAddedP50Us.median, 2)} (${range(r.hitAddedP50Us)})`,
          `${fixed(r.missP50Ms.median, 2)} / ${fixed(r.missP99Ms.median, 2)}`,
          fixed(r.missAddedP50Ms.median, 2)
        ]
      })
    ),
    ''
  )

  out.push(`## Cold start (fresh \`node\` per sample, ${cold.rounds} interleaved rounds, medians; HS256)`, '')
  out.push(
    'Two baselines: "bundled" is the reference bundled like ours (esbuild, minified, CommonJS `.cjs`); "as shipped" is the reference with its unbundled `node_modules`. ' +
      'Ratios are medians of per-round ratios. .cjs handlers are loaded with `require()` and .mjs with `import()`, as the Lambda runtime does.',
    ''
  )
  const sdkCell = (r) => {
    const load = r.sdkClientsAfterLoad.join(', ') || 'none'
    const first = r.sdkClientsAfterFirstCall.join(', ') || 'none'
    return load === first ? load : `${load} → ${first}`
  }
  out.push(
    table(
      [
        'Case',
        'Load + first call, in process (ms)',
        'CPU time, in process (ms)',
        'Load (ms)',
        'First call (ms)',
        'Since process start (ms)',
        'Process wall (ms)',
        '÷ bundled baseline, in process',
        '÷ bundled baseline, wall net of empty',
        '÷ as-shipped baseline, in process',
        '÷ floor, in process: wall / CPU',
        'AWS SDK clients loaded (after load → after first call)'
      ],
      cold.rows.map((r) => {
        const authorizerLike = !r.id.startsWith('whoami') && r.id !== 'empty'
        return [
          r.label,
          fixed(r.inside.median),
          fixed(r.cpuInside.median),
          fixed(r.load.median),
          fixed(r.first.median),
          fixed(r.sinceProcessStart.median),
          fixed(r.wall.median),
          authorizerLike ? `${r.vsBaseline.inside.toFixed(2)}×` : '–',
          authorizerLike && r.vsBaseline.wallNetOfEmpty != null ? `${r.vsBaseline.wallNetOfEmpty.toFixed(2)}×` : '–',
          authorizerLike ? `${r.vsShipped.inside.toFixed(2)}×` : '–',
          authorizerLike ? `${r.vsFloor.inside.toFixed(2)}× / ${r.vsFloor.cpuInsideRange.median.toFixed(2)}×` : '–',
          sdkCell(r)
        ]
      })
    ),
    ''
  )

  out.push('## Package sizes', '')
  const sizeRows = Object.entries(sizes.zips).map(([name, bytes]) => [
    name === 'baseline'
      ? 'baseline (reference, bundled like ours)'
      : name === 'baselineShipped'
        ? 'baseline as shipped (unbundled node_modules)'
        : `${name}.zip`,
    `${bytes.toLocaleString('en-US')} B (${kb(bytes)})`,
    sizes.bundleBytes[name] ? `${sizes.bundleBytes[name].toLocaleString('en-US')} B` : '–'
  ])
  out.push(table(['Package', 'Zip', 'Bundle (.cjs)'], sizeRows), '')
  out.push(`Our authorizer bundle re-zipped with the baseline's zip writer: ${sizes.ourAuthorizerRezipped.toLocaleString('en-US')} B.`, '')

  out.push(`## Moesif overhead (packaged whoami, Moesif on vs off in pairs, MOESIF_MAX_WAIT_MS=${moesif.maxWaitMs})`, '')
  out.push(
    table(
      ['Collector', 'Pairs', 'Added p50 (ms)', 'Added p99 (ms)', 'On p50 / p99 (ms)', 'Off p50 / p99 (ms)', 'Events received / sent'],
      moesif.rows.map((r) => [
        r.mode === 'refused' ? 'down (connection refused)' : r.mode,
        r.calls,
        fixed(r.addedP50Ms, 2),
        fixed(r.addedP99Ms, 2),
        `${fixed(r.onP50Ms, 2)} / ${fixed(r.onP99Ms, 2)}`,
        `${fixed(r.offP50Ms, 2)} / ${fixed(r.offP99Ms, 2)}`,
        r.eventsReceived == null ? '–' : `${r.eventsReceived} / ${r.eventsSent}`
      ])
    ),
    ''
  )
  return `${out.join('\n')}\n`
}
