/**
 * config/serverless-env.cjs: what `serverless package` resolves from the
 * packaging environment. Called directly here (fast); the template test
 * checks the same functions through a real `serverless package`.
 */
import { createRequire } from 'node:module'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { useProcessEnv } from '../support/process-env'

type Statement = { Effect: string; Action: string[]; Resource: unknown[] }
interface ServerlessEnv {
  deployChecks: (resolver: { options: Record<string, unknown> }) => Promise<string>
  previousKeysForDeploy: () => string
  functionStatements: (name: string) => Statement[]
  throttleRate: () => number
  throttleBurst: () => number
  whoamiRole: () => { Type: string; Properties: Record<string, unknown> }
  createKeyRole: () => { Type: string; Properties: Record<string, unknown> }
}
const config = createRequire(import.meta.url)('../../config/serverless-env.cjs') as ServerlessEnv

afterEach(() => {
  vi.unstubAllEnvs()
})

const TABLE = { 'Fn::GetAtt': ['KeysTable', 'Arn'] }
const INDEX = { 'Fn::Join': ['/', [TABLE, 'index', 'byCompany']] }
const ssmArn = (name: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/${name}` })
const DEPLOYABLE = {
  JWT_SECRET_SSM_PARAMETER: '/dpk/prod/jwt-secret',
  AUTH_PROVIDER: 'Auth0',
  AUTH0_DOMAIN: 'acme.us.auth0.com',
  AUTH0_CLIENT_ID: 'client'
}

describe('functionStatements: one role per function, exactly what it calls', () => {
  it('HS256 with the secret in SSM: the issuer and the authorizer read it; the JWKS, whoami and openapi read nothing', () => {
    useProcessEnv({ JWT_ALGORITHM: 'HS256', JWT_SECRET_SSM_PARAMETER: '/dpk/prod/jwt-secret' })
    const secret = { Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: [ssmArn('dpk/prod/jwt-secret')] }
    expect(config.functionStatements('authorizer')).toEqual([{ Effect: 'Allow', Action: ['dynamodb:BatchGetItem'], Resource: [TABLE] }, secret])
    expect(config.functionStatements('createKey')).toEqual([
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: [TABLE] },
      { Effect: 'Allow', Action: ['dynamodb:Query'], Resource: [INDEX] },
      secret
    ])
    expect(config.functionStatements('listKeys')).toEqual([
      { Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: [TABLE] },
      { Effect: 'Allow', Action: ['dynamodb:Query'], Resource: [INDEX] }
    ])
    expect(config.functionStatements('revokeKey')).toEqual([{ Effect: 'Allow', Action: ['dynamodb:UpdateItem'], Resource: [TABLE] }])
    expect(config.functionStatements('revokeAllKeys')).toEqual([{ Effect: 'Allow', Action: ['dynamodb:UpdateItem'], Resource: [TABLE] }])
    expect(config.functionStatements('jwks')).toEqual([])
    expect(config.functionStatements('whoami')).toEqual([])
    expect(config.functionStatements('openapi')).toEqual([])
  })

  it('ES256 with JWT_VERIFY_KEY: the authorizer and the JWKS never hold the private key', () => {
    useProcessEnv({
      JWT_ALGORITHM: 'ES256',
      JWT_SECRET_ARN: 'dpk/prod/jwt',
      JWT_VERIFY_KEY: '-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----'
    })
    expect(config.functionStatements('authorizer')).toEqual([{ Effect: 'Allow', Action: ['dynamodb:BatchGetItem'], Resource: [TABLE] }])
    expect(config.functionStatements('jwks')).toEqual([])
    expect(config.functionStatements('createKey').at(-1)).toEqual({
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:dpk/prod/jwt-??????' }]
    })
  })

  it('ES256 with the public key in its own SSM parameter: the authorizer and the JWKS read that parameter only', () => {
    useProcessEnv({ JWT_ALGORITHM: 'ES256', JWT_SECRET_SSM_PARAMETER: '/dpk/private', JWT_VERIFY_KEY_SSM_PARAMETER: '/dpk/public' })
    const publicOnly = { Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: [ssmArn('dpk/public')] }
    expect(config.functionStatements('authorizer')).toEqual([{ Effect: 'Allow', Action: ['dynamodb:BatchGetItem'], Resource: [TABLE] }, publicOnly])
    expect(config.functionStatements('jwks')).toEqual([publicOnly])
    expect(config.functionStatements('createKey').at(-1)).toEqual({
      Effect: 'Allow',
      Action: ['ssm:GetParameters'],
      Resource: [ssmArn('dpk/private'), ssmArn('dpk/public')]
    })
  })

  it('ES256 without a public key: the JWKS derives it from the secret, so it may read the secret', () => {
    useProcessEnv({ JWT_ALGORITHM: 'ES256', JWT_SECRET_SSM_PARAMETER: '/dpk/private' })
    expect(config.functionStatements('jwks')).toEqual([{ Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: [ssmArn('dpk/private')] }])
  })

  it('stripe mode: customer-resolving functions read the Stripe API key, the webhook reads its secret too, nobody else either', () => {
    useProcessEnv({
      JWT_ALGORITHM: 'HS256',
      JWT_SECRET_SSM_PARAMETER: '/dpk/jwt',
      APP_PAYMENT_PROVIDER: 'stripe',
      STRIPE_API_KEY_SSM_PARAMETER: '/dpk/stripe-key',
      STRIPE_WEBHOOK_SECRET_SSM_PARAMETER: '/dpk/stripe-webhook'
    })
    const ssm = (...names: string[]) => ({ Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: names.map(ssmArn) })
    expect(config.functionStatements('createKey').at(-1)).toEqual(ssm('dpk/jwt', 'dpk/stripe-key'))
    for (const name of ['listKeys', 'revokeKey', 'revokeAllKeys']) expect(config.functionStatements(name).at(-1)).toEqual(ssm('dpk/stripe-key'))
    expect(config.functionStatements('stripeWebhook')).toEqual([
      { Effect: 'Allow', Action: ['dynamodb:UpdateItem'], Resource: [TABLE] },
      ssm('dpk/stripe-webhook', 'dpk/stripe-key')
    ])
    expect(config.functionStatements('authorizer').at(-1)).toEqual(ssm('dpk/jwt'))
    for (const name of ['jwks', 'whoami', 'openapi']) expect(config.functionStatements(name)).toEqual([])
  })

  it('stripe mode with one JSON secret: every function that needs a Stripe field may read that secret', () => {
    useProcessEnv({ JWT_ALGORITHM: 'ES256', JWT_SECRET_ARN: 'dpk/all', JWT_VERIFY_KEY: 'pem', APP_PAYMENT_PROVIDER: 'stripe' })
    const secret = {
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:dpk/all-??????' }]
    }
    expect(config.functionStatements('listKeys').at(-1)).toEqual(secret)
    expect(config.functionStatements('stripeWebhook').at(-1)).toEqual(secret)
    expect(config.functionStatements('authorizer')).toEqual([{ Effect: 'Allow', Action: ['dynamodb:BatchGetItem'], Resource: [TABLE] }])
  })

  it('builds a role Lambda may assume, with basic logging and no inline policy when there is nothing to call', () => {
    useProcessEnv({ JWT_ALGORITHM: 'HS256' })
    const role = config.whoamiRole()
    expect(role.Type).toBe('AWS::IAM::Role')
    expect(role.Properties.Policies).toBeUndefined()
    expect(role.Properties.ManagedPolicyArns).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole' }
    ])
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('lambda.amazonaws.com')
    expect((config.createKeyRole().Properties.Policies as unknown[]).length).toBe(1)
  })
})

describe('previousKeysForDeploy: only public JWKs travel in the template', () => {
  const publicRsa = { kty: 'RSA', n: 'AQAB', e: 'AQAB', kid: 'old', alg: 'RS256' }

  it.each([
    ['an oct key', { kty: 'oct', k: 'c2VjcmV0', kid: 'old', alg: 'HS256' }],
    ['an oct key spelled with JSON escapes', '{"keys":[{"kty":"\\u006fct","\\u006b":"c2VjcmV0","kid":"old","alg":"HS256"}]}'],
    ['a private RSA member spelled with an escape', `{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","\\u0064":"AQAB","kid":"old","alg":"RS256"}]}`],
    ['a private EC key', { kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c', kid: 'old', alg: 'ES256' }],
    ['an RSA key with primes', { ...publicRsa, p: 'a', q: 'b' }]
  ])('refuses %s', (_name, key) => {
    useProcessEnv({ JWT_PREVIOUS_KEYS: typeof key === 'string' ? key : JSON.stringify({ keys: [key] }) })
    expect(() => config.previousKeysForDeploy()).toThrow(/secret key material/)
  })

  it('refuses a value that is not a JWKS, and reads the PLUGIN_ name too', () => {
    useProcessEnv({ JWT_PREVIOUS_KEYS: '{"keys": [' })
    expect(() => config.previousKeysForDeploy()).toThrow(/not valid JSON/)
    useProcessEnv({ JWT_PREVIOUS_KEYS: '{"keys": 1}' })
    expect(() => config.previousKeysForDeploy()).toThrow(/JSON Web Key Set/)
    useProcessEnv({ PLUGIN_JWT_PREVIOUS_KEYS: JSON.stringify({ keys: [{ kty: 'oct', k: 'x' }] }) })
    expect(() => config.previousKeysForDeploy()).toThrow(/secret key material/)
  })

  it('passes public keys through unchanged', () => {
    const value = JSON.stringify({ keys: [publicRsa] })
    useProcessEnv({ JWT_PREVIOUS_KEYS: value })
    expect(config.previousKeysForDeploy()).toBe(value)
    useProcessEnv({})
    expect(config.previousKeysForDeploy()).toBe('')
  })
})

