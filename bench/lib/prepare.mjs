// Everything the measurements run from, built fresh into bench/.work/ (the
// only scratch folder): our packaged zips, the baseline bundle and zip, the
// floor verifier bundled as a handler like ours, the TypeScript helpers for
// dynalite and the Moesif collector, and two probe handlers for the
// cold-start comparison (an empty one, and one that loads
// @aws-sdk/client-dynamodb on its first call, as our authorizer's first
// revocation lookup would through the SDK).
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { promisify } from 'node:util'
import { build } from 'esbuild'
import { extractZip, writeZip } from './zip.mjs'

const run = promisify(execFile)

export const ROOT = resolve(import.meta.dirname, '..', '..')
export const WORK = join(ROOT, 'bench', '.work')

// The same esbuild settings as serverless.yml's custom.esbuild, for the baseline: CommonJS in a .cjs file.
const LAMBDA_BUILD = {
  bundle: true,
  minify: true,
  sourcemap: false,
  target: 'node22',
  platform: 'node',
  format: 'cjs',
  external: ['@aws-sdk/*'],
  logLevel: 'warning'
}

// The file a packaged function's handler lives in (serverless-esbuild writes one per zip).
const HANDLER_FILE = /\.(?:cjs|mjs|js)$/

/**
 * `serverless package --stage prod` into bench/.work/package (never touching
 * .serverless/), with a minimal environment so nothing from the caller's
 * shell is baked into the template. Retried once: the test suite may be
 * packaging at the same moment and serverless-esbuild shares .esbuild/.
 */
async function packageService(log) {
  const dir = join(WORK, 'package')
  rmSync(dir, { recursive: true, force: true })
  const args = [join(ROOT, 'node_modules/serverless/bin/serverless.js'), 'package', '--stage', 'prod', '--package', dir]
  // A deployed stage must name a secret store and an identity provider (config/serverless-env.cjs deployChecks): placeholders.
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    JWT_SECRET_SSM_PARAMETER: '/dpk/bench/jwt-secret',
    AUTH_PROVIDER: 'Auth0',
    AUTH0_DOMAIN: 'dpk-bench.us.auth0.com',
    AUTH0_CLIENT_ID: 'dpk-bench-client'
  }
  for (let attempt = 1; ; attempt++) {
    const started = performance.now()
    try {
      await run(process.execPath, args, { cwd: ROOT, env, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 })
      log(`serverless package --stage prod: ${((performance.now() - started) / 1000).toFixed(1)} s`)
      return dir
    } catch (error) {
      if (attempt >= 2) throw new Error(`serverless package failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`, { cause: error })
      log('serverless package failed once; retrying')
    }
  }
}

/** Bundle a src/local TypeScript helper for plain Node, dependencies left external (as scripts/run-ts.mjs does). */
async function bundleHelper(entry, outName) {
  const outfile = join(WORK, 'helpers', outName)
  await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning'
  })
  return outfile
}

/** Where Node would find package `name` when required from `fromDir` (walking up node_modules). */
function findPackageDir(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    if (dir === ROOT || dir === dirname(dir)) throw new Error(`cannot find ${name} from ${fromDir}`)
  }
}

/** The installed package folders `name` needs at run time (itself and its dependencies, recursively). */
function dependencyClosure(name, fromDir, seen = new Set()) {
  const dir = findPackageDir(name, fromDir)
  if (seen.has(dir)) return seen
  seen.add(dir)
  const { dependencies = {} } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  for (const dependency of Object.keys(dependencies)) dependencyClosure(dependency, dir, seen)
  return seen
}

function listFiles(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name), base) : [relative(base, join(dir, entry.name))]
  )
}

/**
 * The reference as its README ships it: the handler plus an unbundled
 * node_modules, zipped. Only for context (the size people deploy today);
 * jwks-rsa and dotenv are not installed here, so this is an underestimate.
 */
function buildShippedBaseline() {
  const dir = join(WORK, 'baseline-shipped')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  cpSync(join(ROOT, 'bench', 'baseline', 'index.cjs'), join(dir, 'index.cjs'))
  for (const packageDir of dependencyClosure('jsonwebtoken', ROOT)) {
    const target = join(dir, relative(ROOT, packageDir))
    if (!existsSync(target)) cpSync(packageDir, target, { recursive: true })
  }
  const files = listFiles(dir).sort()
  const zipBytes = writeZip(
    join(WORK, 'baseline-shipped.zip'),
    files.map((name) => ({ name, data: readFileSync(join(dir, name)) }))
  )
  return { handler: join(dir, 'index.cjs'), zipBytes, files: files.length }
}

