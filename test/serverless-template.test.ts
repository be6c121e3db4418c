import { generateKeyPairSync } from 'node:crypto'
import { createRequire } from 'node:module'
import { beforeAll, describe, expect, it } from 'vitest'
import { KEY_TABLE_SCHEMA, KEY_TABLE_TTL_ATTRIBUTE } from '../src/lib/store/key-table'
import { documentedRoutes, LOCAL_ONLY_FUNCTIONS, LOCAL_ONLY_ROUTES } from './support/openapi-contract'
import { packageService, resourcesOfType, type CloudFormationTemplate, type PackagedService } from './support/package-template'

/** Every HTTP API route in a template, as `METHOD /path`, sorted. */
const routesOf = (template: CloudFormationTemplate): string[] =>
  resourcesOfType(template, 'AWS::ApiGatewayV2::Route')
    .map(([, props]) => String(props.RouteKey))
    .sort()

/** The function names of a template's Lambda functions (resource `FooLambdaFunction` is function `foo`). */
const functionsOf = (template: CloudFormationTemplate): string[] =>
  resourcesOfType(template, 'AWS::Lambda::Function').map(([name]) => name.replace(/LambdaFunction$/, '').replace(/^./, (c) => c.toLowerCase()))

/** The deploy check: what `serverless package` writes for a real stage. */
describe('serverless package (stage prod)', () => {
  const canarySecret = 'canary-secret-that-must-never-reach-the-template-0123456789'
  let packaged: PackagedService

  beforeAll(async () => {
    packaged = await packageService({ stage: 'prod', env: { JWT_SECRET: canarySecret, PLUGIN_JWT_SECRET: canarySecret, JWT_ALGORITHM: 'HS256' } })
  }, 120_000)

  it('wires exactly one REQUEST authorizer with payload 2.0 and simple responses', () => {
    const authorizers = resourcesOfType(packaged.template, 'AWS::ApiGatewayV2::Authorizer')
    expect(authorizers).toHaveLength(1)
    const [, props] = authorizers[0]!
    expect(props).toMatchObject({
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization']
    })
    expect(props.AuthorizerResultTtlInSeconds).toBeLessThanOrEqual(60)
  })

  it('protects /v1/whoami with it, and leaves /create-key and the JWKS open', () => {
    const routes = Object.fromEntries(resourcesOfType(packaged.template, 'AWS::ApiGatewayV2::Route').map(([, p]) => [p.RouteKey as string, p]))
    expect(routes['GET /v1/whoami']).toMatchObject({ AuthorizationType: 'CUSTOM' })
    expect(routes['POST /create-key']?.AuthorizationType).toBeUndefined()
    expect(routes['GET /.well-known/jwks.json']?.AuthorizationType).toBeUndefined()
  })

  it('routes exactly the operations the OpenAPI document describes, both ways', () => {
    expect(routesOf(packaged.template)).toEqual(documentedRoutes().sort())
  })

  it('never ships the local key console: no route for / or /local/*, no function, no zip', () => {
    const routes = routesOf(packaged.template)
    for (const route of LOCAL_ONLY_ROUTES) expect(routes).not.toContain(route)
    expect(routes.filter((route) => / \/$| \/local(\/|$)/.test(route))).toEqual([])
    for (const name of LOCAL_ONLY_FUNCTIONS) {
      expect(functionsOf(packaged.template)).not.toContain(name)
      expect(Object.keys(packaged.zips)).not.toContain(`${name}.zip`)
    }
    expect(packaged.templateText).not.toMatch(/local-console|local-login|local-moesif-events|local-stripe|LOCAL_STATE_DIR|LOCAL_CONSOLE_DIR/)
  })

  it("leaves the Moesif portal's routes to their own ID-token check (no authorizer), and answers CORS preflights for every route", () => {
    const routes = Object.fromEntries(resourcesOfType(packaged.template, 'AWS::ApiGatewayV2::Route').map(([, p]) => [p.RouteKey as string, p]))
    for (const route of [
      'GET /plans',
      'POST /create-stripe-checkout-session',
      'POST /register/stripe/{checkout_session_id}',
      'GET /subscriptions',
      'GET /embed-charts/{authUserId}',
      'GET /stripe/customer',
      'POST /register/custom',
      'POST /okta/register'
    ]) {
      expect(routes[route], route).toBeDefined()
      expect(routes[route]?.AuthorizationType, route).toBeUndefined()
    }
    // API Gateway answers OPTIONS on every path itself (parameters included): no OPTIONS route may shadow that.
    expect(Object.keys(routes).filter((key) => key.startsWith('OPTIONS '))).toEqual([])
    const [, api] = resourcesOfType(packaged.template, 'AWS::ApiGatewayV2::Api')[0]!
    expect(api.CorsConfiguration).toMatchObject({
      AllowHeaders: expect.arrayContaining(['Authorization', 'Content-Type']),
      AllowMethods: expect.arrayContaining(['GET', 'POST', 'OPTIONS'])
    })
  })

  it('runs every function on nodejs22.x or newer', () => {
    const functions = resourcesOfType(packaged.template, 'AWS::Lambda::Function')
    expect(functions.length).toBeGreaterThanOrEqual(4)
    for (const [, props] of functions) {
      const version = Number(/^nodejs(\d+)\.x$/.exec(String(props.Runtime))?.[1])
      expect(version).toBeGreaterThanOrEqual(22)
    }
  })

  it('never bakes a secret from the packaging environment into the template', () => {
    expect(packaged.templateText).not.toContain(canarySecret)
  })

  it('keeps the authorizer zip under 100 KB', () => {
    expect(packaged.zips['authorizer.zip']).toBeLessThan(100 * 1024)
  })

  it('declares the key table on demand, with point-in-time recovery, TTL, and the schema the code uses', () => {
    const tables = resourcesOfType(packaged.template, 'AWS::DynamoDB::Table')
    expect(tables).toHaveLength(1)
    const [, table] = tables[0]!
    expect(table.BillingMode).toBe('PAY_PER_REQUEST')
    expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true })
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: KEY_TABLE_TTL_ATTRIBUTE, Enabled: true })
    expect(table.KeySchema).toEqual(KEY_TABLE_SCHEMA.KeySchema)
    expect(table.AttributeDefinitions).toEqual(KEY_TABLE_SCHEMA.AttributeDefinitions)
    expect(table.GlobalSecondaryIndexes).toEqual(KEY_TABLE_SCHEMA.GlobalSecondaryIndexes)
  })

  it('gives every function a role of its own with exactly what it calls, and no shared role', () => {
    type Role = { Properties: { Policies?: Array<{ PolicyDocument: { Statement: unknown[] } }>; ManagedPolicyArns: unknown[] } }
    const TABLE = { 'Fn::GetAtt': ['KeysTable', 'Arn'] }
    const INDEX = { 'Fn::Join': ['/', [TABLE, 'index', 'byCompany']] }
    const SECRET = {
      Effect: 'Allow',
      Action: ['ssm:GetParameters'],
      Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/dpk/test/jwt-secret' }]
    }
    const expected: Record<string, unknown[]> = {
      Authorizer: [{ Effect: 'Allow', Action: ['dynamodb:BatchGetItem'], Resource: [TABLE] }, SECRET],
      CreateKey: [
        { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: [TABLE] },
        { Effect: 'Allow', Action: ['dynamodb:Query'], Resource: [INDEX] },
        SECRET
      ],
      ListKeys: [
        { Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: [TABLE] },
        { Effect: 'Allow', Action: ['dynamodb:Query'], Resource: [INDEX] }
      ],
      RevokeKey: [{ Effect: 'Allow', Action: ['dynamodb:UpdateItem'], Resource: [TABLE] }],
      RevokeAllKeys: [{ Effect: 'Allow', Action: ['dynamodb:UpdateItem'], Resource: [TABLE] }],
      Jwks: [],
      Whoami: [],
      Openapi: [],
      // Outside stripe mode the webhook only answers 404: it calls nothing.
      StripeWebhook: [],
      // The Moesif portal's routes, without billing and with no management token parameter: nothing to read.
      Plans: [],
      CreateCheckoutSession: [],
      RegisterStripe: [],
      Subscriptions: [],
      EmbedCharts: [],
      StripeCustomer: [],
      RegisterCustom: [],
      OktaRegister: []
    }
    const functions = resourcesOfType(packaged.template, 'AWS::Lambda::Function')
    expect(functions.map(([name]) => name.replace(/LambdaFunction$/, '')).sort()).toEqual(Object.keys(expected).sort())
    for (const [name, props] of functions) {
      const fn = name.replace(/LambdaFunction$/, '')
      expect(props.Role, fn).toEqual({ 'Fn::GetAtt': [`${fn}Role`, 'Arn'] })
      const role = packaged.template.Resources[`${fn}Role`] as unknown as Role
      expect(role.Properties.ManagedPolicyArns).toEqual([
        { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole' }
      ])
      expect(
        (role.Properties.Policies ?? []).flatMap((policy) => policy.PolicyDocument.Statement),
        fn
      ).toEqual(expected[fn])
    }
    expect(packaged.template.Resources.IamRoleLambdaExecution).toBeUndefined()
    expect(resourcesOfType(packaged.template, 'AWS::IAM::Role')).toHaveLength(functions.length)
  })

  it('throttles the HTTP API stage by default', () => {
    const [, stage] = resourcesOfType(packaged.template, 'AWS::ApiGatewayV2::Stage')[0]!
    expect(stage.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 })
  })

  it('points every function at the table, with a revocation cache that keeps the worst-case delay at 60 s or less', () => {
    const [, authorizer] = resourcesOfType(packaged.template, 'AWS::ApiGatewayV2::Authorizer')[0]!
    for (const [, fn] of resourcesOfType(packaged.template, 'AWS::Lambda::Function')) {
      const variables = (fn.Environment as { Variables: Record<string, unknown> }).Variables
      expect(variables.KEYS_TABLE).toEqual({ Ref: 'KeysTable' })
      expect(variables.DYNAMODB_ENDPOINT).toBe('')
      expect(Number(variables.REVOCATION_CACHE_TTL) + Number(authorizer.AuthorizerResultTtlInSeconds)).toBeLessThanOrEqual(60)
    }
  })
})

