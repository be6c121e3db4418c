import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type * as DynamoDbSdk from '@aws-sdk/client-dynamodb'
import { isSigningFailure, type BatchGetItemInput, type DynamoDbLite } from './dynamodb-lite/client'
import { dynamoDbLiteFromEnv } from './dynamodb-lite/env'
import { readEnv, type Env } from '../runtime/env'
import { ConfigError } from '../runtime/errors'
import type { Logger } from '../runtime/logger'
import type { KeyPlan, KeyRecord, KeyStore, RevocationFacts, RevokeOutcome } from './key-store'
import { companyItemId, EXPIRED_RECORD_RETENTION_SECONDS, KEY_TABLE_TTL_ATTRIBUTE, keyItemId } from './key-table'

type Item = Record<string, AttributeValue>
type Sdk = typeof DynamoDbSdk
/** What the readers need of an item: the SDK's items and the lite client's wire items both fit. */
type ItemView = Readonly<Record<string, { readonly S?: string; readonly N?: string }>>
/** What revocationFacts needs of a BatchGetItem answer, from either client. */
interface BatchGetAnswer {
  readonly Responses?: Readonly<Record<string, readonly ItemView[]>>
  readonly UnprocessedKeys?: Readonly<Record<string, unknown>>
}

let sdk: Promise<Sdk> | undefined
/**
 * The AWS SDK's DynamoDB client, loaded on first use rather than at init:
 * loading it costs about 100 ms of cold start, which a function that never
 * reaches the store (or reaches it after its first answer) should not pay.
 */
const loadSdk = (): Promise<Sdk> => (sdk ??= import('@aws-sdk/client-dynamodb'))

const str = (value: string): AttributeValue => ({ S: value })
const num = (value: number): AttributeValue => ({ N: String(value) })
const readS = (item: ItemView, name: string): string | undefined => item[name]?.S
const readN = (item: ItemView, name: string): number | undefined => {
  const n = item[name]?.N
  return n === undefined ? undefined : Number(n)
}

function toItem(record: KeyRecord): Item {
  const item: Item = {
    pk: str(keyItemId(record.keyId)),
    keyId: str(record.keyId),
    companyId: str(record.companyId),
    userId: str(record.userId),
    createdAt: str(record.createdAt),
    expiresAt: str(record.expiresAt),
    last4: str(record.last4),
    [KEY_TABLE_TTL_ATTRIBUTE]: num(Math.floor(Date.parse(record.expiresAt) / 1000) + EXPIRED_RECORD_RETENTION_SECONDS)
  }
  if (record.name !== undefined) item.name = str(record.name)
  if (record.kid !== undefined) item.kid = str(record.kid)
  if (record.revokedAt !== undefined) item.revokedAt = str(record.revokedAt)
  if (record.portalUserId !== undefined) item.portalUserId = str(record.portalUserId)
  if (record.email !== undefined) item.email = str(record.email)
  if (record.plan !== undefined) {
    item.plan = {
      M: {
        subscriptionId: str(record.plan.subscriptionId),
        priceIds: { L: record.plan.priceIds.map(str) },
        productIds: { L: record.plan.productIds.map(str) }
      }
    }
  }
  return item
}

/** A stored plan, or `undefined` when the item has none (or one this version cannot read). */
function readPlan(item: Item): KeyPlan | undefined {
  const plan = item.plan?.M
  const subscriptionId = plan?.subscriptionId?.S
  if (plan === undefined || subscriptionId === undefined) return undefined
  const strings = (value: AttributeValue | undefined): string[] => (value?.L ?? []).flatMap((entry) => (entry.S === undefined ? [] : [entry.S]))
  return { subscriptionId, priceIds: strings(plan.priceIds), productIds: strings(plan.productIds) }
}

function fromItem(item: Item): KeyRecord {
  return {
    keyId: readS(item, 'keyId') ?? '',
    companyId: readS(item, 'companyId') ?? '',
    userId: readS(item, 'userId') ?? '',
    name: readS(item, 'name'),
    createdAt: readS(item, 'createdAt') ?? '',
    expiresAt: readS(item, 'expiresAt') ?? '',
    revokedAt: readS(item, 'revokedAt'),
    kid: readS(item, 'kid'),
    last4: readS(item, 'last4') ?? '',
    portalUserId: readS(item, 'portalUserId'),
    email: readS(item, 'email'),
    plan: readPlan(item)
  }
}

const isoSeconds = (seconds: number): string => new Date(seconds * 1000).toISOString()

