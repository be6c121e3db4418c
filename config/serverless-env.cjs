// Resolved by serverless.yml at package/offline time. Kept in JS because the
// framework's variable syntax cannot split a comma-separated list.
'use strict'

const DEFAULT_ORIGINS = 'http://127.0.0.1:4000'

/**
 * A setting as the functions read it: the plain name, then the reference
 * plugin's PLUGIN_ name, with an empty value counting as unset, as at run time.
 */
function setting(name) {
  for (const candidate of [name, `PLUGIN_${name}`]) {
    const value = (process.env[candidate] || '').trim()
    if (value !== '') return value
  }
  return ''
}

module.exports.jwtAlgorithm = () => setting('JWT_ALGORITHM') || 'HS256'

// JWT_VERIFY_KEY is packaged into the template: a public key only.
module.exports.jwtVerifyKey = () => {
  const value = setting('JWT_VERIFY_KEY')
  if (/PRIVATE KEY-----/.test(value)) {
    throw new Error('JWT_VERIFY_KEY holds a private key. It is packaged into the template, so give it the public key only (openssl pkey -pubout).')
  }
  return value
}
module.exports.jwtSecretSsmParameter = () => setting('JWT_SECRET_SSM_PARAMETER')
module.exports.jwtVerifyKeySsmParameter = () => setting('JWT_VERIFY_KEY_SSM_PARAMETER')
module.exports.jwtSecretArn = () => setting('JWT_SECRET_ARN')
module.exports.stripeApiKeySsmParameter = () => setting('STRIPE_API_KEY_SSM_PARAMETER')
module.exports.stripeWebhookSecretSsmParameter = () => setting('STRIPE_WEBHOOK_SECRET_SSM_PARAMETER')
module.exports.moesifManagementTokenSsmParameter = () => setting('MOESIF_MANAGEMENT_TOKEN_SSM_PARAMETER')

// API Gateway caches an authorizer answer per key for this long; 0 to 3600 s.
module.exports.authorizerCacheTtl = () => {
  const raw = (process.env.AUTHORIZER_CACHE_TTL || '').trim()
  if (raw === '') return 30
  const seconds = Number(raw)
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 3600) {
    throw new Error('AUTHORIZER_CACHE_TTL must be a whole number of seconds from 0 to 3600')
  }
  return seconds
}

// The browser origins API Gateway's CORS allows. Checked here, at package time:
// a value such as https://portal.example.com/ (a URL, not an origin) would never match.
module.exports.portalOrigins = () => {
  const origins = (process.env.PORTAL_ORIGINS || DEFAULT_ORIGINS)
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean)
  for (const origin of origins) {
    let parsed
    try {
      parsed = new URL(origin)
    } catch {
      parsed = undefined
    }
    if (parsed === undefined || parsed.origin !== origin) {
      throw new Error(
        `PORTAL_ORIGINS must be a comma-separated list of origins such as https://portal.example.com (scheme, host and port only); got an entry that is not one`
      )
    }
  }
  return origins
}

// JWT_PREVIOUS_KEYS is baked into the template at package time. Public JWKs
// may travel that way; an HMAC ("oct") key or a private member is a secret and
// must not, so packaging a deployed stage with one fails here rather than leak
// it. The value is parsed, not pattern-matched: JSON escapes ("\u006b") would
// slip past a regex.
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

module.exports.previousKeysForDeploy = () => {
  const value = setting('JWT_PREVIOUS_KEYS')
  if (value === '') return ''
  let jwks
  try {
    jwks = JSON.parse(value)
  } catch {
    throw new Error('JWT_PREVIOUS_KEYS must be a JSON Web Key Set {"keys":[...]} (it is not valid JSON)')
  }
  const keys = jwks !== null && typeof jwks === 'object' ? jwks.keys : undefined
  if (!Array.isArray(keys) || keys.some((jwk) => jwk === null || typeof jwk !== 'object' || Array.isArray(jwk))) {
    throw new Error('JWT_PREVIOUS_KEYS must be a JSON Web Key Set {"keys":[...]} of JWK objects')
  }
  for (const jwk of keys) {
    if (jwk.kty === 'oct' || PRIVATE_JWK_MEMBERS.some((member) => Object.hasOwn(jwk, member))) {
      throw new Error(
        'JWT_PREVIOUS_KEYS holds secret key material (an "oct" key or private members). ' +
          'Only public JWKs may be packaged into a deployed stage; rotate HMAC secrets by moving to an asymmetric algorithm, or keep the old secret out of the template.'
      )
    }
  }
  return value
}

