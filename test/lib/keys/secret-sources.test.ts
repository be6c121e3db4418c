import { createPrivateKey } from 'node:crypto'
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm'
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { mockClient } from 'aws-sdk-client-mock'
import { SignJWT } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../../../src/lib/runtime/errors'
import { overlaySecrets, secretSourcesFromEnv } from '../../../src/lib/keys/secret-sources'
import { verifyApiKey } from '../../../src/lib/keys/verify-api-key'
import { loadApiKeyConfig } from '../../../src/lib/keys/api-key-config'
import { coldStartModule } from '../../support/cold-start'
import { authorizerEvent, httpApiEvent, lambdaContext } from '../../support/events'
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/identity-provider'
import { hmacSecret, pemKeyPair } from '../../support/keys'

/**
 * Key material from SSM Parameter Store or Secrets Manager, through middy's
 * own middleware, with the AWS clients mocked by aws-sdk-client-mock (there
 * is no AWS account here).
 */
const ssm = mockClient(SSMClient)
const secrets = mockClient(SecretsManagerClient)

async function signHs256(secret: string, claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(new TextEncoder().encode(secret))
}

beforeEach(() => {
  ssm.reset()
  secrets.reset()
})

describe('secretSourcesFromEnv', () => {
  it('reads parameter names and a secret ARN', () => {
    expect(secretSourcesFromEnv({ JWT_SECRET_SSM_PARAMETER: '/dpk/prod/jwt-secret' })).toEqual({
      ssm: { JWT_SECRET: '/dpk/prod/jwt-secret' },
      secretArn: undefined
    })
    expect(secretSourcesFromEnv({ JWT_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dpk-AbCdEf' }).secretArn).toMatch(/^arn:/)
  })

  it.each([
    [{ JWT_SECRET_SSM_PARAMETER: '/a', JWT_SECRET_ARN: 'dpk' }, 'JWT_SECRET_ARN'],
    [{ JWT_SECRET_SSM_PARAMETER: '/a', JWT_SECRET: 'x'.repeat(40) }, 'JWT_SECRET'],
    [{ JWT_SECRET_SSM_PARAMETER: 'has spaces in it' }, 'JWT_SECRET_SSM_PARAMETER'],
    [{ JWT_SECRET_ARN: 'arn:aws:s3:::bucket' }, 'JWT_SECRET_ARN']
  ])('refuses %j, naming %s', (env, variable) => {
    let error: unknown
    try {
      secretSourcesFromEnv(env)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).variable).toBe(variable)
    expect((error as ConfigError).message).not.toContain('x'.repeat(40))
  })

  it('lays a Secrets Manager JSON secret over the environment, field by field', () => {
    const env = overlaySecrets({ JWT_ALGORITHM: 'HS256' }, { secret: { JWT_SECRET: 'a', JWT_PREVIOUS_KEYS: { keys: [] }, other: 'ignored' } })
    expect(env).toEqual({ JWT_ALGORITHM: 'HS256', JWT_SECRET: 'a', JWT_PREVIOUS_KEYS: '{"keys":[]}' })
  })
})

describe('authorizer with JWT_SECRET in SSM Parameter Store', () => {
  it('fetches the SecureString once per cold start and verifies keys with it', async () => {
    // Prepare
    const secret = hmacSecret('HS256')
    ssm
      .on(GetParametersCommand)
      .resolves({ Parameters: [{ Name: '/dpk/test/jwt-secret', Type: 'SecureString', Value: secret }], InvalidParameters: [] })
    const {
      module: { handler }
    } = await coldStartModule(() => import('../../../src/handlers/authorizer'), {
      JWT_ALGORITHM: 'HS256',
      JWT_SECRET_SSM_PARAMETER: '/dpk/test/jwt-secret'
    })
    const token = await signHs256(secret, { sub: 'u1', org_id: 'acme' })

    // Act
    const results = []
    for (let i = 0; i < 3; i++) results.push(await handler(authorizerEvent({ headers: { authorization: `Bearer ${token}` } }), lambdaContext()))

    // Assess
    expect(results.map((r) => (r as { isAuthorized: boolean }).isAuthorized)).toEqual([true, true, true])
    expect(ssm.commandCalls(GetParametersCommand)).toHaveLength(1)
    expect(ssm.commandCalls(GetParametersCommand)[0]!.args[0].input).toMatchObject({ Names: ['/dpk/test/jwt-secret'], WithDecryption: true })
  })

  it('never fetches the private key for an asymmetric algorithm with JWT_VERIFY_KEY set', async () => {
    // Prepare: the private key is in SSM (for create-key); the authorizer has the public key.
    const pair = pemKeyPair('ec-p256')
    ssm
      .on(GetParametersCommand)
      .resolves({ Parameters: [{ Name: '/dpk/test/es256', Type: 'SecureString', Value: pair.privateKey }], InvalidParameters: [] })
    const {
      module: { handler }
    } = await coldStartModule(() => import('../../../src/handlers/authorizer'), {
      JWT_ALGORITHM: 'ES256',
      JWT_SECRET_SSM_PARAMETER: '/dpk/test/es256',
      JWT_VERIFY_KEY: pair.publicKey
    })
    const now = Math.floor(Date.now() / 1000)
    const token = await new SignJWT({ sub: 'u1', org_id: 'acme' })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(createPrivateKey(pair.privateKey))

    // Act
    const result = await handler(authorizerEvent({ headers: { authorization: `Bearer ${token}` } }), lambdaContext())

    // Assess
    expect(result).toMatchObject({ isAuthorized: true })
    expect(ssm.commandCalls(GetParametersCommand)).toHaveLength(0)
  })

  it('fails the invocation (not a deny) while SSM is failing, and recovers once it answers', async () => {
    const secret = hmacSecret('HS256')
    ssm
      .on(GetParametersCommand)
      .rejectsOnce(Object.assign(new Error('not authorized to perform ssm:GetParameters'), { name: 'AccessDeniedException' }))
      .resolves({ Parameters: [{ Name: '/dpk/test/jwt-secret-flaky', Type: 'SecureString', Value: secret }], InvalidParameters: [] })
    const {
      module: { handler }
    } = await coldStartModule(() => import('../../../src/handlers/authorizer'), {
      JWT_ALGORITHM: 'HS256',
      JWT_SECRET_SSM_PARAMETER: '/dpk/test/jwt-secret-flaky'
    })
    const token = await signHs256(secret, { sub: 'u1', org_id: 'acme' })
    const event = authorizerEvent({ headers: { authorization: `Bearer ${token}` } })

    await expect(handler(event, lambdaContext())).rejects.toThrow()
    expect(await handler(event, lambdaContext())).toEqual({ isAuthorized: true, context: { orgId: 'acme', userId: 'u1', keyId: '' } })
  })
})

describe('create-key with the private key in Secrets Manager', () => {
  let idp: TestIdentityProvider | undefined
  afterEach(async () => {
    await idp?.close()
    idp = undefined
  })

  it('signs with the PEM from a JSON secret, fetched once', async () => {
    // Prepare
    const pair = pemKeyPair('ec-p256')
    idp = await startTestIdentityProvider()
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dpk/test-AbCdEf'
    secrets.on(GetSecretValueCommand).resolves({ ARN: arn, SecretString: JSON.stringify({ JWT_SECRET: pair.privateKey }) })
    const {
      module: { handler }
    } = await coldStartModule(() => import('../../../src/handlers/create-key'), {
      JWT_ALGORITHM: 'ES256',
      JWT_KID: 'k1',
      JWT_SECRET_ARN: arn,
      ...idp.env
    })
    const idToken = await idp.mint({ sub: 'auth0|alice', org: 'acme' })
    const event = () => httpApiEvent({ method: 'POST', path: '/create-key', headers: { authorization: `Bearer ${idToken}` } })

    // Act
    const first = await handler(event(), lambdaContext())
    const second = await handler(event(), lambdaContext())

    // Assess
    expect(first.statusCode).toBe(201)
    expect(second.statusCode).toBe(201)
    const { apikey } = JSON.parse(first.body as string) as { apikey: string }
    const verified = verifyApiKey(
      apikey,
      loadApiKeyConfig({ JWT_ALGORITHM: 'ES256', JWT_KID: 'k1', JWT_VERIFY_KEY: pair.publicKey }, 'verify'),
      Date.now() / 1000
    )
    expect(verified).toMatchObject({ valid: true, identity: { orgId: 'acme' } })
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1)
  })

  it('answers a generic 500 when both stores are configured', async () => {
    const {
      module: { handler }
    } = await coldStartModule(() => import('../../../src/handlers/create-key'), {
      JWT_ALGORITHM: 'HS256',
      JWT_SECRET_SSM_PARAMETER: '/a',
      JWT_SECRET_ARN: 'dpk',
      PORTAL_ISSUER: 'x',
      PORTAL_AUDIENCE: 'y',
      PORTAL_JWKS_URI: 'https://idp.example/jwks'
    })

    const response = await handler(httpApiEvent({ method: 'POST', path: '/create-key' }), lambdaContext())

    expect(response.statusCode).toBe(500)
    expect(JSON.parse(response.body as string)).toMatchObject({ message: 'Internal Server Error', code: 'ERR_INTERNAL' })
    expect(response.body).not.toContain('JWT_SECRET')
    expect(ssm.commandCalls(GetParametersCommand)).toHaveLength(0)
  })
})