export async function prepare(log) {
  mkdirSync(WORK, { recursive: true })
  const packageDir = await packageService(log)

  const zips = {}
  const handlers = {}
  for (const name of readdirSync(packageDir)
    .filter((n) => n.endsWith('.zip'))
    .sort()) {
    const fn = name.replace(/\.zip$/, '')
    zips[fn] = statSync(join(packageDir, name)).size
    // Unzipped under the repo so Node's resolution walks up to node_modules for @aws-sdk/*, as /var/runtime does on Lambda.
    const dest = join(WORK, 'pkg', fn)
    rmSync(dest, { recursive: true, force: true })
    const files = extractZip(join(packageDir, name), dest)
    const entries = files.filter((f) => HANDLER_FILE.test(f))
    if (entries.length > 1) throw new Error(`${name} holds more than one handler file: ${entries.join(', ')}`)
    if (entries.length === 1) handlers[fn] = join(dest, entries[0])
  }
  for (const fn of ['authorizer', 'whoami']) if (handlers[fn] === undefined) throw new Error(`serverless package produced no ${fn}.zip`)

  // The baseline, bundled exactly like ours (CommonJS, .cjs), then zipped. Its entry is
  // CommonJS already, so the bundle's module.exports.handler is what Lambda's require() finds.
  const baselineDir = join(WORK, 'baseline')
  rmSync(baselineDir, { recursive: true, force: true })
  const baselineHandler = join(baselineDir, 'index.cjs')
  await build({ ...LAMBDA_BUILD, entryPoints: [join(ROOT, 'bench', 'baseline', 'index.cjs')], outfile: baselineHandler })
  const baselineZip = join(WORK, 'baseline.zip')
  zips.baseline = writeZip(baselineZip, [{ name: 'index.cjs', data: readFileSync(baselineHandler) }])
  // Our authorizer bundle through the same zip writer, so the size ratio is like for like.
  const ourAuthorizerRezipped = writeZip(join(WORK, 'authorizer-rezipped.zip'), [
    { name: relative(join(WORK, 'pkg', 'authorizer'), handlers.authorizer), data: readFileSync(handlers.authorizer) }
  ])

  // The floor verifier as a handler, bundled exactly like ours and the baseline (CommonJS, .cjs):
  // the reference every measure is divided by.
  const floorHandler = join(WORK, 'floor', 'floor.cjs')
  rmSync(dirname(floorHandler), { recursive: true, force: true })
  await build({ ...LAMBDA_BUILD, entryPoints: [join(ROOT, 'bench', 'lib', 'floor-handler.mjs')], outfile: floorHandler })

  // Probe handlers, CommonJS like ours: an empty one, and one whose first call loads
  // @aws-sdk/client-dynamodb with import(), as our authorizer's first revocation lookup does.
  const probesDir = join(WORK, 'probes')
  rmSync(probesDir, { recursive: true, force: true })
  mkdirSync(probesDir, { recursive: true })
  const emptyHandler = join(probesDir, 'empty.cjs')
  writeFileSync(emptyHandler, 'exports.handler = async () => ({ ok: true })\n')
  const dynamoProbeHandler = join(probesDir, 'dynamodb-first-call.cjs')
  writeFileSync(dynamoProbeHandler, "exports.handler = async () => {\n  await import('@aws-sdk/client-dynamodb')\n  return { ok: true }\n}\n")
  rmSync(join(WORK, 'what-if'), { recursive: true, force: true }) // left by older versions of the bench
  // The authorizer's decision code and revocation check, bundled like the authorizer, for the cache-hit probe.
  const revocationProbe = join(probesDir, 'revocation-probe.cjs')
  await build({ ...LAMBDA_BUILD, entryPoints: [join(ROOT, 'bench', 'lib', 'revocation-probe.ts')], outfile: revocationProbe })

  const helpers = {
    localDynamoDb: await bundleHelper('src/local/local-dynamodb.ts', 'local-dynamodb.mjs'),
    moesifCollector: await bundleHelper('src/local/moesif-collector.ts', 'moesif-collector.mjs')
  }

  const shipped = buildShippedBaseline()
  zips.baselineShipped = shipped.zipBytes

  const bundleBytes = {
    authorizer: statSync(handlers.authorizer).size,
    whoami: statSync(handlers.whoami).size,
    baseline: statSync(baselineHandler).size,
    floor: statSync(floorHandler).size
  }
  return {
    zips,
    ourAuthorizerRezipped,
    bundleBytes,
    handlers,
    baselineHandler,
    shippedBaselineHandler: shipped.handler,
    floorHandler,
    emptyHandler,
    dynamoProbeHandler,
    revocationProbe,
    helpers
  }
}
