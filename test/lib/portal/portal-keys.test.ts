/**
 * The portal's key-management cores (GET /keys, DELETE /keys/{keyId},
 * DELETE /keys) with real parts on loopback: a JWKS server for the portal
 * login, DynamoDB through dynalite, keys signed as POST /create-key signs them.
 */
import { randomUUID } from 'node:crypto'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { loadApiKeyConfig, type ApiKeyConfig } from '../../../src/lib/keys/api-key-config'
import type { DynamoKeyStore } from '../../../src/lib/store/dynamo-key-store'
import { HttpError } from '../../../src/lib/runtime/errors'
import { issueApiKey } from '../../../src/lib/keys/issue-api-key'
import { keyRecordFor } from '../../../src/lib/store/key-store'
import { loadPortalConfig } from '../../../src/lib/portal/portal-config'
import { createPortalTokenVerifier } from '../../../src/lib/portal/portal-identity'
import { listKeys, revokeAllKeys, revokeKey, type KeySummary, type PortalKeysDeps } from '../../../src/lib/portal/portal-keys'
import { startKeyDatabase, type KeyDatabase } from '../../support/dynalite'
import { httpApiEvent } from '../../support/events'
import { startTestIdentityProvider, type TestIdentityProvider } from '../../support/identity-provider'
import { envFor } from '../../support/keys'

