// Cold starts: a fresh `node` process per sample that loads a handler and
// completes its first invocation. All cases interleave, in a shuffled order
// each round, one process at a time.
import { spawn } from 'node:child_process'
import { lambdaBaseEnv } from './child.mjs'
import { median, quantile, seededRandom, shuffled } from './stats.mjs'
import { KID, apiKeyClaims, generateKeyMaterial, httpApiAuthorizerEvent, protectedApiEvent, restTokenEvent, signToken } from './tokens.mjs'

const COLD_START_TIMEOUT_MS = 30_000

function coldStart(script, spec, env) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, [script], {
      env: { ...env, BENCH_COLD_SPEC: JSON.stringify(spec) },
      stdio: ['ignore', 'ignore', 'pipe', 'pipe']
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), COLD_START_TIMEOUT_MS)
    let report = ''
    let stderr = ''
    // Wall time ends when the report arrives, not at exit: a Lambda never exits after its first
    // invocation, and exit can be slow (on Node 20, a process that used fetch() spends ~100 ms in it).
    let wallMs
    child.stdio[3].setEncoding('utf8').on('data', (chunk) => {
      report += chunk
      wallMs = performance.now() - started
    })
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code !== 0 || report === '') return reject(new Error(`cold start of ${spec.path} failed (${signal ?? `exit ${code}`})\n${stderr}`))
      resolve({ ...JSON.parse(report), wallMs })
    })
  })
}

const allowedByOurs = (r) => r?.isAuthorized === true
const allowedByReference = (r) => r?.policyDocument?.Statement?.[0]?.Effect === 'Allow'

