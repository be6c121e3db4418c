import { beforeAll, describe, expect, it } from 'vitest'
import { packageService, resourcesOfType, type PackagedService } from './support/package-template'

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
})