/**
 * {@link KeyStore} on DynamoDB. Reads by company use the `byCompany` index
 * (a query, never a scan); the authorizer's lookup is one BatchGetItem with
 * strongly consistent reads, so a revoke is visible on the next miss.
 *
 * With `options.lite`, that lookup goes through the lite client instead, so
 * the authorizer never loads the SDK. If the lite client's signature or
 * credentials are refused, the lookup moves to the SDK, for good: a signing
 * bug must degrade to the SDK, never to an outage.
 *
 * @example
 * const store = new DynamoKeyStore(new DynamoDBClient({}), 'dev-portal-keys-prod-keys')
 */
export class DynamoKeyStore implements KeyStore {
  readonly #client: () => Promise<DynamoDBClient>
  readonly #table: string
  #lite: DynamoDbLite | undefined
  readonly #onLiteFallback: ((errorName: unknown) => void) | undefined

  /** `client` is a client, or a function making one on first use (so the SDK loads lazily). */
  constructor(
    client: DynamoDBClient | ((sdk: Sdk) => DynamoDBClient),
    tableName: string,
    options: { lite?: DynamoDbLite | undefined; onLiteFallback?: ((errorName: unknown) => void) | undefined } = {}
  ) {
    this.#onLiteFallback = options.onLiteFallback
    let made: Promise<DynamoDBClient> | undefined
    this.#client = () => (made ??= typeof client === 'function' ? loadSdk().then(client) : Promise.resolve(client))
    this.#table = tableName
    this.#lite = options.lite
  }

  /** Build a command from the SDK module and send it. */
  async #send<T>(build: (sdk: Sdk) => { readonly input: object }): Promise<T> {
    const [module, client] = await Promise.all([loadSdk(), this.#client()])
    // The SDK's per-command generics do not survive a helper like this one; the caller names the output type.
    return (await client.send(build(module) as unknown as Parameters<DynamoDBClient['send']>[0])) as T
  }

  async putKey(record: KeyRecord): Promise<void> {
    await this.#send((m) => new m.PutItemCommand({ TableName: this.#table, Item: toItem(record), ConditionExpression: 'attribute_not_exists(pk)' }))
  }

  async listKeys(companyId: string): Promise<KeyRecord[]> {
    const records: KeyRecord[] = []
    let startKey: Item | undefined
    do {
      const page = await this.#send<DynamoDbSdk.QueryCommandOutput>(
        (m) =>
          new m.QueryCommand({
            TableName: this.#table,
            IndexName: 'byCompany',
            KeyConditionExpression: 'companyId = :c',
            ExpressionAttributeValues: { ':c': str(companyId) },
            ScanIndexForward: false,
            ExclusiveStartKey: startKey
          })
      )
      for (const item of page.Items ?? []) records.push(fromItem(item))
      startKey = page.LastEvaluatedKey
    } while (startKey !== undefined && records.length < 1000)
    return records
  }

