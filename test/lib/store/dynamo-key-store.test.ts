/**
 * DynamoKeyStore against a real DynamoDB API: dynalite in memory on
 * 127.0.0.1, with the table created from KEY_TABLE_SCHEMA (GSI included).
 */
import { createHash, createHmac, randomUUID } from 'node:crypto'
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadApiKeyConfig } from '../../../src/lib/keys/api-key-config'
import { DynamoKeyStore } from '../../../src/lib/store/dynamo-key-store'
import { issueApiKey } from '../../../src/lib/keys/issue-api-key'
import { keyRecordFor } from '../../../src/lib/store/key-store'
import { EXPIRED_RECORD_RETENTION_SECONDS, keyItemId } from '../../../src/lib/store/key-table'
import { localDynamoDbClient } from '../../../src/local/local-dynamodb'
import { keyRecord, startKeyDatabase, type KeyDatabase } from '../../support/dynalite'
import { envFor } from '../../support/keys'

const NOW = 1_700_000_000
const DAY = 86_400
const iso = (seconds: number): string => new Date(seconds * 1000).toISOString()

let db: KeyDatabase

beforeAll(async () => {
  db = await startKeyDatabase()
})

afterAll(async () => {
  await db.close()
})

/** A client on the same dynalite that records every command it sends (the real SDK, no mock). */
function recordingClient(): { client: DynamoDBClient; commands: Array<{ name: string; input: Record<string, unknown> }> } {
  const client = localDynamoDbClient(db.endpoint)
  const commands: Array<{ name: string; input: Record<string, unknown> }> = []
  client.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push({ name: String(context.commandName), input: args.input as Record<string, unknown> })
      return next(args)
    },
    { step: 'initialize', name: 'recordCommands' }
  )
  return { client, commands }
}

