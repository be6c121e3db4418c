import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportJWK, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestIdentityProvider, type TestIdentityProvider } from '../support/identity-provider'
import { stackStartTimeout, startLocalStack, STACK_TIMEOUTS, type LocalStack } from '../support/local-stack'
import { openApiContract } from '../support/openapi-contract'

interface Created {
  apikey: string
  keyId: string
}

/**
 * Key lifecycle through the local stack: serverless-offline, dynalite kept
 * under the state folder, a JWKS server. Every response is also checked
 * against the OpenAPI document. Timeouts are sized for a busy 2-core machine
 * (test/support/local-stack.ts).
 */
describe('end-to-end: list, revoke and rotate keys', { timeout: STACK_TIMEOUTS.call }, () => {
  let idp: TestIdentityProvider
  let portalEnv: Record<string, string>

  beforeAll(async () => {
    idp = await startTestIdentityProvider()
    portalEnv = {
      ...idp.env,
      MOESIF_APPLICATION_ID: '',
      MOESIF_LOG_BODY: 'true'
    }
  })
  afterAll(async () => {
    await idp?.close()
  })

  const client = (stack: LocalStack) => ({
    createKey: async (idToken: string): Promise<Created> => {
      const response = await openApiContract.fetch(`${stack.baseUrl}/create-key`, { method: 'POST', headers: { authorization: `Bearer ${idToken}` } })
      expect(response.status).toBe(201)
      return (await response.json()) as Created
    },
    listKeys: (idToken: string) => openApiContract.fetch(`${stack.baseUrl}/keys`, { headers: { authorization: `Bearer ${idToken}` } }),
    revoke: (idToken: string | undefined, keyId?: string) =>
      openApiContract.fetch(`${stack.baseUrl}/keys${keyId === undefined ? '' : `/${keyId}`}`, {
        method: 'DELETE',
        headers: idToken === undefined ? {} : { authorization: `Bearer ${idToken}` }
      }),
    whoamiStatus: async (apiKey: string) =>
      (await openApiContract.fetch(`${stack.baseUrl}/v1/whoami`, { headers: { authorization: `Bearer ${apiKey}` } })).status
  })

  describe('revocation (HS256)', () => {
    const secret = randomBytes(48).toString('base64url')
    let stack: LocalStack
    let api: ReturnType<typeof client>
    let alice: string
    let bob: string

    beforeAll(async () => {
      stack = await startLocalStack({ ...portalEnv, JWT_ALGORITHM: 'HS256', JWT_SECRET: secret })
      api = client(stack)
      alice = await idp.mint({ sub: 'auth0|alice', org: 'company-a' })
      bob = await idp.mint({ sub: 'auth0|bob', org: 'company-b' })
    }, stackStartTimeout())
    afterAll(async () => {
      await stack?.stop()
    })

    it('lists, revokes one, refuses cross-company revokes, then revokes a whole company', async () => {
      // 1. Two keys for A, one for B, and one made the reference plugin's way (no jti, no record).
      const a1 = await api.createKey(alice)
      const a2 = await api.createKey(alice)
      const b1 = await api.createKey(bob)
      const now = Math.floor(Date.now() / 1000)
      const pluginKey = await new SignJWT({ sub: 'auth0|alice', org_id: 'company-a' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuedAt(now - 60)
        .setExpirationTime(now + 3600)
        .sign(new TextEncoder().encode(secret))
      expect(await api.whoamiStatus(pluginKey)).toBe(200)

      // 2. A sees exactly its two keys, newest first, and no token anywhere.
      const listed = await api.listKeys(alice)
      const text = await listed.text()
      const keys = (JSON.parse(text) as { keys: Array<{ keyId: string; status: string; last4: string }> }).keys
      expect(listed.status).toBe(200)
      expect(keys.map((k) => k.keyId).sort()).toEqual([a1.keyId, a2.keyId].sort())
      expect(keys.every((k) => k.status === 'active')).toBe(true)
      for (const secretText of [a1.apikey, a2.apikey, b1.apikey, a1.apikey.split('.')[2]!]) expect(text).not.toContain(secretText)
      expect(text).not.toMatch(/eyJ[\w-]*\.[\w-]*\./)

      // 3. Revoking one of A's keys stops it at once; the other still works.
      expect((await api.revoke(alice, a1.keyId)).status).toBe(204)
      expect(await api.whoamiStatus(a1.apikey)).toBe(403)
      expect(await api.whoamiStatus(a2.apikey)).toBe(200)
      expect((await api.revoke(alice, a1.keyId)).status).toBe(204) // idempotent

      // 4. A cannot revoke B's key: 404, and B's key still works.
      expect((await api.revoke(alice, b1.keyId)).status).toBe(404)
      expect(await api.whoamiStatus(b1.apikey)).toBe(200)

      // Bad input: no portal token, malformed key id.
      expect((await api.revoke(undefined, a2.keyId)).status).toBe(401)
      expect((await api.revoke(alice, 'not-a-key-id')).status).toBe(400)

      // 5. Revoke all of A: every A key dies, the recordless plugin key included; B is unaffected.
      expect((await api.revoke(alice)).status).toBe(204)
      expect(await api.whoamiStatus(a2.apikey)).toBe(403)
      expect(await api.whoamiStatus(pluginKey)).toBe(403)
      expect(await api.whoamiStatus(b1.apikey)).toBe(200)
      const after = (await (await api.listKeys(alice)).json()) as { keys: Array<{ status: string }> }
      expect(after.keys.map((k) => k.status)).toEqual(['revoked', 'revoked'])
    })
  })

  // Its test starts and stops two stacks, one after the other.
  describe('rotation (ES256), across a restart that keeps the key store', { timeout: stackStartTimeout(2) }, () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'dpk-rotation-'))
    const pem = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) => key.export({ format: 'pem', type: 'pkcs8' }).toString()

    it('keeps keys signed with the old kid valid, signs new ones with the new kid, and publishes both', async () => {
      const oldPair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      const newPair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      const alice = await idp.mint({ sub: 'auth0|alice', org: 'company-a' })

      // Before: k1 signs.
      const before = await startLocalStack({ ...portalEnv, JWT_ALGORITHM: 'ES256', JWT_SECRET: pem(oldPair.privateKey), JWT_KID: 'k1' }, { stateDir })
      let oldKey: Created
      try {
        oldKey = await client(before).createKey(alice)
        expect(await client(before).whoamiStatus(oldKey.apikey)).toBe(200)
      } finally {
        await before.stop()
      }

      // After: k2 signs, k1 is a previous key.
      const previous = JSON.stringify({ keys: [{ ...(await exportJWK(oldPair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] })
      const after = await startLocalStack(
        { ...portalEnv, JWT_ALGORITHM: 'ES256', JWT_SECRET: pem(newPair.privateKey), JWT_KID: 'k2', JWT_PREVIOUS_KEYS: previous },
        { stateDir }
      )
      try {
        const api = client(after)
        const newKey = await api.createKey(alice)
        const header = JSON.parse(Buffer.from(newKey.apikey.split('.')[0]!, 'base64url').toString()) as { kid: string; alg: string }
        const published = (await (await openApiContract.fetch(`${after.baseUrl}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }

        expect(await api.whoamiStatus(oldKey.apikey)).toBe(200)
        expect(await api.whoamiStatus(newKey.apikey)).toBe(200)
        expect(header).toMatchObject({ kid: 'k2', alg: 'ES256' })
        expect(published.keys.map((k) => k.kid).sort()).toEqual(['k1', 'k2'])
        // The key record from before the restart is still there: dynalite kept it under the state folder.
        const listed = (await (await api.listKeys(alice)).json()) as { keys: Array<{ keyId: string; kid: string }> }
        expect(listed.keys.map((k) => k.keyId)).toContain(oldKey.keyId)
      } finally {
        await after.stop()
      }
    })
  })
})
