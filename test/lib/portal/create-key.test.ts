import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { loadApiKeyConfig } from '../../../src/lib/keys/api-key-config'
import { createKey, createKeyDepsFromEnv, type CreateKeyDeps } from '../../../src/lib/portal/create-key'
import { ConfigError } from '../../../src/lib/runtime/errors'
import { Logger } from '../../../src/lib/runtime/logger'
import type { KeyRecord } from '../../../src/lib/store/key-store'
import { keyRecord } from '../../support/dynalite'
import { httpApiEvent } from '../../support/events'
import { envFor } from '../../support/keys'

const NOW = 1_700_000_000
const owner = { userId: 'auth0|alice', companyId: 'acme', email: undefined, emailVerified: undefined }

function deps(overrides: Partial<CreateKeyDeps> = {}): CreateKeyDeps {
  return {
    apiKeys: loadApiKeyConfig(envFor('HS256', { JWT_EXPIRES_IN: '30d' }), 'sign'),
    verifyPortalToken: async () => owner,
    nowSeconds: () => NOW,
    ...overrides
  }
}

const post = (body?: unknown) => httpApiEvent({ method: 'POST', path: '/create-key', ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('expected a refusal'),
    (error: unknown) => error
  )

describe('createKey: expiresIn', () => {
  it('answers 400 naming the maximum when expiresIn asks for more than JWT_EXPIRES_IN, instead of silently capping', async () => {
    const error = await failure(createKey(deps(), post({ expiresIn: '31d' })))
    expect(error).toMatchObject({ statusCode: 400, code: 'ERR_BAD_BODY', message: expect.stringContaining('at most 2592000 seconds') })
  })

  it('issues a key for exactly the maximum, or less', async () => {
    for (const expiresIn of ['30d', 3600]) {
      const response = await createKey(deps(), post({ expiresIn }))
      expect(response.statusCode).toBe(201)
    }
    const { expiresAt } = JSON.parse((await createKey(deps(), post({ expiresIn: 3600 }))).body as string) as { expiresAt: string }
    expect(Date.parse(expiresAt) / 1000).toBe(NOW + 3600)
  })
})

describe('createKey: active keys per company', () => {
  const records = (count: number, fields: Partial<Parameters<typeof keyRecord>[0]> = {}): KeyRecord[] =>
    Array.from({ length: count }, () => keyRecord({ keyId: randomUUID(), companyId: 'acme', createdSeconds: NOW - 60, ...fields }))

  it('answers 409 at the cap, saying to revoke keys first, and issues nothing', async () => {
    let issued = 0
    const error = await failure(
      createKey(
        deps({
          maxActiveKeys: 3,
          companyKeys: async () => records(3),
          onIssued: async () => {
            issued += 1
          }
        }),
        post()
      )
    )
    expect(error).toMatchObject({ statusCode: 409, code: 'ERR_TOO_MANY_KEYS', message: expect.stringMatching(/3 active API keys.*revoke keys/) })
    expect(issued).toBe(0)
  })

  it('counts only active keys: revoked, company-revoked and expired ones leave room', async () => {
    const companyKeys = async () => [
      ...records(1),
      ...records(1, { revokedAt: new Date((NOW - 10) * 1000).toISOString() }),
      ...records(1, { createdSeconds: NOW - 90 * 86_400, lifetimeSeconds: 86_400 }),
      ...records(1, { createdSeconds: NOW - 500 })
    ]
    const response = await createKey(deps({ maxActiveKeys: 2, companyKeys, companyRevokedBefore: async () => NOW - 400 }), post())
    expect(response.statusCode).toBe(201)
  })

  it('reads MAX_ACTIVE_KEYS_PER_COMPANY (default 100) and refuses a bad value as a ConfigError', async () => {
    const logger = new Logger({ service: 'test', level: 'ERROR' })
    const portal = { PORTAL_ISSUER: 'https://idp.example/', PORTAL_JWKS_URI: 'https://idp.example/jwks', PORTAL_AUDIENCE: 'client' }
    expect((await createKeyDepsFromEnv({ ...envFor('HS256'), ...portal }, logger)).maxActiveKeys).toBe(100)
    expect((await createKeyDepsFromEnv({ ...envFor('HS256'), ...portal, MAX_ACTIVE_KEYS_PER_COMPANY: '5' }, logger)).maxActiveKeys).toBe(5)
    for (const bad of ['0', '-1', 'many', '1.5']) {
      await expect(createKeyDepsFromEnv({ ...envFor('HS256'), ...portal, MAX_ACTIVE_KEYS_PER_COMPANY: bad }, logger)).rejects.toThrow(ConfigError)
    }
  })
})

describe('createKey: right after a company-wide revoke', () => {
  it('waits for the revoke instant rather than issue a key dated in the future', async () => {
    const clock = { now: NOW + 0.25 }
    const waits: number[] = []
    const response = await createKey(
      deps({
        nowSeconds: () => clock.now,
        companyRevokedBefore: async () => NOW + 1,
        sleep: async (ms) => {
          waits.push(ms)
          clock.now += ms / 1000
        }
      }),
      post()
    )
    expect(response.statusCode).toBe(201)
    expect(waits).toEqual([750])
  })
})
