import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb'
import dynalite from 'dynalite'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { KEY_TABLE_SCHEMA } from '../lib/store/key-table'
import { refuseForeignRequest } from './loopback-guard'

/** A dynalite server on 127.0.0.1. */
export interface LocalDynamoDb {
  readonly endpoint: string
  readonly close: () => Promise<void>
}

/**
 * Start dynalite, DynamoDB in Node, on 127.0.0.1 (ephemeral port unless
 * `port` is given). With `path` its data lives in LevelDB under that folder
 * and survives restarts; without, in memory.
 *
 * @example
 * const db = await startLocalDynamoDb({ path: '.local/dynamodb' })
 */
export async function startLocalDynamoDb(options: { path?: string; port?: number } = {}): Promise<LocalDynamoDb> {
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
  // dynalite takes any credentials and answers CORS preflights for any origin: programs on this
  // machine only, so no web page (cross-site or through DNS rebinding) can read or change the key table.
  const serve = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>
  server.removeAllListeners('request')
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (refuseForeignRequest(req, res, 'programs')) return
    for (const listener of serve) listener.call(server, req, res)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.()
        server.close(() => resolve())
      })
  }
}

/**
 * A DynamoDB client for a local endpoint (dummy credentials; dynalite takes any).
 *
 * @example
 * const client = localDynamoDbClient(db.endpoint)
 */
export function localDynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
}

/**
 * Create the key table if it does not exist yet, with the schema the
 * template declares.
 *
 * @example
 * await ensureKeyTable(db.endpoint, 'dev-portal-keys-local-keys')
 */
export async function ensureKeyTable(endpoint: string, tableName: string): Promise<'created' | 'existing'> {
  const client = localDynamoDbClient(endpoint)
  try {
    await client.send(new CreateTableCommand({ TableName: tableName, ...KEY_TABLE_SCHEMA }))
    await client.send(new DescribeTableCommand({ TableName: tableName }))
    return 'created'
  } catch (error) {
    if (error instanceof ResourceInUseException || (error as { name?: unknown }).name === 'ResourceInUseException') return 'existing'
    throw error
  } finally {
    client.destroy()
  }
}