/** Await a rejection and return it (fails the test when the promise resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error
  )
}

describe('DynamoKeyStore.putKey / listKeys', () => {
  it("lists only the company's records, newest first", async () => {
    // Prepare: inserted out of order, with another company's key in between
    const { store } = await db.newStore()
    const [a1, a2, a3, b1] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()]
    await store.putKey(keyRecord({ keyId: a2, companyId: 'acme', createdSeconds: NOW - 2 * DAY, name: 'second' }))
    await store.putKey(keyRecord({ keyId: b1, companyId: 'globex', createdSeconds: NOW - DAY }))
    await store.putKey(keyRecord({ keyId: a3, companyId: 'acme', createdSeconds: NOW - DAY, kid: 'k2' }))
    await store.putKey(keyRecord({ keyId: a1, companyId: 'acme', createdSeconds: NOW - 3 * DAY }))
    // Act
    const acme = await store.listKeys('acme')
    const globex = await store.listKeys('globex')
    // Assess
    expect(acme.map((r) => r.keyId)).toEqual([a3, a2, a1])
    expect(globex.map((r) => r.keyId)).toEqual([b1])
    expect(acme[1]).toEqual(keyRecord({ keyId: a2, companyId: 'acme', createdSeconds: NOW - 2 * DAY, name: 'second' }))
    expect(acme[0]?.kid).toBe('k2')
    expect(acme[0]?.name).toBeUndefined()
  })

  it('reads by company through the byCompany index (a query, never a scan), and never lists the company item', async () => {
    // Prepare
    const { client, commands } = recordingClient()
    const tableName = await db.newTable()
    const store = new DynamoKeyStore(client, tableName)
    await store.putKey(keyRecord({ keyId: randomUUID(), companyId: 'acme', createdSeconds: NOW }))
    await store.revokeAllKeys('acme', NOW + 1)
    commands.length = 0
    // Act
    const records = await store.listKeys('acme')
    // Assess
    expect(records).toHaveLength(1)
    expect(commands.map((c) => c.name)).toEqual(['QueryCommand'])
    expect(commands[0]?.input).toMatchObject({ TableName: tableName, IndexName: 'byCompany', ScanIndexForward: false })
    client.destroy()
  })

  it('answers an empty list for a company without keys', async () => {
    const { store } = await db.newStore()
    expect(await store.listKeys('nobody')).toEqual([])
  })

  it('refuses a second record with the same keyId and keeps the first', async () => {
    // Prepare
    const { store } = await db.newStore()
    const keyId = randomUUID()
    await store.putKey(keyRecord({ keyId, companyId: 'acme', createdSeconds: NOW }))
    // Act
    const error = await rejectionOf(store.putKey(keyRecord({ keyId, companyId: 'globex', createdSeconds: NOW + 1 })))
    // Assess
    expect((error as { name?: unknown }).name).toBe('ConditionalCheckFailedException')
    expect((await store.listKeys('acme')).map((r) => r.keyId)).toEqual([keyId])
    expect(await store.listKeys('globex')).toEqual([])
  })
})

describe('DynamoKeyStore: what is stored', () => {
  it('stores metadata, last4 and a numeric ttl, never the key nor anything hash-shaped', async () => {
    // Prepare: a real key, signed as POST /create-key signs it
    const { store, tableName } = await db.newStore()
    const config = loadApiKeyConfig(envFor('HS256', { JWT_KID: 'k1' }), 'sign')
    const issued = await issueApiKey(config, { userId: 'auth0|alice', companyId: 'acme' }, { nowSeconds: NOW })
    const apikey = issued.apikey
    const signature = apikey.split('.')[2] ?? ''
    // Act
    await store.putKey(keyRecordFor(issued, { userId: 'auth0|alice', companyId: 'acme' }, 'ci'))
    const { Item: item } = await db.client.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: keyItemId(issued.keyId) } }, ConsistentRead: true })
    )
    // Assess
    expect(item).toBeDefined()
    const stored = item ?? {}
    expect(Object.keys(stored).sort()).toEqual(['companyId', 'createdAt', 'expiresAt', 'keyId', 'kid', 'last4', 'name', 'pk', 'ttl', 'userId'])
    expect(stored.last4).toEqual({ S: apikey.slice(-4) })
    expect(stored.ttl).toEqual({ N: String(issued.expiresAt + EXPIRED_RECORD_RETENTION_SECONDS) })
    const hashes = [
      createHash('sha256').update(apikey).digest('hex'),
      createHash('sha256').update(apikey).digest('base64url'),
      createHash('sha256').update(apikey).digest('base64'),
      createHash('sha512').update(apikey).digest('hex'),
      createHash('sha512').update(apikey).digest('base64url'),
      createHmac('sha256', 'pepper').update(apikey).digest('hex')
    ]
    for (const [name, value] of Object.entries(stored)) {
      const text = value.S ?? value.N ?? JSON.stringify(value)
      expect(text, name).not.toContain(apikey)
      expect(text, name).not.toContain(signature)
      expect(text, name).not.toMatch(/[0-9a-f]{64}/i)
      expect(text, name).not.toMatch(/[A-Za-z0-9_-]{40,}/)
      for (const hash of hashes) expect(text, name).not.toContain(hash)
    }
  })
})

describe('DynamoKeyStore.revokeKey', () => {
  it("revokes the company's own key and records when", async () => {
    // Prepare
    const { store } = await db.newStore()
    const keyId = randomUUID()
    await store.putKey(keyRecord({ keyId, companyId: 'acme', createdSeconds: NOW - DAY }))
    // Act
    const outcome = await store.revokeKey('acme', keyId, NOW)
    // Assess
    expect(outcome).toBe('revoked')
    const [record] = await store.listKeys('acme')
    expect(record?.revokedAt).toBe(iso(NOW))
  })

  it('is idempotent: a second revoke answers revoked and keeps the first instant', async () => {
    // Prepare
    const { store } = await db.newStore()
    const keyId = randomUUID()
    await store.putKey(keyRecord({ keyId, companyId: 'acme', createdSeconds: NOW - DAY }))
    await store.revokeKey('acme', keyId, NOW)
    // Act
    const outcome = await store.revokeKey('acme', keyId, NOW + 3600)
    // Assess
    expect(outcome).toBe('revoked')
    expect((await store.listKeys('acme'))[0]?.revokedAt).toBe(iso(NOW))
    expect((await store.revocationFacts(keyId, 'acme')).keyRevokedAt).toBe(NOW)
  })

  it("answers not-found for another company's key and leaves that key alone", async () => {
    // Prepare
    const { store } = await db.newStore()
    const keyId = randomUUID()
    await store.putKey(keyRecord({ keyId, companyId: 'globex', createdSeconds: NOW - DAY }))
    // Act
    const outcome = await store.revokeKey('acme', keyId, NOW)
    // Assess
    expect(outcome).toBe('not-found')
    expect((await store.listKeys('globex'))[0]?.revokedAt).toBeUndefined()
    expect(await store.revocationFacts(keyId, 'globex')).toEqual({ keyRevokedAt: undefined, companyRevokedBefore: undefined })
  })

  it('answers not-found for an unknown key and creates no record', async () => {
    // Prepare
    const { store, tableName } = await db.newStore()
    const keyId = randomUUID()
    // Act
    const outcome = await store.revokeKey('acme', keyId, NOW)
    // Assess
    expect(outcome).toBe('not-found')
    const { Item } = await db.client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: keyItemId(keyId) } }, ConsistentRead: true }))
    expect(Item).toBeUndefined()
  })
})

describe('DynamoKeyStore.revokeAllKeys / companyRevokedBefore', () => {
  it('has no instant for a company that never revoked everything', async () => {
    const { store } = await db.newStore()
    expect(await store.companyRevokedBefore('acme')).toBeUndefined()
  })

  it('records the instant per company', async () => {
    // Prepare
    const { store } = await db.newStore()
    // Act
    await store.revokeAllKeys('acme', NOW)
    // Assess
    expect(await store.companyRevokedBefore('acme')).toBe(NOW)
    expect(await store.companyRevokedBefore('globex')).toBeUndefined()
  })

  it('moves the instant forward, never back (clock skew between Lambdas)', async () => {
    // Prepare
    const { store } = await db.newStore()
    await store.revokeAllKeys('acme', NOW)
    // Act
    await store.revokeAllKeys('acme', NOW - 60)
    const afterEarlier = await store.companyRevokedBefore('acme')
    await store.revokeAllKeys('acme', NOW + 60)
    const afterLater = await store.companyRevokedBefore('acme')
    // Assess
    expect(afterEarlier).toBe(NOW)
    expect(afterLater).toBe(NOW + 60)
  })
})

describe('DynamoKeyStore.revocationFacts', () => {
  it('has no facts when there is neither a record nor a company revocation', async () => {
    const { store } = await db.newStore()
    expect(await store.revocationFacts(randomUUID(), 'acme')).toEqual({ keyRevokedAt: undefined, companyRevokedBefore: undefined })
  })

  it('has no facts for an active key', async () => {
    const { store } = await db.newStore()
    const keyId = randomUUID()
    await store.putKey(keyRecord({ keyId, companyId: 'acme', createdSeconds: NOW - DAY }))
    expect(await store.revocationFacts(keyId, 'acme')).toEqual({ keyRevokedAt: undefined, companyRevokedBefore: undefined })
  })

  it('names when a revoked key was revoked', async () => {
    // Prepare
    const { store } = await db.newStore()
    const keyId = randomUUID()
    await store.putKey(keyRecord({ keyId, companyId: 'acme', createdSeconds: NOW - DAY }))
    await store.revokeKey('acme', keyId, NOW)
    // Act
    const facts = await store.revocationFacts(keyId, 'acme')
    // Assess
    expect(facts).toEqual({ keyRevokedAt: NOW, companyRevokedBefore: undefined })
  })

  it("names the company's instant, alongside the key's own facts", async () => {
    // Prepare
    const { store } = await db.newStore()
    const keyId = randomUUID()
    await store.putKey(keyRecord({ keyId, companyId: 'acme', createdSeconds: NOW - DAY }))
    await store.revokeAllKeys('acme', NOW)
    // Act
    const facts = await store.revocationFacts(keyId, 'acme')
    // Assess
    expect(facts).toEqual({ keyRevokedAt: undefined, companyRevokedBefore: NOW })
  })

  it('treats a record of another company under the same key id as revoked', async () => {
    const { store } = await db.newStore()
    const keyId = randomUUID()
    await store.putKey(keyRecord({ keyId, companyId: 'globex', createdSeconds: NOW - DAY }))
    const facts = await store.revocationFacts(keyId, 'acme')
    expect(facts.keyRevokedAt).toBeDefined()
  })

  it('reads only the company item for a key without jti (reference-plugin key)', async () => {
    // Prepare
    const { client, commands } = recordingClient()
    const tableName = await db.newTable()
    const store = new DynamoKeyStore(client, tableName)
    await store.revokeAllKeys('acme', NOW)
    commands.length = 0
    // Act
    const facts = await store.revocationFacts('', 'acme')
    // Assess
    expect(facts).toEqual({ keyRevokedAt: undefined, companyRevokedBefore: NOW })
    expect(commands.map((c) => c.name)).toEqual(['BatchGetItemCommand'])
    const requestItems = commands[0]?.input.RequestItems as Record<string, { Keys: unknown[]; ConsistentRead?: boolean }>
    expect(requestItems[tableName]?.Keys).toEqual([{ pk: { S: 'COMPANY#acme' } }])
    expect(requestItems[tableName]?.ConsistentRead).toBe(true)
    client.destroy()
  })

  it('answers no facts for a key without jti when the company never revoked', async () => {
    const { store } = await db.newStore()
    expect(await store.revocationFacts('', 'acme')).toEqual({ keyRevokedAt: undefined, companyRevokedBefore: undefined })
  })
})