const NOW = 1_700_000_000
const DAY = 86_400
const iso = (seconds: number): string => new Date(seconds * 1000).toISOString()
/** Anything shaped like a compact JWS: three base64url segments. */
const TOKEN_SHAPED = /[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/

let idp: TestIdentityProvider
let db: KeyDatabase
let apiKeys: ApiKeyConfig
let store: DynamoKeyStore
let deps: PortalKeysDeps
let clock: number

beforeAll(async () => {
  ;[idp, db] = await Promise.all([startTestIdentityProvider(), startKeyDatabase()])
  apiKeys = loadApiKeyConfig(envFor('HS256', { JWT_KID: 'k1' }), 'sign')
})

afterAll(async () => {
  await idp.close()
  await db.close()
})

beforeEach(async () => {
  // Only Date: jose reads the clock through it, and the HTTP clients need real timers.
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(NOW * 1000)
  clock = NOW
  ;({ store } = await db.newStore())
  deps = {
    verifyPortalToken: createPortalTokenVerifier(loadPortalConfig(idp.env)),
    store,
    nowSeconds: () => clock
  }
})

afterEach(() => {
  vi.useRealTimers()
})

const ALICE = { sub: 'auth0|alice', org: 'acme' } as const
const BOB = { sub: 'auth0|bob', org: 'globex' } as const

async function bearer(user: { sub: string; org: string }): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await idp.mint({ ...user, nowSeconds: NOW })}` }
}

/** Issue a key as POST /create-key does and record it; returns the key and its id. */
async function createKeyFor(user: { sub: string; org: string }, atSeconds: number, options: { lifetimeSeconds?: number; name?: string } = {}) {
  const owner = { userId: user.sub, companyId: user.org, email: undefined }
  const issued = await issueApiKey(apiKeys, owner, { nowSeconds: atSeconds, lifetimeSeconds: options.lifetimeSeconds })
  await store.putKey(keyRecordFor(issued, owner, options.name))
  return issued
}

async function listEvent(user?: { sub: string; org: string }): Promise<APIGatewayProxyEventV2> {
  return httpApiEvent({ method: 'GET', path: '/keys', headers: user === undefined ? {} : await bearer(user) })
}

async function revokeEvent(user: { sub: string; org: string } | undefined, keyId: string): Promise<APIGatewayProxyEventV2> {
  const event = httpApiEvent({
    method: 'DELETE',
    path: `/keys/${keyId}`,
    routeKey: 'DELETE /keys/{keyId}',
    headers: user === undefined ? {} : await bearer(user)
  })
  return { ...event, pathParameters: { keyId } }
}

async function revokeAllEvent(user?: { sub: string; org: string }): Promise<APIGatewayProxyEventV2> {
  return httpApiEvent({ method: 'DELETE', path: '/keys', headers: user === undefined ? {} : await bearer(user) })
}

function keysOf(response: APIGatewayProxyStructuredResultV2): KeySummary[] {
  expect(response.statusCode).toBe(200)
  return (JSON.parse(response.body ?? '') as { keys: KeySummary[] }).keys
}

async function httpErrorOf(promise: Promise<unknown>): Promise<HttpError> {
  const error: unknown = await promise.then(
    () => expect.fail('expected an HttpError'),
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(HttpError)
  return error as HttpError
}

describe('listKeys (GET /keys)', () => {
  it("lists the caller's company's keys newest first, as active, revoked or expired metadata", async () => {
    // Prepare
    const expired = await createKeyFor(ALICE, NOW - 3 * DAY, { lifetimeSeconds: DAY, name: 'old' })
    const revoked = await createKeyFor(ALICE, NOW - 2 * DAY)
    const active = await createKeyFor(ALICE, NOW - DAY, { name: 'ci' })
    await store.revokeKey('acme', revoked.keyId, NOW - 60)
    await createKeyFor(BOB, NOW - DAY)
    // Act
    const response = await listKeys(deps, await listEvent(ALICE))
    // Assess
    const keys = keysOf(response)
    expect(keys.map((k) => k.keyId)).toEqual([active.keyId, revoked.keyId, expired.keyId])
    expect(keys.map((k) => k.status)).toEqual(['active', 'revoked', 'expired'])
    expect(keys[0]).toEqual({
      keyId: active.keyId,
      name: 'ci',
      userId: 'auth0|alice',
      createdAt: iso(NOW - DAY),
      expiresAt: iso(active.expiresAt),
      revokedAt: null,
      status: 'active',
      last4: active.apikey.slice(-4),
      kid: 'k1',
      plan: null
    })
    expect(keys[1]?.revokedAt).toBe(iso(NOW - 60))
    expect(keys[2]?.revokedAt).toBeNull()
  })

  it('never returns a key: nothing token-shaped in the body', async () => {
    // Prepare
    const issued = await Promise.all([createKeyFor(ALICE, NOW - 10), createKeyFor(ALICE, NOW - 20)])
    // Act
    const response = await listKeys(deps, await listEvent(ALICE))
    // Assess
    const body = response.body ?? ''
    expect(keysOf(response)).toHaveLength(2)
    expect(body).not.toMatch(TOKEN_SHAPED)
    for (const { apikey } of issued) {
      expect(body).not.toContain(apikey)
      expect(body).not.toContain(apikey.split('.')[2])
    }
  })

  it("shows another company's keys to nobody else", async () => {
    // Prepare
    await createKeyFor(ALICE, NOW - 10)
    // Act
    const response = await listKeys(deps, await listEvent(BOB))
    // Assess
    expect(keysOf(response)).toEqual([])
  })

  it('refuses a caller without a portal token with a 401', async () => {
    await createKeyFor(ALICE, NOW - 10)
    const error = await httpErrorOf(listKeys(deps, await listEvent()))
    expect(error.statusCode).toBe(401)
    expect(error.code).toBe('ERR_PORTAL_TOKEN_MISSING')
  })

  it('refuses an API key in place of the portal token with a 401', async () => {
    // Prepare
    const { apikey } = await createKeyFor(ALICE, NOW - 10)
    const event = httpApiEvent({ method: 'GET', path: '/keys', headers: { authorization: `Bearer ${apikey}` } })
    // Act
    const error = await httpErrorOf(listKeys(deps, event))
    // Assess
    expect(error.statusCode).toBe(401)
    expect(error.code).toBe('ERR_PORTAL_TOKEN_INVALID')
  })
})

describe('revokeKey (DELETE /keys/{keyId})', () => {
  it('revokes an own key with 204, and is idempotent', async () => {
    // Prepare
    const { keyId } = await createKeyFor(ALICE, NOW - DAY)
    // Act
    const first = await revokeKey(deps, await revokeEvent(ALICE, keyId))
    clock = NOW + 120
    const second = await revokeKey(deps, await revokeEvent(ALICE, keyId))
    // Assess
    expect(first.statusCode).toBe(204)
    expect(second.statusCode).toBe(204)
    expect(first.body).toBeUndefined()
    const keys = keysOf(await listKeys(deps, await listEvent(ALICE)))
    expect(keys).toEqual([expect.objectContaining({ keyId, status: 'revoked', revokedAt: iso(NOW) })])
  })

  it("answers 404 for another company's key and leaves it active", async () => {
    // Prepare
    const { keyId } = await createKeyFor(BOB, NOW - DAY)
    // Act
    const error = await httpErrorOf(revokeKey(deps, await revokeEvent(ALICE, keyId)))
    // Assess
    expect(error.statusCode).toBe(404)
    expect(error.code).toBe('ERR_KEY_NOT_FOUND')
    expect((await store.listKeys('globex'))[0]?.revokedAt).toBeUndefined()
    expect(keysOf(await listKeys(deps, await listEvent(BOB)))[0]?.status).toBe('active')
  })

  it('answers 404 for an unknown key', async () => {
    const error = await httpErrorOf(revokeKey(deps, await revokeEvent(ALICE, randomUUID())))
    expect(error.statusCode).toBe(404)
    expect(error.code).toBe('ERR_KEY_NOT_FOUND')
  })

  it.each(['abc', randomUUID().toUpperCase(), '../x', '', `${randomUUID()} `, `KEY#${randomUUID()}`])(
    'answers 400 for the malformed keyId %j',
    async (keyId) => {
      const error = await httpErrorOf(revokeKey(deps, await revokeEvent(ALICE, keyId)))
      expect(error.statusCode).toBe(400)
      expect(error.code).toBe('ERR_BAD_KEY_ID')
    }
  )

  it('answers 400 when the route carries no keyId at all', async () => {
    const event = httpApiEvent({ method: 'DELETE', path: '/keys/', routeKey: 'DELETE /keys/{keyId}', headers: await bearer(ALICE) })
    const error = await httpErrorOf(revokeKey(deps, event))
    expect(error.statusCode).toBe(400)
  })

  it('authenticates before it validates: 401 for an anonymous malformed request', async () => {
    const error = await httpErrorOf(revokeKey(deps, await revokeEvent(undefined, '../x')))
    expect(error.statusCode).toBe(401)
  })
})

