import { existsSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { parseEnv } from 'node:util'
import { loadApiKeyConfig } from '../lib/keys/api-key-config'
import { LOCAL_IDP_AUDIENCE, LOCAL_IDP_ISSUER, startJwksServer } from './identity-provider'
import { freePort } from './free-port'
import { ensureLocalState } from './local-state'
import { ensureKeyTable, startLocalDynamoDb } from './local-dynamodb'
import { startMoesifCollector, type MoesifWireEvent } from './moesif-collector'

/**
 * `npm start`: the whole stack on 127.0.0.1 with no AWS account and no .env.
 *
 * In this one process: dynalite (the key table, kept under .local/), the
 * local identity provider's JWKS, a local Moesif collector (unless
 * MOESIF_APPLICATION_ID is set) and serverless-offline itself, so stopping
 * npm stops everything.
 */

const say = (message: string): void => {
  process.stderr.write(`[local] ${message}\n`)
}

/** Apply `.env` without overriding what the shell already set. */
function loadDotEnv(path: string): void {
  if (!existsSync(path)) return
  const parsed = parseEnv(readFileSync(path, 'utf8'))
  let applied = 0
  for (const [name, value] of Object.entries(parsed)) {
    if (process.env[name] === undefined) {
      process.env[name] = value
      applied++
    }
  }
  say(`read ${applied} setting(s) from ${path}`)
}

const isSet = (name: string): boolean => (process.env[name] ?? '').trim() !== '' || (process.env[`PLUGIN_${name}`] ?? '').trim() !== ''

function describeMoesifEvent(event: MoesifWireEvent): string {
  const headers = event.request.headers ?? {}
  const auth = Object.entries(headers).find(([name]) => name.toLowerCase() === 'authorization')?.[1]
  return (
    `moesif event: ${event.request.verb} ${event.request.uri} -> ${event.response.status}` +
    ` company_id=${event.company_id ?? '-'} user_id=${event.user_id ?? '-'} authorization=${auth === undefined ? '(absent)' : String(auth)}`
  )
}

async function main(): Promise<void> {
  loadDotEnv('.env')
  const stateDir = process.env.LOCAL_STATE_DIR || '.local'
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

  if (!isSet('AUTH_PROVIDER') && !isSet('PORTAL_ISSUER') && !isSet('PORTAL_JWKS_URI')) {
    const jwks = await startJwksServer([state.identityProvider.publicJwk])
    process.env.PORTAL_ISSUER = LOCAL_IDP_ISSUER
    process.env.PORTAL_JWKS_URI = jwks.jwksUri
    process.env.PORTAL_AUDIENCE = LOCAL_IDP_AUDIENCE
    say(`portal logins: local identity provider, JWKS at ${jwks.jwksUri} (mint a login with npm run -s portal-token)`)
  }

  if (!isSet('MOESIF_APPLICATION_ID')) {
    const collector = await startMoesifCollector({ retain: 100, onEvent: (event) => say(describeMoesifEvent(event)) })
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

  // A build folder of this process's own: a concurrent `serverless package` or a second stack must not clean it.
  process.env.ESBUILD_WORK_FOLDER ??= `.esbuild-local-${process.pid}`
  const buildFolder = process.env.ESBUILD_WORK_FOLDER
  process.on('exit', () => rmSync(buildFolder, { recursive: true, force: true }))

  process.env.PORT ??= '3000'
  process.env.LAMBDA_PORT ??= String(await freePort())
  say(`starting serverless offline on http://127.0.0.1:${process.env.PORT} (stage local)`)
  say(`key console: http://127.0.0.1:${process.env.PORT}/ (sign in, create, call and revoke keys; local stage only)`)

  // serverless-offline runs in this process: Ctrl-C or SIGTERM to npm ends it all.
  const require = createRequire(import.meta.url)
  const bin = require.resolve('serverless/bin/serverless.js')
  process.argv = [process.execPath, bin, 'offline', 'start', '--stage', 'local']
  require(bin)
}

main().catch((error: unknown) => {
  say(`could not start: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