describe('deployChecks: every stage but local needs a secret store and an identity provider', () => {
  const prod = { options: { stage: 'prod' } }

  it('passes a deployable configuration, and skips the local stage', async () => {
    useProcessEnv(DEPLOYABLE)
    await expect(config.deployChecks(prod)).resolves.toBe('passed')
    useProcessEnv({
      ...DEPLOYABLE,
      APP_PAYMENT_PROVIDER: 'stripe',
      STRIPE_API_KEY_SSM_PARAMETER: '/k',
      STRIPE_WEBHOOK_SECRET_SSM_PARAMETER: '/w',
      MOESIF_MANAGEMENT_TOKEN_SSM_PARAMETER: '/m'
    })
    await expect(config.deployChecks(prod)).resolves.toBe('passed')
    useProcessEnv({})
    await expect(config.deployChecks({ options: { stage: 'local' } })).resolves.toMatch(/^skipped/)
  })

  it('refuses no secret store, and says a JWT_SECRET in the shell is not used', async () => {
    useProcessEnv({ ...DEPLOYABLE, JWT_SECRET_SSM_PARAMETER: '', JWT_SECRET: 'x'.repeat(40) })
    const refusal = config.deployChecks(prod)
    await expect(refusal).rejects.toThrow(/JWT_SECRET_SSM_PARAMETER or JWT_SECRET_ARN must be set for stage "prod"/)
    await expect(config.deployChecks(prod)).rejects.toThrow(/JWT_SECRET in your environment is not used/)
    await expect(config.deployChecks(prod)).rejects.not.toThrow(/xxxx/)
  })

  it('refuses the default dev stage too', async () => {
    useProcessEnv({ ...DEPLOYABLE, JWT_SECRET_SSM_PARAMETER: '' })
    await expect(config.deployChecks({ options: {} })).rejects.toThrow(/stage "dev"/)
  })

  it.each([
    ['no identity provider at all', { AUTH_PROVIDER: '', AUTH0_DOMAIN: '' }, /PORTAL_ISSUER must be set/],
    ['AUTH_PROVIDER=Auth0 without AUTH0_DOMAIN', { AUTH0_DOMAIN: '' }, /AUTH0_DOMAIN must be set/],
    ['OKTA_ORG_URL=not-a-url', { AUTH_PROVIDER: 'Okta', OKTA_ORG_URL: 'not-a-url' }, /OKTA_ORG_URL must be/],
    [
      'PORTAL_ISSUER without PORTAL_JWKS_URI',
      { AUTH_PROVIDER: '', PORTAL_ISSUER: 'https://idp.example/', PORTAL_AUDIENCE: 'a' },
      /PORTAL_JWKS_URI must be set/
    ],
    ['both secret stores', { JWT_SECRET_ARN: 'dpk/prod/jwt' }, /JWT_SECRET_ARN must be unset when JWT_SECRET_SSM_PARAMETER is set/],
    ['a bad Moesif setting', { MOESIF_MAX_WAIT_MS: 'soon' }, /MOESIF_MAX_WAIT_MS must be/],
    [
      'stripe mode without a Stripe key store',
      { APP_PAYMENT_PROVIDER: 'stripe', STRIPE_WEBHOOK_SECRET_SSM_PARAMETER: '/w' },
      /STRIPE_API_KEY_SSM_PARAMETER .* must be set/
    ],
    [
      'stripe mode without a webhook secret store',
      { APP_PAYMENT_PROVIDER: 'stripe', STRIPE_API_KEY_SSM_PARAMETER: '/k' },
      /STRIPE_WEBHOOK_SECRET_SSM_PARAMETER .* must be set/
    ],
    [
      'a plain-http STRIPE_API_BASE',
      {
        APP_PAYMENT_PROVIDER: 'stripe',
        STRIPE_API_KEY_SSM_PARAMETER: '/k',
        STRIPE_WEBHOOK_SECRET_SSM_PARAMETER: '/w',
        MOESIF_MANAGEMENT_TOKEN_SSM_PARAMETER: '/m',
        STRIPE_API_BASE: 'http://stripe.example'
      },
      /STRIPE_API_BASE must be/
    ],
    ['an unknown payment provider', { APP_PAYMENT_PROVIDER: 'paypal' }, /APP_PAYMENT_PROVIDER must be stripe or none/],
    [
      "stripe mode without a store for Moesif's management token",
      { APP_PAYMENT_PROVIDER: 'stripe', STRIPE_API_KEY_SSM_PARAMETER: '/k', STRIPE_WEBHOOK_SECRET_SSM_PARAMETER: '/w' },
      /MOESIF_MANAGEMENT_TOKEN_SSM_PARAMETER .* must be set .*APP_PAYMENT_PROVIDER=stripe/
    ],
    [
      "custom mode without a store for Moesif's management token",
      { APP_PAYMENT_PROVIDER: 'custom' },
      /MOESIF_MANAGEMENT_TOKEN_SSM_PARAMETER .* must be set/
    ],
    [
      'a plain-http MOESIF_MANAGEMENT_API_BASE',
      { APP_PAYMENT_PROVIDER: 'custom', MOESIF_MANAGEMENT_TOKEN_SSM_PARAMETER: '/m', MOESIF_MANAGEMENT_API_BASE: 'http://api.moesif.example' },
      /MOESIF_MANAGEMENT_API_BASE must be/
    ],
    ['a PORTAL_URL that is not a URL', { PORTAL_URL: 'portal' }, /PORTAL_URL must be/],
    [
      'one workspace id without the other',
      { MOESIF_TEMPLATE_WORKSPACE_ID_LIVE_EVENT_LOG: 'abc' },
      /MOESIF_TEMPLATE_WORKSPACE_ID_TIME_SERIES must be set too/
    ]
  ])('refuses %s, naming the variable', async (_name, override, message) => {
    useProcessEnv({ ...DEPLOYABLE, ...override })
    await expect(config.deployChecks(prod)).rejects.toThrow(message)
  })
})

