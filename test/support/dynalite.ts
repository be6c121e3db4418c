/**
 * The key table on a real DynamoDB API: dynalite, in memory, on 127.0.0.1.
 * One server per test file; a fresh table per test when isolation matters
 * (creating one takes a few milliseconds with createTableMs 0).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoKeyStore } from '../../src/lib/store/dynamo-key-store'
import type { KeyRecord } from '../../src/lib/store/key-store'
import { ensureKeyTable, localDynamoDbClient, startLocalDynamoDb } from '../../src/local/local-dynamodb'

/** A running in-memory dynalite with a client for it. */
export interface KeyDatabase {
  readonly endpoint: string
  readonly client: DynamoDBClient
  /** Create a new, empty key table and return its name. */
  readonly newTable: () => Promise<string>
  /** A new, empty key table wrapped in a {@link DynamoKeyStore}. */
  readonly newStore: () => Promise<{ store: DynamoKeyStore; tableName: string }>
  readonly close: () => Promise<void>
}

/**
 * Start dynalite in memory on an ephemeral loopback port.
 *
 * @example
 * const db = await startKeyDatabase()
 * const { store } = await db.newStore()
 */
export async function startKeyDatabase(): Promise<KeyDatabase> {
  const server = await startLocalDynamoDb()
  const client = localDynamoDbClient(server.endpoint)
  let tables = 0
  const newTable = async (): Promise<string> => {
    tables += 1
    const tableName = `dev-portal-keys-test-${tables}`
    await ensureKeyTable(server.endpoint, tableName)
    return tableName
  }
  return {
    endpoint: server.endpoint,
    client,
    newTable,
    newStore: async () => {
      const tableName = await newTable()
      return { store: new DynamoKeyStore(client, tableName), tableName }
    },
    close: async () => {
      client.destroy()
      await server.close()
    }
  }
}

/**
 * A key record with sensible defaults, created at `createdSeconds` and
 * valid for `lifetimeSeconds` (30 days unless given).
 *
 * @example
 * await store.putKey(keyRecord({ keyId: randomUUID(), companyId: 'acme', createdSeconds: NOW }))
 */
export function keyRecord(fields: {
  keyId: string
  companyId: string
  createdSeconds: number
  lifetimeSeconds?: number
  userId?: string
  name?: string
  kid?: string
  last4?: string
  revokedAt?: string
}): KeyRecord {
  return {
    keyId: fields.keyId,
    companyId: fields.companyId,
    userId: fields.userId ?? 'auth0|alice',
    name: fields.name,
    createdAt: new Date(fields.createdSeconds * 1000).toISOString(),
    expiresAt: new Date((fields.createdSeconds + (fields.lifetimeSeconds ?? 30 * 86_400)) * 1000).toISOString(),
    revokedAt: fields.revokedAt,
    kid: fields.kid,
    last4: fields.last4 ?? 'AbC9'
  }
}