describe('serverless package (stage local): the key console appears only here', () => {
  let packaged: PackagedService

  beforeAll(async () => {
    packaged = await packageService({ stage: 'local' })
  }, 120_000)

  it('adds exactly the local-only routes to the documented ones', () => {
    expect(routesOf(packaged.template)).toEqual([...documentedRoutes(), ...LOCAL_ONLY_ROUTES].sort())
  })

  it('builds the local-only functions, open (no authorizer)', () => {
    for (const name of LOCAL_ONLY_FUNCTIONS) expect(Object.keys(packaged.zips)).toContain(`${name}.zip`)
    const local = resourcesOfType(packaged.template, 'AWS::ApiGatewayV2::Route').filter(([, p]) => LOCAL_ONLY_ROUTES.includes(String(p.RouteKey)))
    expect(local.map(([, p]) => p.AuthorizationType)).toEqual(LOCAL_ONLY_ROUTES.map(() => undefined))
  })
})

describe('config/local-functions.cjs', () => {
  type Resolver = { options: Record<string, unknown>; resolveConfigurationProperty?: (path: string[]) => Promise<unknown> }
  const { functions } = createRequire(import.meta.url)('../config/local-functions.cjs') as {
    functions: (resolver: Resolver) => Promise<Record<string, unknown>>
  }

  it('adds the console functions in the local stage only, defaulting to dev like provider.stage', async () => {
    expect(Object.keys(await functions({ options: { stage: 'local' } }))).toEqual([...LOCAL_ONLY_FUNCTIONS])
    expect(Object.keys(await functions({ options: {}, resolveConfigurationProperty: async () => 'local' }))).toEqual([...LOCAL_ONLY_FUNCTIONS])
    expect(await functions({ options: {} })).toEqual({})
    expect(await functions({ options: { stage: 'prod' } })).toEqual({})
    expect(await functions({ options: { stage: 'local' }, resolveConfigurationProperty: async () => 'prod' })).toEqual({})
  })
})

