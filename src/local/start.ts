import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEnv } from 'node:util'
import { stop as stopEsbuild } from 'esbuild'
import { loadApiKeyConfig } from '../lib/keys/api-key-config'
import { moesifSettingsFromEnv } from '../lib/moesif/settings'
import { loadPortalConfig } from '../lib/portal/portal-config'
import { LOCAL_IDP_AUDIENCE, LOCAL_IDP_ISSUER, startJwksServer } from './identity-provider'
import { ensureLocalState } from './local-state'
import { ensureKeyTable, startLocalDynamoDb } from './local-dynamodb'
import { describeMoesifEvent, ensureMoesifGovernanceFile, startMoesifCollector } from './moesif-collector'
import { installOfflineHooks, summarizeServerlessError } from './offline-hooks'
import { planLocalStripe } from './local-stripe-settings'
import { startStripeForStack } from './local-stripe-stand-in'
import { startLocalMoesifManagement } from './moesif-management/local'
import { loadPortalApiConfig } from '../lib/portal/portal-api-config'
import { printable } from './printable'
import { describeUnknownSetting, projectSettingNames, unknownSettings } from './setting-names'
import { acquireStackLock, stateFolderGitProblem } from './state-lock'

/**
 * `npm start`: the whole stack on 127.0.0.1 with no AWS account and no .env.
 *
 * In this one process: dynalite (the key table, kept under .local/), the
 * local identity provider's JWKS, a local Moesif collector (unless
 * MOESIF_APPLICATION_ID is set) and serverless-offline itself, so stopping
 * npm stops everything. Every setting is checked before anything starts, and
 * any failure ends the process with one `[local] could not start:` line.
 */

/** Whether the line saying why the process ends has been printed (there is only ever one). */
let reported = false

// esbuild's service (the child process that bundled this file and the functions) writes to this
// process's stderr; left to find its parent gone, it may print a Go goroutine dump after the last
// line. Stopped here, on any exit, it ends quietly.
process.on('exit', () => stopEsbuild())

/** One line on stderr; whatever it quotes is made printable (a newline in a value cannot forge a line). */
const say = (message: string): void => {
  process.stderr.write(`[local] ${printable(message)}\n`)
}

/** Apply `.env` without overriding what the shell already set; return every name it holds. */
function loadDotEnv(path: string): string[] {
  if (!existsSync(path)) return []
  const parsed = parseEnv(readFileSync(path, 'utf8'))
  const applied: string[] = []
  for (const [name, value] of Object.entries(parsed)) {
    if (process.env[name] === undefined) {
      process.env[name] = value
      applied.push(name)
    }
  }
  say(`read ${applied.length} setting(s) from ${path}${applied.length === 0 ? '' : `: ${applied.join(', ')}`}`)
  return Object.keys(parsed)
}

/** Warn about names nobody reads, with the known name each probably meant. */
function warnUnknownSettings(dotEnvNames: readonly string[]): void {
  const known = projectSettingNames(process.cwd())
  for (const unknown of unknownSettings({ dotEnv: dotEnvNames, environment: Object.keys(process.env), known })) {
    say(`warning: ${describeUnknownSetting(unknown)}`)
  }
}

const isSet = (name: string): boolean => (process.env[name] ?? '').trim() !== '' || (process.env[`PLUGIN_${name}`] ?? '').trim() !== ''

/** A port setting: a whole number from 1 to 65535. */
function portSetting(name: string, fallback: number): number {
  const raw = (process.env[name] ?? '').trim()
  if (raw === '') return fallback
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN
  if (!(port >= 1 && port <= 65535)) throw new Error(`Invalid configuration: ${name} must be a whole number from 1 to 65535`)
  return port
}

/** The identity-provider names the reference portal uses, which mean nothing without AUTH_PROVIDER. */
const PROVIDER_SETTINGS = ['AUTH0_DOMAIN', 'AUTH0_CLIENT_ID', 'OKTA_ORG_URL', 'OKTA_CLIENT_ID']