const keyTableArn = { 'Fn::GetAtt': ['KeysTable', 'Arn'] }

function ssmParameterArn(name) {
  if (name.startsWith('arn:')) return name
  // SSM ARNs have no double slash: /a/b becomes parameter/a/b.
  return { 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/${name.replace(/^\//, '')}` }
}

function secretArn(value) {
  if (value.startsWith('arn:')) return value
  // A name: Secrets Manager appends a random 6-character suffix to the ARN.
  return { 'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${value}-??????` }
}

const keyIndexArn = { 'Fn::Join': ['/', [keyTableArn, 'index', 'byCompany']] }

const isHmac = () => (setting('JWT_ALGORITHM') || 'HS256').startsWith('HS')
const hasPublicKey = () => setting('JWT_VERIFY_KEY') !== '' || setting('JWT_VERIFY_KEY_SSM_PARAMETER') !== ''

const stripeMode = () => setting('APP_PAYMENT_PROVIDER').toLowerCase() === 'stripe'
const customMode = () => setting('APP_PAYMENT_PROVIDER').toLowerCase() === 'custom'
/** The service secrets a customer-resolving function needs: the Stripe API key in stripe mode. */
const billingSecrets = () => (stripeMode() ? ['STRIPE_API_KEY'] : [])

/**
 * The secret reads a function needs, mirroring neededSources() in
 * src/lib/keys/secret-sources.ts: the issuer reads the signing key; the
 * authorizer reads it only for HMAC or when no public key is configured; the
 * JWKS endpoint only when it must derive the public key. A service secret
 * (Stripe's) comes from its own SSM parameter, else from the JSON secret.
 */
function secretStatements({ keys, services = [] }) {
  const parameters = []
  let useSecret = false
  if (keys !== undefined) {
    const needSecret = keys === 'sign' || (keys === 'verify' ? isHmac() || !hasPublicKey() : !isHmac() && !hasPublicKey())
    if (needSecret) parameters.push(setting('JWT_SECRET_SSM_PARAMETER'))
    parameters.push(setting('JWT_VERIFY_KEY_SSM_PARAMETER'))
    useSecret = needSecret
  }
  for (const name of services) {
    const parameter = setting(`${name}_SSM_PARAMETER`)
    if (parameter !== '') parameters.push(parameter)
    else useSecret = true
  }
  const statements = []
  const names = parameters.filter(Boolean)
  if (names.length > 0) statements.push({ Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: names.map(ssmParameterArn) })
  if (useSecret && setting('JWT_SECRET_ARN')) {
    statements.push({ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [secretArn(setting('JWT_SECRET_ARN'))] })
  }
  return statements
}

/**
 * The management token's reads for a route that needs only it. Billing modes
 * that sell Moesif's plans (stripe, custom) always need it, from its SSM
 * parameter or the JSON secret; without billing the portal routes are
 * optional, and read it only from MOESIF_MANAGEMENT_TOKEN_SSM_PARAMETER, so
 * they never get to read a JSON secret that holds the signing key.
 */
const managementToken = () =>
  stripeMode() || customMode() || setting('MOESIF_MANAGEMENT_TOKEN_SSM_PARAMETER') !== ''
    ? secretStatements({ services: ['MOESIF_MANAGEMENT_TOKEN'] })
    : []

const table = (actions) => ({ Effect: 'Allow', Action: actions, Resource: [keyTableArn] })
const index = (actions) => ({ Effect: 'Allow', Action: actions, Resource: [keyIndexArn] })

/**
 * Exactly what each function calls, and nothing else. Logging comes from
 * AWS's AWSLambdaBasicExecutionRole on every role.
 */
const FUNCTION_STATEMENTS = {
  // One BatchGetItem per revocation lookup.
  authorizer: () => [table(['dynamodb:BatchGetItem']), ...secretStatements({ keys: 'verify' })],
  // Records the key (PutItem), reads the company's revoke-all instant (GetItem), counts active keys (Query).
  createKey: () => [
    table(['dynamodb:GetItem', 'dynamodb:PutItem']),
    index(['dynamodb:Query']),
    ...secretStatements({ keys: 'sign', services: billingSecrets() })
  ],
  listKeys: () => [table(['dynamodb:GetItem']), index(['dynamodb:Query']), ...secretStatements({ services: billingSecrets() })],
  revokeKey: () => [table(['dynamodb:UpdateItem']), ...secretStatements({ services: billingSecrets() })],
  revokeAllKeys: () => [table(['dynamodb:UpdateItem']), ...secretStatements({ services: billingSecrets() })],
  jwks: () => secretStatements({ keys: 'publish' }),
  // Revokes a customer's keys (UpdateItem) after checking the customer's subscriptions with Stripe.
  stripeWebhook: () =>
    stripeMode() ? [table(['dynamodb:UpdateItem']), ...secretStatements({ services: ['STRIPE_WEBHOOK_SECRET', 'STRIPE_API_KEY'] })] : [],
  whoami: () => [],
  openapi: () => [],
  // The Moesif portal's routes, mirroring portalRouteSecrets() in src/lib/portal/portal-api-config.ts: only the
  // functions that call Moesif's management API read its token (see managementToken). GetItem finds the customer
  // the portal remembered for an email; PutItem remembers one, or records a registration.
  plans: () => managementToken(),
  createCheckoutSession: () =>
    stripeMode()
      ? [table(['dynamodb:GetItem', 'dynamodb:PutItem']), ...secretStatements({ services: ['STRIPE_API_KEY', 'MOESIF_MANAGEMENT_TOKEN'] })]
      : [],
  registerStripe: () =>
    stripeMode() ? [table(['dynamodb:GetItem', 'dynamodb:PutItem']), ...secretStatements({ services: ['STRIPE_API_KEY'] })] : [],
  subscriptions: () =>
    stripeMode()
      ? [table(['dynamodb:GetItem']), ...secretStatements({ services: ['STRIPE_API_KEY', 'MOESIF_MANAGEMENT_TOKEN'] })]
      : managementToken(),
  embedCharts: () =>
    stripeMode()
      ? [table(['dynamodb:GetItem']), ...secretStatements({ services: ['STRIPE_API_KEY', 'MOESIF_MANAGEMENT_TOKEN'] })]
      : managementToken(),
  stripeCustomer: () => (stripeMode() ? [table(['dynamodb:GetItem']), ...secretStatements({ services: ['STRIPE_API_KEY'] })] : []),
  registerCustom: () =>
    customMode() ? [table(['dynamodb:GetItem', 'dynamodb:PutItem']), ...secretStatements({ services: ['MOESIF_MANAGEMENT_TOKEN'] })] : [],
  oktaRegister: () => []
}

/**
 * The CloudFormation role of one function: Lambda may assume it, it may log,
 * and its inline policy (none when empty) holds exactly FUNCTION_STATEMENTS.
 */
function functionRole(name) {
  const statements = FUNCTION_STATEMENTS[name]()
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] }]
      },
      ManagedPolicyArns: [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole' }],
      ...(statements.length === 0
        ? {}
        : { Policies: [{ PolicyName: `${name}-calls`, PolicyDocument: { Version: '2012-10-17', Statement: statements } }] })
    }
  }
}