describe('serverless package with the secret in a key store', () => {
  const statementsOf = (packaged: PackagedService, onlyRole?: string) =>
    resourcesOfType(packaged.template, 'AWS::IAM::Role')
      .filter(([name]) => onlyRole === undefined || name === onlyRole)
      .flatMap(([, role]) =>
        ((role.Policies ?? []) as Array<{ PolicyDocument: { Statement: Array<{ Action: string[]; Resource: unknown[] }> } }>).flatMap(
          (p) => p.PolicyDocument.Statement
        )
      )

  it('grants ssm:GetParameters on exactly the configured parameters', async () => {
    const packaged = await packageService({
      env: { JWT_ALGORITHM: 'ES256', JWT_SECRET_SSM_PARAMETER: '/dpk/prod/jwt-secret', JWT_VERIFY_KEY_SSM_PARAMETER: '/dpk/prod/jwt-verify-key' }
    })
    // The issuer's role reads both; the authorizer's and the JWKS's only the public key (config/serverless-env.cjs).
    const ssm = statementsOf(packaged, 'CreateKeyRole').filter((st) => st.Action.some((a) => a.startsWith('ssm:')))
    expect(ssm).toEqual([
      {
        Effect: 'Allow',
        Action: ['ssm:GetParameters'],
        Resource: [
          { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/dpk/prod/jwt-secret' },
          { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/dpk/prod/jwt-verify-key' }
        ]
      }
    ])
    for (const role of ['AuthorizerRole', 'JwksRole']) {
      expect(statementsOf(packaged, role).filter((st) => st.Action.some((a) => a.startsWith('ssm:')))).toEqual([
        {
          Effect: 'Allow',
          Action: ['ssm:GetParameters'],
          Resource: [{ 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/dpk/prod/jwt-verify-key' }]
        }
      ])
    }
    expect(statementsOf(packaged).some((st) => st.Action.some((a) => a.startsWith('secretsmanager:')))).toBe(false)
    const [, authorizer] = resourcesOfType(packaged.template, 'AWS::Lambda::Function').find(([name]) => name === 'AuthorizerLambdaFunction')!
    expect((authorizer.Environment as { Variables: Record<string, string> }).Variables.JWT_SECRET_SSM_PARAMETER).toBe('/dpk/prod/jwt-secret')
  }, 120_000)

  it('grants secretsmanager:GetSecretValue on exactly the configured secret, and no SSM access', async () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dpk/prod/jwt-AbCdEf'
    const packaged = await packageService({ env: { JWT_SECRET_ARN: arn, JWT_SECRET_SSM_PARAMETER: '' } })
    const statements = statementsOf(packaged)
    // HS256: the issuer signs with the secret and the authorizer verifies with it; nobody else reads it.
    for (const role of ['CreateKeyRole', 'AuthorizerRole']) {
      expect(statementsOf(packaged, role).filter((st) => st.Action.some((a) => a.startsWith('secretsmanager:')))).toEqual([
        { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [arn] }
      ])
    }
    expect(statements.filter((st) => st.Action.some((a) => a.startsWith('secretsmanager:')))).toHaveLength(2)
    expect(statements.some((st) => st.Action.some((a) => a.startsWith('ssm:')))).toBe(false)
  }, 120_000)

  it('packages PORTAL_ORIGINS as the CORS origins, and refuses an entry that is not an origin', async () => {
    const packaged = await packageService({ env: { PORTAL_ORIGINS: 'https://portal.example.com, http://localhost:4000' } })
    const [, api] = resourcesOfType(packaged.template, 'AWS::ApiGatewayV2::Api')[0]!
    expect((api.CorsConfiguration as { AllowOrigins: string[] }).AllowOrigins).toEqual(['https://portal.example.com', 'http://localhost:4000'])
    for (const bad of ['portal.example.com', 'https://portal.example.com/', 'https://portal.example.com/keys', 'https://portal.example.com,*']) {
      await expect(packageService({ env: { PORTAL_ORIGINS: bad } })).rejects.toThrow(/PORTAL_ORIGINS must be/)
    }
  }, 120_000)

  it('refuses to package a private key as JWT_VERIFY_KEY', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    await expect(packageService({ env: { JWT_VERIFY_KEY: pem } })).rejects.toThrow(/JWT_VERIFY_KEY holds a private key/)
  }, 120_000)

  it('refuses to package a deployed stage without a secret store or an identity provider, naming what to set', async () => {
    await expect(packageService({ env: { JWT_SECRET_SSM_PARAMETER: '', JWT_SECRET: 'shell-secret-0123456789012345678901234' } })).rejects.toThrow(
      /JWT_SECRET_SSM_PARAMETER or JWT_SECRET_ARN must be set for stage "prod"/
    )
    await expect(packageService({ env: { AUTH_PROVIDER: 'Okta', OKTA_ORG_URL: 'not-a-url' } })).rejects.toThrow(/OKTA_ORG_URL must be/)
  }, 240_000)

  it("stripe mode: the portal's functions read the Stripe key and the management token where they use them, and no secret is packaged", async () => {
    const canary = 'moesif-token-canary-0123456789abcdef'
    const packaged = await packageService({
      env: {
        APP_PAYMENT_PROVIDER: 'stripe',
        STRIPE_API_KEY_SSM_PARAMETER: '/dpk/prod/stripe-key',
        STRIPE_WEBHOOK_SECRET_SSM_PARAMETER: '/dpk/prod/stripe-webhook',
        MOESIF_MANAGEMENT_TOKEN_SSM_PARAMETER: '/dpk/prod/moesif',
        MOESIF_MANAGEMENT_TOKEN: canary
      }
    })
    const ssm = (...names: string[]) => ({
      Effect: 'Allow',
      Action: ['ssm:GetParameters'],
      Resource: names.map((name) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/dpk/prod/${name}` }))
    })
    expect(statementsOf(packaged, 'PlansRole')).toEqual([ssm('moesif')])
    expect(statementsOf(packaged, 'CreateCheckoutSessionRole').at(-1)).toEqual(ssm('stripe-key', 'moesif'))
    expect(statementsOf(packaged, 'RegisterStripeRole').at(-1)).toEqual(ssm('stripe-key'))
    expect(statementsOf(packaged, 'OktaRegisterRole')).toEqual([])
    expect(statementsOf(packaged, 'RegisterCustomRole')).toEqual([])
    expect(packaged.templateText).not.toContain(canary)
  }, 120_000)

  it('refuses to package an HMAC previous key into a deployed stage', async () => {
    const previous = JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA', kid: 'old', alg: 'HS256' }] })
    await expect(packageService({ env: { JWT_PREVIOUS_KEYS: previous } })).rejects.toThrow(/secret key material/)
  }, 120_000)
})
