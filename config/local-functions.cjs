// Resolved by serverless.yml (the second element of its `functions` array).
// The local key console exists only in the `local` stage (`npm start`): in any
// other stage this resolves to {}, so `serverless package` never builds, zips
// or routes it. test/serverless-template.test.ts proves both sides.
'use strict'

/* global __dirname */
// A CommonJS file, as the framework loads it: require is the way in here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { join, resolve } = require('node:path')
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { mkdtempSync, rmSync } = require('node:fs')
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { tmpdir } = require('node:os')

/** The stage being resolved: provider.stage (itself `${opt:stage, 'dev'}`), else the CLI option, else 'dev'. */
async function stageOf({ options, resolveConfigurationProperty }) {
  const fromProvider = resolveConfigurationProperty === undefined ? undefined : await resolveConfigurationProperty(['provider', 'stage'])
  return String(fromProvider || (options && (options.stage || options.s)) || 'dev')
}

// The port serverless-offline serves on (custom.serverless-offline.httpPort). Each local
// function refuses any request but its own page's on 127.0.0.1 or localhost at this port
// (src/local/loopback-guard.ts): it is what keeps other websites from minting ID tokens.
const stackPort = () => String(process.env.PORT || 3000)

// Every route the console adds. They are not part of the API, so the OpenAPI
// document leaves them out; the template test checks this exact list.
const localFunctions = () => ({
  localConsole: {
    handler: 'src/local/handlers/local-console.handler',
    description: 'Local stage only: the key console page and its script and stylesheet',
    // Read from disk on each request, so an edit to the page shows on reload.
    environment: { LOCAL_CONSOLE_DIR: join(__dirname, '..', 'src', 'local', 'console'), LOCAL_STACK_PORT: stackPort() },
    events: [
      { httpApi: { method: 'GET', path: '/' } },
      { httpApi: { method: 'GET', path: '/local/console.js' } },
      { httpApi: { method: 'GET', path: '/local/console.css' } }
    ]
  },
  localLogin: {
    handler: 'src/local/handlers/local-login.handler',
    description: 'Local stage only: signs in as a dev user of the local identity provider',
    // Where `npm start` keeps the local identity provider's key pair. Set here, not in
    // provider.environment, so no deployed function carries even an empty LOCAL_STATE_DIR.
    environment: { LOCAL_STATE_DIR: resolve(process.env.LOCAL_STATE_DIR || '.local'), LOCAL_STACK_PORT: stackPort() },
    events: [{ httpApi: { method: 'POST', path: '/local/login' } }]
  },
  localMoesifEvents: {
    handler: 'src/local/handlers/local-moesif-events.handler',
    description: 'Local stage only: the events the local Moesif collector received',
    environment: { LOCAL_STACK_PORT: stackPort() },
    events: [{ httpApi: { method: 'GET', path: '/local/moesif-events' } }]
  },
  localStripe: {
    handler: 'src/local/handlers/local-stripe.handler',
    description: 'Local stage only: stripe mode in the key console (subscribe and cancel at the local Stripe stand-in)',
    // The stand-in's lock lives in the state folder: it tells whether STRIPE_API_BASE is the stand-in npm start runs.
    environment: { LOCAL_STATE_DIR: resolve(process.env.LOCAL_STATE_DIR || '.local'), LOCAL_STACK_PORT: stackPort() },
    events: [
      { httpApi: { method: 'GET', path: '/local/stripe' } },
      { httpApi: { method: 'POST', path: '/local/stripe/subscribe' } },
      { httpApi: { method: 'POST', path: '/local/stripe/cancel' } }
    ]
  }
})

module.exports.functions = async (resolver) => {
  if ((await stageOf(resolver)) !== 'local') return {}
  // The local stage carries JWT_SECRET in its template and a login endpoint: it must never reach AWS.
  if (process.argv.slice(2).some((arg) => arg === 'deploy')) {
    throw new Error('The "local" stage is for serverless offline only: deploy another stage (npx serverless deploy --stage prod)')
  }
  return localFunctions()
}

/**
 * custom.serverless-offline.lambdaPort. serverless-offline 14 always starts a
 * second server for the Lambda Invoke API, which runs any function on any
 * event it is sent, with no authorizer: a page on any website could make
 * GET /v1/whoami record a forged company. It cannot be turned off, but hapi
 * takes a path for a port and listens on a Unix socket there, which no browser
 * can reach: `npm start` passes one in a private (0700) temporary folder as
 * LOCAL_INVOKE_SOCKET, and also refuses every request on it
 * (src/local/offline-hooks.ts). A direct `serverless offline` gets its own
 * folder, removed on exit; any other command never starts the server.
 */
module.exports.lambdaInvokeSocket = () => {
  if (process.env.LOCAL_INVOKE_SOCKET) return process.env.LOCAL_INVOKE_SOCKET
  if (!process.argv.slice(2).includes('offline')) return join(tmpdir(), 'dev-portal-keys-invoke-unused', 'invoke.sock')
  const folder = mkdtempSync(join(tmpdir(), 'dpk-invoke-'))
  process.on('exit', () => rmSync(folder, { recursive: true, force: true }))
  process.env.LOCAL_INVOKE_SOCKET = join(folder, 'invoke.sock')
  return process.env.LOCAL_INVOKE_SOCKET
}