describe('revokeAllKeys (DELETE /keys)', () => {
  it("answers 204 and the company's keys all list as revoked, including one issued this very second", async () => {
    // Prepare
    await createKeyFor(ALICE, NOW - 2 * DAY)
    await createKeyFor(ALICE, NOW - DAY)
    await createKeyFor(ALICE, NOW)
    await createKeyFor(BOB, NOW - DAY)
    clock = NOW + 0.4
    // Act
    const response = await revokeAllKeys(deps, await revokeAllEvent(ALICE))
    // Assess
    expect(response.statusCode).toBe(204)
    const acme = keysOf(await listKeys(deps, await listEvent(ALICE)))
    expect(acme).toHaveLength(3)
    expect(acme.map((k) => k.status)).toEqual(['revoked', 'revoked', 'revoked'])
    expect(new Set(acme.map((k) => k.revokedAt))).toEqual(new Set([iso(NOW + 1)]))
    expect(keysOf(await listKeys(deps, await listEvent(BOB))).map((k) => k.status)).toEqual(['active'])
  })

  it('keeps the first revokedAt of a key revoked one by one before', async () => {
    // Prepare
    const { keyId } = await createKeyFor(ALICE, NOW - DAY)
    await revokeKey(deps, await revokeEvent(ALICE, keyId))
    clock = NOW + 600
    // Act
    await revokeAllKeys(deps, await revokeAllEvent(ALICE))
    // Assess
    expect(keysOf(await listKeys(deps, await listEvent(ALICE)))[0]?.revokedAt).toBe(iso(NOW))
  })

  it('leaves keys issued afterwards active', async () => {
    // Prepare
    await createKeyFor(ALICE, NOW - DAY)
    await revokeAllKeys(deps, await revokeAllEvent(ALICE))
    clock = NOW + 10
    const later = await createKeyFor(ALICE, NOW + 10)
    // Act
    const keys = keysOf(await listKeys(deps, await listEvent(ALICE)))
    // Assess
    expect(keys.map((k) => [k.keyId === later.keyId, k.status])).toEqual([
      [true, 'active'],
      [false, 'revoked']
    ])
  })

  it('refuses a caller without a portal token with a 401 and revokes nothing', async () => {
    await createKeyFor(ALICE, NOW - DAY)
    const error = await httpErrorOf(revokeAllKeys(deps, await revokeAllEvent()))
    expect(error.statusCode).toBe(401)
    expect(await store.companyRevokedBefore('acme')).toBeUndefined()
  })
})
