import { readFileSync } from 'node:fs'
import { compileErrors, validate } from '@readme/openapi-parser'
import { describe, expect, it } from 'vitest'
import { OPENAPI_DOCUMENT } from '../../../src/lib/http/openapi'
import { documentedRoutes, OpenApiContract } from '../../support/openapi-contract'

/** The document itself: valid OpenAPI 3.1, schemas that strict JSON Schema accepts, and a contract that rejects what it should. */
describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    // validate() dereferences in place; the exported document is frozen.
    const result = await validate(structuredClone(OPENAPI_DOCUMENT) as unknown as Parameters<typeof validate>[0])
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true)
    expect(result.warnings).toEqual([])
  })

  it('carries the package version', () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
    expect(OPENAPI_DOCUMENT.info.version).toBe(version)
  })

  it('describes the portal endpoints, the JWKS, itself and the sample API, each with its security', () => {
    const security = Object.fromEntries(
      Object.entries(OPENAPI_DOCUMENT.paths).flatMap(([path, item]) =>
        Object.entries(item).map(([method, op]) => [`${method.toUpperCase()} ${path}`, op.security])
      )
    )
    expect(documentedRoutes().sort()).toEqual(
      [
        'DELETE /keys',
        'DELETE /keys/{keyId}',
        'GET /.well-known/jwks.json',
        'GET /keys',
        'GET /openapi.json',
        'GET /v1/whoami',
        'POST /create-key',
        'POST /webhooks/stripe',
        // The Moesif Developer Portal frontend's backend routes.
        'GET /embed-charts/{authUserId}',
        'GET /plans',
        'GET /stripe/customer',
        'GET /subscriptions',
        'POST /create-stripe-checkout-session',
        'POST /okta/register',
        'POST /register/custom',
        'POST /register/stripe/{checkout_session_id}'
      ].sort()
    )
    expect(security).toEqual({
      'POST /create-key': [{ portalIdToken: [] }],
      'GET /keys': [{ portalIdToken: [] }],
      'DELETE /keys': [{ portalIdToken: [] }],
      'DELETE /keys/{keyId}': [{ portalIdToken: [] }],
      'GET /.well-known/jwks.json': [],
      'GET /openapi.json': [],
      'GET /v1/whoami': [{ apiKey: [] }],
      'POST /webhooks/stripe': [],
      'GET /plans': [],
      'POST /okta/register': [],
      'POST /create-stripe-checkout-session': [{ portalIdToken: [] }],
      'POST /register/stripe/{checkout_session_id}': [{ portalIdToken: [] }],
      'GET /subscriptions': [{ portalIdToken: [] }],
      'GET /embed-charts/{authUserId}': [{ portalIdToken: [] }],
      'GET /stripe/customer': [{ portalIdToken: [] }],
      'POST /register/custom': [{ portalIdToken: [] }]
    })
  })

  it('compiles every response schema under strict JSON Schema 2020-12', () => {
    expect(new OpenApiContract().compileAll()).toBeGreaterThanOrEqual(20)
  })

  it('accepts a well-formed success body for each JSON-bodied operation', async () => {
    // Prepare: a 200 of each JSON-bodied operation exercises its schema's compile.
    const contract = new OpenApiContract()
    const created = { apikey: 'eyJh.eyJz.c2ln', keyId: '6bdf41ed-0a3c-4a43-9f39-3c1b2b6f0d4e', expiresAt: '2026-12-28T16:16:05.000Z' }

    // Act + Assess
    expect(await contract.problems('POST', 'http://h/create-key', Response.json(created, { status: 201 }))).toEqual([])
    expect(await contract.problems('GET', 'http://h/keys', Response.json({ keys: [] }))).toEqual([])
    expect(await contract.problems('GET', 'http://h/.well-known/jwks.json', Response.json({ keys: [] }))).toEqual([])
    expect(await contract.problems('GET', 'http://h/openapi.json', Response.json(OPENAPI_DOCUMENT))).toEqual([])
    expect(await contract.problems('GET', 'http://h/v1/whoami', Response.json({ orgId: 'acme', userId: 'u', keyId: '' }))).toEqual([])
  })

  describe('contract check', () => {
    const contract = new OpenApiContract()
    const error = { message: 'No such key', code: 'ERR_KEY_NOT_FOUND', requestId: 'r1' }

    it('matches concrete paths to templates, exact paths first', () => {
      expect(contract.pathTemplateFor('delete', '/keys/6bdf41ed-0a3c-4a43-9f39-3c1b2b6f0d4e')).toBe('/keys/{keyId}')
      expect(contract.pathTemplateFor('delete', '/keys')).toBe('/keys')
      expect(contract.pathTemplateFor('get', '/keys/x')).toBeUndefined()
    })

    it("accepts both error bodies of an authorizer denial: API Gateway's and serverless-offline's", async () => {
      expect(await contract.problems('GET', 'http://h/v1/whoami', Response.json({ message: 'Forbidden' }, { status: 403 }))).toEqual([])
      const offline = { statusCode: 403, error: 'Forbidden', message: 'User is not authorized to access this resource' }
      expect(await contract.problems('GET', 'http://h/v1/whoami', Response.json(offline, { status: 403 }))).toEqual([])
    })

    it('refuses an undeclared status, an unknown route, a body that breaks its schema, and a non-JSON answer', async () => {
      expect(await contract.problems('GET', 'http://h/keys', Response.json(error, { status: 404 }))).toEqual([
        expect.stringContaining('status 404 is not declared')
      ])
      expect(await contract.problems('GET', 'http://h/nope', Response.json({}))).toEqual([expect.stringContaining('not in the OpenAPI document')])
      const leaky = { keys: [{ kty: 'oct', k: 'c2VjcmV0', alg: 'HS256', use: 'sig' }] }
      expect(await contract.problems('GET', 'http://h/.well-known/jwks.json', Response.json(leaky))).not.toEqual([])
      expect(
        await contract.problems(
          'DELETE',
          'http://h/keys/6bdf41ed-0a3c-4a43-9f39-3c1b2b6f0d4e',
          Response.json({ ...error, extra: 1 }, { status: 404 })
        )
      ).toEqual([expect.stringContaining('must NOT have additional properties')])
      expect(
        await contract.problems('GET', 'http://h/keys', new Response('<html>', { status: 200, headers: { 'content-type': 'text/html' } }))
      ).toEqual([expect.stringContaining('content-type')])
      expect(await contract.problems('DELETE', 'http://h/keys', new Response(null, { status: 204 }))).toEqual([])
    })
  })
})