export async function runCold({ script, prepared, dynamo, collector, log, rounds }) {
  const material = generateKeyMaterial('HS256')
  const token = () => signToken(material, apiKeyClaims(Math.floor(Math.random() * 1e6), Math.floor(Date.now() / 1000)))
  const ours = (extra) =>
    lambdaBaseEnv('dev-portal-keys-prod-authorizer', {
      NODE_OPTIONS: '--enable-source-maps',
      JWT_ALGORITHM: 'HS256',
      JWT_KID: KID,
      JWT_SECRET: material.secret,
      LOG_LEVEL: 'INFO',
      ...extra
    })
  const whoamiEnv = (extra) =>
    lambdaBaseEnv('dev-portal-keys-prod-whoami', { NODE_OPTIONS: '--enable-source-maps', LOG_LEVEL: 'INFO', MOESIF_MAX_WAIT_MS: '100', ...extra })

  const cases = [
    {
      id: 'empty',
      label: 'empty handler (Node + runner only)',
      path: prepared.emptyHandler,
      style: 'async',
      event: () => ({}),
      env: lambdaBaseEnv('empty'),
      ok: (r) => r?.ok === true
    },
    {
      id: 'baseline',
      label: 'baseline, bundled like ours (jsonwebtoken 8.5.1; esbuild, minified, CommonJS)',
      path: prepared.baselineHandler,
      style: 'callback',
      event: () => restTokenEvent(token()),
      env: lambdaBaseEnv('reference-authorizer', { JWT_VERIFY_KEY: material.verifyKey }),
      ok: allowedByReference
    },
    {
      id: 'baseline-shipped',
      label: 'baseline as shipped (unbundled node_modules, as the reference README deploys it)',
      path: prepared.shippedBaselineHandler,
      style: 'callback',
      event: () => restTokenEvent(token()),
      env: lambdaBaseEnv('reference-authorizer', { JWT_VERIFY_KEY: material.verifyKey }),
      ok: allowedByReference
    },
    {
      id: 'floor',
      label: 'floor (minimal node:crypto verifier as a handler, bundled like ours)',
      path: prepared.floorHandler,
      style: 'async',
      event: () => httpApiAuthorizerEvent(token(), 1),
      env: lambdaBaseEnv('floor', { JWT_ALGORITHM: 'HS256', JWT_VERIFY_KEY: material.verifyKey }),
      ok: allowedByOurs
    },
    {
      id: 'authorizer',
      label: 'our authorizer, no KEYS_TABLE',
      path: prepared.handlers.authorizer,
      style: 'async',
      event: () => httpApiAuthorizerEvent(token(), 1),
      env: ours(),
      ok: allowedByOurs
    },
    {
      id: 'authorizer-keys-table',
      label: 'our authorizer + KEYS_TABLE (first call looks up dynalite)',
      path: prepared.handlers.authorizer,
      style: 'async',
      event: () => httpApiAuthorizerEvent(token(), 1),
      env: ours({ KEYS_TABLE: dynamo.table, DYNAMODB_ENDPOINT: dynamo.endpoint, REVOCATION_CACHE_TTL: '30' }),
      ok: allowedByOurs
    },
    {
      id: 'dynamodb-import',
      label: 'probe: empty handler whose first call loads @aws-sdk/client-dynamodb only',
      path: prepared.dynamoProbeHandler,
      style: 'async',
      event: () => ({}),
      env: lambdaBaseEnv('probe'),
      ok: (r) => r?.ok === true
    },
    {
      id: 'whoami',
      label: 'whoami, Moesif off',
      path: prepared.handlers.whoami,
      style: 'async',
      event: () => protectedApiEvent(1),
      env: whoamiEnv(),
      ok: (r) => r?.statusCode === 200
    },
    {
      id: 'whoami-moesif',
      label: 'whoami, Moesif on (healthy local collector)',
      path: prepared.handlers.whoami,
      style: 'async',
      event: () => protectedApiEvent(1),
      env: whoamiEnv({ MOESIF_APPLICATION_ID: 'bench-application-id', MOESIF_BASE_URI: collector.baseUri }),
      ok: (r) => r?.statusCode === 200
    }
  ]

  const samples = new Map(cases.map((c) => [c.id, []]))
  const random = seededRandom(11282026)
  const started = performance.now()
  // One discarded round first: page cache and the parent's servers warm, as on a warm Lambda host.
  for (let round = 0; round <= rounds; round++) {
    for (const c of shuffled(cases, random)) {
      const sample = await coldStart(script, { path: c.path, style: c.style, event: c.event(), functionName: c.id }, c.env)
      if (!c.ok(sample.result)) throw new Error(`cold start ${c.id}: unexpected result ${JSON.stringify(sample.result)}`)
      if (round > 0) samples.get(c.id).push(sample)
    }
    if (round % 5 === 0) log(`round ${round}/${rounds} (${((performance.now() - started) / 1000).toFixed(1)} s)`)
  }

  const summary = (list, field) => ({
    median: median(list.map((s) => s[field])),
    p90: quantile(
      list.map((s) => s[field]),
      0.9
    )
  })
  const rows = cases.map((c) => {
    const list = samples.get(c.id)
    return {
      id: c.id,
      label: c.label,
      samples: list.length,
      load: summary(list, 'loadMs'),
      first: summary(list, 'firstMs'),
      inside: summary(list, 'totalMs'),
      cpuLoad: summary(list, 'cpuLoadMs'),
      cpuInside: summary(list, 'cpuTotalMs'),
      sinceProcessStart: summary(list, 'sinceProcessStartMs'),
      wall: summary(list, 'wallMs'),
      // The AWS SDK clients the process had loaded after the import and after the first call (the union over samples).
      sdkClientsAfterLoad: [...new Set(list.flatMap((s) => s.sdkAfterLoad))].sort(),
      sdkClientsAfterFirstCall: [...new Set(list.flatMap((s) => s.sdkAfterFirstCall))].sort(),
      insideByRound: list.map((s) => Math.round(s.totalMs * 10) / 10),
      wallByRound: list.map((s) => Math.round(s.wallMs * 10) / 10)
    }
  })
  // Per-round ratios against each baseline (rounds are aligned: every case runs once per round):
  // `vsBaseline` against the baseline bundled like ours, `vsShipped` against the baseline as shipped,
  // `vsFloor` against the floor verifier bundled like ours (with its per-round range).
  const perRound = (a, b, field) => median(samples.get(a).map((s, i) => s[field] / samples.get(b)[i][field]))
  const netOfEmpty = (a, b) =>
    median(samples.get(a).map((s, i) => (s.wallMs - samples.get('empty')[i].wallMs) / (samples.get(b)[i].wallMs - samples.get('empty')[i].wallMs)))
  const versus = (id, base) => ({
    inside: perRound(id, base, 'totalMs'),
    wall: perRound(id, base, 'wallMs'),
    wallNetOfEmpty: id === 'empty' ? null : netOfEmpty(id, base)
  })
  const range = (a, b, field) => {
    const per = samples.get(a).map((s, i) => s[field] / samples.get(b)[i][field])
    return { median: median(per), min: Math.min(...per), max: Math.max(...per) }
  }
  for (const row of rows) {
    row.vsBaseline = versus(row.id, 'baseline')
    row.vsShipped = versus(row.id, 'baseline-shipped')
    row.vsFloor = { ...versus(row.id, 'floor'), insideRange: range(row.id, 'floor', 'totalMs'), cpuInsideRange: range(row.id, 'floor', 'cpuTotalMs') }
  }
  return { rounds, rows }
}