  async revokeKey(companyId: string, keyId: string, atSeconds: number): Promise<RevokeOutcome> {
    try {
      // The company check is part of the write: another company's key fails exactly like a missing one.
      await this.#send(
        (m) =>
          new m.UpdateItemCommand({
            TableName: this.#table,
            Key: { pk: str(keyItemId(keyId)) },
            UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
            ConditionExpression: 'attribute_exists(pk) AND companyId = :c',
            ExpressionAttributeValues: { ':at': str(isoSeconds(atSeconds)), ':c': str(companyId) }
          })
      )
      return 'revoked'
    } catch (error) {
      if ((error as { name?: unknown }).name === 'ConditionalCheckFailedException') return 'not-found'
      throw error
    }
  }

  async revokeAllKeys(companyId: string, atSeconds: number): Promise<void> {
    await this.#send(
      (m) =>
        new m.UpdateItemCommand({
          TableName: this.#table,
          Key: { pk: str(companyItemId(companyId)) },
          // Never move the instant backwards (clock skew between Lambdas).
          UpdateExpression: 'SET revokedBefore = :at, company = :c',
          ConditionExpression: 'attribute_not_exists(revokedBefore) OR revokedBefore < :at',
          ExpressionAttributeValues: { ':at': num(atSeconds), ':c': str(companyId) }
        })
    ).catch((error: unknown) => {
      if ((error as { name?: unknown }).name !== 'ConditionalCheckFailedException') throw error
    })
  }

  async companyRevokedBefore(companyId: string): Promise<number | undefined> {
    const result = await this.#send<DynamoDbSdk.GetItemCommandOutput>(
      (m) => new m.GetItemCommand({ TableName: this.#table, Key: { pk: str(companyItemId(companyId)) }, ConsistentRead: true })
    )
    return result.Item === undefined ? undefined : readN(result.Item, 'revokedBefore')
  }

  /** The revocation lookup: through the lite client while it signs acceptably, else the SDK. */
  async #batchGet(input: BatchGetItemInput & DynamoDbSdk.BatchGetItemCommandInput): Promise<BatchGetAnswer> {
    const lite = this.#lite
    if (lite !== undefined) {
      try {
        return await lite.batchGetItem(input)
      } catch (error) {
        if (!isSigningFailure(error)) throw error
        this.#lite = undefined
        // Said once: the lookups keep working through the SDK, but the cold-start saving is gone.
        this.#onLiteFallback?.((error as { name?: unknown }).name)
      }
    }
    return this.#send<DynamoDbSdk.BatchGetItemCommandOutput>((m) => new m.BatchGetItemCommand(input))
  }

  async revocationFacts(keyId: string, companyId: string): Promise<RevocationFacts> {
    const keys: Array<{ pk: { S: string } }> = [{ pk: { S: companyItemId(companyId) } }]
    if (keyId !== '') keys.push({ pk: { S: keyItemId(keyId) } })
    const result = await this.#batchGet({
      RequestItems: { [this.#table]: { Keys: keys, ConsistentRead: true, ProjectionExpression: 'pk, revokedAt, revokedBefore, companyId' } }
    })
    // Unprocessed keys mean DynamoDB did not answer for them: not a "no record".
    if (Object.keys(result.UnprocessedKeys ?? {}).length > 0) throw new Error('DynamoDB left keys unprocessed')
    let keyRevokedAt: number | undefined
    let companyRevokedBefore: number | undefined
    for (const item of result.Responses?.[this.#table] ?? []) {
      const pk = readS(item, 'pk')
      if (pk === companyItemId(companyId)) companyRevokedBefore = readN(item, 'revokedBefore')
      else if (pk === keyItemId(keyId)) {
        const revokedAt = readS(item, 'revokedAt')
        // A record of another company under this jti is not this key's record; treat it as revoked.
        if (readS(item, 'companyId') !== companyId) keyRevokedAt = 0
        else if (revokedAt !== undefined) keyRevokedAt = Date.parse(revokedAt) / 1000
      }
    }
    return { keyRevokedAt, companyRevokedBefore }
  }
}

/** Where the key table is and how to reach it, as the environment configures it. */
export interface KeyTableSettings {
  readonly table: string
  /** Options for the AWS SDK's `DynamoDBClient`: bounded retries and timeouts; dynalite's endpoint locally. */
  readonly clientOptions: DynamoDbSdk.DynamoDBClientConfig
}

/**
 * The key table the environment names: `KEYS_TABLE`, and `DYNAMODB_ENDPOINT`
 * (local stack and tests only) for dynalite. Every client of the table uses
 * these bounded settings, so a hung table becomes a fast failure, never a
 * Lambda timeout. `undefined` when no table is configured.
 *
 * @example
 * const settings = keyTableSettingsFromEnv(process.env)
 */
export function keyTableSettingsFromEnv(env: Env): KeyTableSettings | undefined {
  const table = readEnv(env, 'KEYS_TABLE')
  if (table === undefined) return undefined
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(table)) throw new ConfigError('KEYS_TABLE', 'a DynamoDB table name')
  const endpoint = readEnv(env, 'DYNAMODB_ENDPOINT')
  const base = { maxAttempts: 2, requestHandler: { connectionTimeout: 500, requestTimeout: 1500 } }
  const clientOptions =
    endpoint === undefined
      ? base
      : {
          ...base,
          endpoint,
          region: readEnv(env, 'AWS_REGION') ?? 'local',
          // dynalite accepts any credentials; never real ones here.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' }
        }
  return { table, clientOptions }
}

/**
 * The key store configured by the environment (see {@link keyTableSettingsFromEnv}).
 * The revocation lookup uses the lite client when the environment allows it
 * (see {@link dynamoDbLiteFromEnv}: credentials in the environment, as on Lambda).
 * Returns `undefined` when no table is configured.
 *
 * @example
 * const store = keyStoreFromEnv(process.env)
 */
export function keyStoreFromEnv(env: Env, logger?: Logger): KeyStore | undefined {
  const settings = keyTableSettingsFromEnv(env)
  if (settings === undefined) return undefined
  return new DynamoKeyStore((m) => new m.DynamoDBClient(settings.clientOptions), settings.table, {
    lite: dynamoDbLiteFromEnv(env),
    onLiteFallback: (errorName) => logger?.warn('revocation lookups fell back to the AWS SDK: DynamoDB refused the lightweight client', { errorName })
  })
}