async function main(): Promise<void> {
  const require = createRequire(import.meta.url)
  warnUnknownSettings(loadDotEnv('.env'))
  if (isSet('LAMBDA_PORT'))
    say("warning: LAMBDA_PORT is ignored: the local stack keeps serverless-offline's Lambda Invoke API closed (call the HTTP routes instead)")

  // Every check comes first: a setting that would fail each request refuses the start instead.
  const port = portSetting('PORT', 3000)
  process.env.PORT = String(port)
  const baseUrl = `http://127.0.0.1:${port}`
  // The rule `serverless package` applies, from the same file: API Gateway's CORS origins.
  const { portalOrigins } = require(join(process.cwd(), 'config', 'serverless-env.cjs')) as { portalOrigins: () => string[] }
  const allowedOrigins = portalOrigins()

  const stateDir = process.env.LOCAL_STATE_DIR || '.local'
  const gitProblem = stateFolderGitProblem(stateDir)
  if (gitProblem !== undefined) throw new Error(gitProblem)
  acquireStackLock(stateDir, { url: baseUrl })
  const state = await ensureLocalState(stateDir, say)

  const algorithm = (process.env.JWT_ALGORITHM || process.env.PLUGIN_JWT_ALGORITHM || 'HS256').trim()
  if (!isSet('JWT_SECRET') && algorithm.startsWith('HS')) {
    // The generated secret is 86 characters: long enough even for HS512.
    process.env.JWT_ALGORITHM = algorithm
    process.env.JWT_SECRET = state.jwtSecret
    say(`API keys: ${algorithm} with the generated secret in ${join(stateDir, 'jwt-secret')}`)
  }
  // Fail now, with the variable's name, rather than on the first request.
  loadApiKeyConfig(process.env, 'sign')

  const localIdentityProvider = !isSet('AUTH_PROVIDER') && !isSet('PORTAL_ISSUER') && !isSet('PORTAL_JWKS_URI')
  if (localIdentityProvider) {
    for (const name of PROVIDER_SETTINGS.filter(isSet)) {
      say(`warning: ${name} is ignored without AUTH_PROVIDER (Auth0 or Okta): portal logins use the local identity provider`)
    }
  } else {
    // What create-key would refuse every request with (AUTH0_DOMAIN missing, OKTA_ORG_URL not a URL, no PORTAL_JWKS_URI...).
    loadPortalConfig(process.env)
  }
  const localCollector = !isSet('MOESIF_APPLICATION_ID')
  moesifSettingsFromEnv(
    localCollector ? { ...process.env, MOESIF_APPLICATION_ID: 'local-collector', MOESIF_BASE_URI: 'http://127.0.0.1' } : process.env
  )
  // APP_PAYMENT_PROVIDER=stripe: the local Stripe stand-in, unless STRIPE_API_BASE names another Stripe.
  const stripePlan = planLocalStripe(process.env)
  // The portal API's settings (MOESIF_MANAGEMENT_*, PORTAL_URL, workspace ids): what its routes would refuse.
  loadPortalApiConfig(process.env)

  if (localIdentityProvider) {
    const jwks = await startJwksServer([state.identityProvider.publicJwk])
    process.env.PORTAL_ISSUER = LOCAL_IDP_ISSUER
    process.env.PORTAL_JWKS_URI = jwks.jwksUri
    process.env.PORTAL_AUDIENCE = LOCAL_IDP_AUDIENCE
    say(`portal logins: local identity provider, JWKS at ${jwks.jwksUri} (mint a login with npm run -s portal-token)`)
  }

  if (localCollector) {
    // Governance rules come from <state>/moesif-governance.json (an example is written the first time); re-read within 2 s.
    process.env.MOESIF_RULES_TTL ||= '2'
    const collector = await startMoesifCollector({
      retain: 100,
      governanceFile: ensureMoesifGovernanceFile(stateDir),
      onEvent: (event) => say(describeMoesifEvent(event))
    })
    process.env.MOESIF_APPLICATION_ID = 'local-collector'
    process.env.MOESIF_BASE_URI = collector.baseUri
    say(`moesif: no MOESIF_APPLICATION_ID, so events go to a local collector at ${collector.baseUri} and are printed here`)
  }

  if (!isSet('DYNAMODB_ENDPOINT')) {
    const dataDir = join(stateDir, 'dynamodb')
    const db = await startLocalDynamoDb({ path: dataDir })
    process.env.DYNAMODB_ENDPOINT = db.endpoint
    say(`key store: dynalite at ${db.endpoint}, data kept in ${dataDir}/`)
  }
  process.env.KEYS_TABLE ||= 'dev-portal-keys-local-keys'
  const table = await ensureKeyTable(process.env.DYNAMODB_ENDPOINT as string, process.env.KEYS_TABLE)
  say(`key table ${process.env.KEYS_TABLE}: ${table}`)

  const stripe = await startStripeForStack(stripePlan, { stateDir, stackUrl: baseUrl, say, env: process.env })
  // Stripe mode: the Moesif management API stand-in (plans, subscriptions, dashboard tokens), unless yours is set.
  if (stripe !== undefined && process.env.STRIPE_API_BASE !== undefined && process.env.STRIPE_API_KEY !== undefined) {
    await startLocalMoesifManagement({ url: process.env.STRIPE_API_BASE, apiKey: process.env.STRIPE_API_KEY }, say)
  }

  // A build folder of this process's own: a concurrent `serverless package` or a second stack must not clean it.
  process.env.ESBUILD_WORK_FOLDER ??= `.esbuild-local-${process.pid}`
  const buildFolder = process.env.ESBUILD_WORK_FOLDER
  // serverless-offline's Lambda Invoke API cannot be turned off: a Unix socket in a private folder, refusing every request.
  const invokeFolder = mkdtempSync(join(tmpdir(), 'dpk-invoke-'))
  process.env.LOCAL_INVOKE_SOCKET = join(invokeFolder, 'invoke.sock')
  process.on('exit', () => {
    rmSync(buildFolder, { recursive: true, force: true })
    rmSync(invokeFolder, { recursive: true, force: true })
  })

  say(`starting serverless offline on ${baseUrl} (stage local)`)
  say(`key console: ${baseUrl}/ (sign in, create, call and revoke keys; local stage only)`)

  // serverless-offline runs in this process: Ctrl-C or SIGTERM to npm ends it all.
  const bin = require.resolve('serverless/bin/serverless.js')
  let ready = false
  const fail = (message: string): void => {
    if (reported) return
    reported = true
    say(`${ready ? 'stopped' : 'could not start'}: ${message}`)
    process.exit(1)
  }
  installOfflineHooks(bin, {
    httpPort: port,
    allowedOrigins,
    onHttpListening: () => {
      ready = true
      // Webhooks made while the stack started were held back: they go now.
      stripe?.stackListening()
    },
    onError: (error) => {
      if (process.env.LOG_LEVEL === 'DEBUG' && error instanceof Error) process.stderr.write(`${error.stack ?? error.message}\n`)
      fail(`serverless offline: ${summarizeServerlessError(error instanceof Error ? error.message : String(error))}`)
    }
  })
  // Should a failure still get past the hook, serverless sets process.exitCode: never wait on it with nothing listening.
  setInterval(() => {
    const code = Number(process.exitCode ?? 0)
    if (!ready && code !== 0) fail(`serverless offline failed (exit code ${code}; its error is above)`)
  }, 250).unref()
  process.on('exit', (code) => {
    if (code === 0 || reported) return
    reported = true
    say(`${ready ? 'stopped' : 'could not start'}: serverless offline exited with code ${code} (its error is above)`)
  })
  process.argv = [process.execPath, bin, 'offline', 'start', '--stage', 'local']
  require(bin)
}

main().catch((error: unknown) => {
  if (reported) return
  reported = true
  say(`could not start: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