describe('deployChecks: the Moesif portal routes', () => {
  const prod = { options: { stage: 'prod' } }

  it('custom mode needs the management token (its store) and nothing Stripe; without billing nothing more is needed', async () => {
    useProcessEnv({ ...DEPLOYABLE, APP_PAYMENT_PROVIDER: 'custom', MOESIF_MANAGEMENT_TOKEN_SSM_PARAMETER: '/m' })
    await expect(config.deployChecks(prod)).resolves.toBe('passed')
    useProcessEnv({ ...DEPLOYABLE, APP_PAYMENT_PROVIDER: 'custom', JWT_SECRET_SSM_PARAMETER: '', JWT_SECRET_ARN: 'dpk/prod/all' })
    await expect(config.deployChecks(prod)).resolves.toBe('passed')
    useProcessEnv(DEPLOYABLE)
    await expect(config.deployChecks(prod)).resolves.toBe('passed')
  })

  it('never packages a management token from the shell: it is judged without it', async () => {
    useProcessEnv({ ...DEPLOYABLE, MOESIF_MANAGEMENT_TOKEN: 'has spaces so it would be refused' })
    await expect(config.deployChecks(prod)).resolves.toBe('passed')
  })
})

describe('functionStatements: the Moesif portal routes', () => {
  const PORTAL_FUNCTIONS = [
    'plans',
    'createCheckoutSession',
    'registerStripe',
    'subscriptions',
    'embedCharts',
    'stripeCustomer',
    'registerCustom',
    'oktaRegister'
  ]
  const ssm = (...names: string[]) => ({ Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: names.map(ssmArn) })
  const statements = () => Object.fromEntries(PORTAL_FUNCTIONS.map((name) => [name, config.functionStatements(name)]))

  it('without billing: nothing, and the token only from its own parameter, never from the JSON secret with the signing key', () => {
    useProcessEnv({ JWT_ALGORITHM: 'HS256', JWT_SECRET_ARN: 'dpk/prod/all' })
    expect(Object.values(statements()).flat()).toEqual([])
    useProcessEnv({ JWT_ALGORITHM: 'HS256', JWT_SECRET_ARN: 'dpk/prod/all', MOESIF_MANAGEMENT_TOKEN_SSM_PARAMETER: '/dpk/moesif' })
    expect(statements()).toEqual({
      plans: [ssm('dpk/moesif')],
      createCheckoutSession: [],
      registerStripe: [],
      subscriptions: [ssm('dpk/moesif')],
      embedCharts: [ssm('dpk/moesif')],
      stripeCustomer: [],
      registerCustom: [],
      oktaRegister: []
    })
  })

  it('stripe mode: the table where a customer is remembered or a checkout registered, the Stripe key and the token where used', () => {
    useProcessEnv({
      JWT_ALGORITHM: 'HS256',
      JWT_SECRET_SSM_PARAMETER: '/dpk/jwt',
      APP_PAYMENT_PROVIDER: 'stripe',
      STRIPE_API_KEY_SSM_PARAMETER: '/dpk/stripe-key',
      MOESIF_MANAGEMENT_TOKEN_SSM_PARAMETER: '/dpk/moesif'
    })
    const getPut = { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: [TABLE] }
    const get = { Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: [TABLE] }
    expect(statements()).toEqual({
      plans: [ssm('dpk/moesif')],
      createCheckoutSession: [getPut, ssm('dpk/stripe-key', 'dpk/moesif')],
      registerStripe: [getPut, ssm('dpk/stripe-key')],
      subscriptions: [get, ssm('dpk/stripe-key', 'dpk/moesif')],
      embedCharts: [get, ssm('dpk/stripe-key', 'dpk/moesif')],
      stripeCustomer: [get, ssm('dpk/stripe-key')],
      registerCustom: [],
      oktaRegister: []
    })
  })

  it('custom mode: registrations in the table, the token for the catalog; one JSON secret serves it too', () => {
    useProcessEnv({ JWT_ALGORITHM: 'ES256', JWT_VERIFY_KEY: 'pem', JWT_SECRET_ARN: 'dpk/all', APP_PAYMENT_PROVIDER: 'custom' })
    const secret = {
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:dpk/all-??????' }]
    }
    expect(statements()).toEqual({
      plans: [secret],
      createCheckoutSession: [],
      registerStripe: [],
      subscriptions: [secret],
      embedCharts: [secret],
      stripeCustomer: [],
      registerCustom: [{ Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: [TABLE] }, secret],
      oktaRegister: []
    })
  })
})

describe('HTTP API throttling', () => {
  it('defaults to 500 requests per second with bursts of 1000, configurable, and refuses nonsense', () => {
    useProcessEnv({})
    expect([config.throttleRate(), config.throttleBurst()]).toEqual([500, 1000])
    vi.stubEnv('HTTP_API_THROTTLE_RATE', '20')
    vi.stubEnv('HTTP_API_THROTTLE_BURST', '40')
    expect([config.throttleRate(), config.throttleBurst()]).toEqual([20, 40])
    vi.stubEnv('HTTP_API_THROTTLE_RATE', '0')
    expect(() => config.throttleRate()).toThrow(/HTTP_API_THROTTLE_RATE must be a whole number from 1 to 10000/)
    vi.stubEnv('HTTP_API_THROTTLE_BURST', 'lots')
    expect(() => config.throttleBurst()).toThrow(/HTTP_API_THROTTLE_BURST must be/)
  })
})
