// Resolved by serverless.yml (the second element of its `functions` array).
// The local key console exists only in the `local` stage (`npm start`): in any
// other stage this resolves to {}, so `serverless package` never builds, zips
// or routes it. test/serverless-template.test.ts proves both sides.
'use strict'

/* global __dirname */
// A CommonJS file, as the framework loads it: require is the way in here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { join, resolve } = require('node:path')

/** The stage being resolved: provider.stage (itself `${opt:stage, 'dev'}`), else the CLI option, else 'dev'. */
async function stageOf({ options, resolveConfigurationProperty }) {
  const fromProvider = resolveConfigurationProperty === undefined ? undefined : await resolveConfigurationProperty(['provider', 'stage'])
  return String(fromProvider || (options && (options.stage || options.s)) || 'dev')
}

// Every route the console adds. They are not part of the API, so the OpenAPI
// document leaves them out; the template test checks this exact list.
const localFunctions = () => ({
  localConsole: {
    handler: 'src/local/handlers/local-console.handler',
    description: 'Local stage only: the key console page and its script and stylesheet',
    // Read from disk on each request, so an edit to the page shows on reload.
    environment: { LOCAL_CONSOLE_DIR: join(__dirname, '..', 'src', 'local', 'console') },
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
    environment: { LOCAL_STATE_DIR: resolve(process.env.LOCAL_STATE_DIR || '.local') },
    events: [{ httpApi: { method: 'POST', path: '/local/login' } }]
  },
  localMoesifEvents: {
    handler: 'src/local/handlers/local-moesif-events.handler',
    description: 'Local stage only: the events the local Moesif collector received',
    events: [{ httpApi: { method: 'GET', path: '/local/moesif-events' } }]
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