module.exports.functionStatements = (name) => FUNCTION_STATEMENTS[name]()
for (const name of Object.keys(FUNCTION_STATEMENTS)) {
  module.exports[`${name}Role`] = () => functionRole(name)
}

/* global __dirname */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { join } = require('node:path')

let projectChecks
/**
 * The project's own validators (src/lib), bundled with esbuild on first use,
 * so `serverless package` refuses exactly what the functions would refuse at
 * run time, with the same messages, instead of a second copy of the rules.
 */
function loadProjectChecks() {
  if (projectChecks !== undefined) return projectChecks
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildSync } = require('esbuild')
  const root = join(__dirname, '..')
  const { outputFiles } = buildSync({
    stdin: {
      contents: [
        "export { loadPortalConfig } from './src/lib/portal/portal-config'",
        "export { secretSourcesFromEnv } from './src/lib/keys/secret-sources'",
        "export { moesifSettingsFromEnv } from './src/lib/moesif/settings'",
        "export { loadBillingConfig } from './src/lib/billing/billing-config'",
        "export { loadPortalApiConfig } from './src/lib/portal/portal-api-config'"
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
      sourcefile: 'deploy-checks.ts'
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    logLevel: 'silent'
  })
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Module = require('node:module')
  const compiled = new Module(join(root, 'config', 'deploy-checks.cjs'))
  compiled._compile(outputFiles[0].text, join(root, 'config', 'deploy-checks.cjs'))
  projectChecks = compiled.exports
  return projectChecks
}

/** The stage being resolved: provider.stage (itself `${opt:stage, 'dev'}`), else the CLI option, else 'dev'. */
async function stageOf({ options, resolveConfigurationProperty }) {
  const fromProvider = resolveConfigurationProperty === undefined ? undefined : await resolveConfigurationProperty(['provider', 'stage'])
  return String(fromProvider || (options && (options.stage || options.s)) || 'dev')
}

/**
 * What every stage but `local` needs before it can answer a single request:
 * a store for the signing secret (JWT_SECRET itself never travels in the
 * template) and a portal identity provider. Checked at package time, so a
 * deploy that would answer 500 to every create-key never packages. Settings
 * are read as the functions read them (PLUGIN_ names, empty = unset).
 */
module.exports.deployChecks = async (resolver) => {
  const stage = await stageOf(resolver)
  if (stage === 'local') return 'skipped: the local stage is checked by npm start'
  const env = { ...process.env }
  if (setting('JWT_SECRET_SSM_PARAMETER') === '' && setting('JWT_SECRET_ARN') === '') {
    const ignored = setting('JWT_SECRET') === '' ? '' : ' The JWT_SECRET in your environment is not used: it is never packaged.'
    throw new Error(
      `Invalid configuration: JWT_SECRET_SSM_PARAMETER or JWT_SECRET_ARN must be set for stage "${stage}" ` +
        `(the SSM SecureString parameter or Secrets Manager secret holding the signing key; the functions fetch it at cold start).${ignored} See README "Deploy".`
    )
  }
  // Stripe and custom billing sell Moesif's plans: their pages and checkout need the management API.
  const needed = [
    ...(stripeMode() ? ['STRIPE_API_KEY', 'STRIPE_WEBHOOK_SECRET'] : []),
    ...(stripeMode() || customMode() ? ['MOESIF_MANAGEMENT_TOKEN'] : [])
  ]
  if (needed.length > 0) {
    for (const name of needed) {
      if (setting(`${name}_SSM_PARAMETER`) === '' && setting('JWT_SECRET_ARN') === '') {
        throw new Error(
          `Invalid configuration: ${name}_SSM_PARAMETER (or a JWT_SECRET_ARN secret with a ${name} field) must be set for stage "${stage}" ` +
            `when APP_PAYMENT_PROVIDER=${setting('APP_PAYMENT_PROVIDER').toLowerCase()}: secrets are fetched at cold start, never packaged. ` +
            (name.startsWith('STRIPE_')
              ? 'See README "Monetization with Stripe".'
              : 'See README "Run the Moesif portal frontend against this stack".')
        )
      }
    }
  }
  const { loadPortalConfig, secretSourcesFromEnv, moesifSettingsFromEnv, loadBillingConfig, loadPortalApiConfig } = loadProjectChecks()
  // The secret itself is fetched at run time: leave it out, so only the store names are judged here.
  delete env.JWT_SECRET
  delete env.PLUGIN_JWT_SECRET
  delete env.STRIPE_API_KEY
  delete env.STRIPE_WEBHOOK_SECRET
  delete env.MOESIF_MANAGEMENT_TOKEN
  try {
    secretSourcesFromEnv(env)
    loadPortalConfig(env)
    moesifSettingsFromEnv(env)
    // The Stripe key itself is fetched at run time: a placeholder lets the other Stripe settings be judged now.
    loadBillingConfig({ ...env, STRIPE_API_KEY: 'sk_placeholder_at_package_time' })
    loadPortalApiConfig(env)
  } catch (error) {
    // ConfigError's message names the variable and what was expected, never the value.
    throw new Error(`${error.message} (stage "${stage}"). See README "Configuration".`)
  }
  return 'passed'
}

/** A whole number setting within bounds, `fallback` when unset; a clear error otherwise. */
function wholeNumber(name, fallback, min, max) {
  const raw = setting(name)
  if (raw === '') return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`Invalid configuration: ${name} must be a whole number from ${min} to ${max}`)
  }
  return value
}

// HTTP API stage throttling (requests per second, steady and burst), for every route.
module.exports.throttleRate = () => wholeNumber('HTTP_API_THROTTLE_RATE', 500, 1, 10000)
module.exports.throttleBurst = () => wholeNumber('HTTP_API_THROTTLE_BURST', 1000, 1, 5000)
