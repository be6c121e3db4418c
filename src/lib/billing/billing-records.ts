import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type * as DynamoDbSdk from '@aws-sdk/client-dynamodb'
import type { Env } from '../runtime/env'
import { keyTableSettingsFromEnv } from '../store/dynamo-key-store'

/**
 * What billing keeps in the key table besides keys. Three more kinds of item,
 * none of which carries `companyId` or `createdAt`, so the `byCompany` index
 * (which lists a company's keys) never sees them:
 * - `EMAIL#<email, lower case>`: the Stripe customer just made for that
 *   address, so Stripe's search lag never makes a second customer for it.
 *   Trusted for {@link REMEMBERED_CUSTOMER_MS} only (Stripe has caught up long
 *   before; a customer Stripe still does not show then was deleted), and
 *   removed by the table's TTL a day later;
 * - `REGISTRATION#stripe#<checkout session id>`: a completed checkout already
 *   registered, so `POST /register/stripe/{id}` runs once;
 * - `REGISTRATION#custom#<company>#<price>` and `SUBSCRIBER#custom#<company>`:
 *   custom billing's subscriptions, per price (idempotency) and the latest
 *   one per company (what `POST /create-key` checks).
 */

/** A completed Stripe checkout, registered by `POST /register/stripe/{id}`. */
export interface StripeRegistration {
  readonly sessionId: string
  /** The Stripe customer the session belongs to (the Moesif company and user). */
  readonly customerId: string
  readonly subscriptionId: string
  /** The session's status when registered: `complete`. */
  readonly status: string
  readonly customerEmail: string
  /** ISO 8601. */
  readonly registeredAt: string
}

/** A subscription registered by `POST /register/custom` (custom billing). */
export interface CustomRegistration {
  /** The ID token's `sub`: the company, user and Moesif customer in custom mode. */
  readonly companyId: string
  readonly planId: string
  readonly priceId: string
  /** The id sent to Moesif as `subscription_id`. */
  readonly subscriptionId: string
  /** ISO 8601. */
  readonly periodStart: string
  /** ISO 8601. */
  readonly periodEnd: string
  /** ISO 8601. */
  readonly registeredAt: string
  /** When Moesif took the subscription (ISO 8601); `undefined` until then. */
  readonly syncedAt: string | undefined
}

/** Billing's items in the key table. Every write that must happen once is conditional: the first writer wins. */
export interface BillingRecords {
  /** The customer remembered for this email address (any case) within the last {@link REMEMBERED_CUSTOMER_MS}, if any. */
  customerForEmail(email: string): Promise<string | undefined>
  /** Remember `customerId` for `email` unless another is remembered (within the window); returns the one kept. */
  rememberCustomer(email: string, customerId: string): Promise<string>
  stripeRegistration(sessionId: string): Promise<StripeRegistration | undefined>
  /** Record a registration unless one exists; returns the one kept. */
  recordStripeRegistration(registration: StripeRegistration): Promise<StripeRegistration>
  customRegistration(companyId: string, priceId: string): Promise<CustomRegistration | undefined>
  /** Record `registration` (and make it the company's latest) unless one exists for its company and price; returns the one kept. */
  claimCustomRegistration(registration: CustomRegistration): Promise<CustomRegistration>
  /** Overwrite a registration (to mark it synced with Moesif), and the company's latest when it is that one. */
  saveCustomRegistration(registration: CustomRegistration): Promise<void>
  /** The company's latest custom registration: what entitles it to keys in custom mode. */
  latestCustomRegistration(companyId: string): Promise<CustomRegistration | undefined>
}

/** How long a remembered customer bridges Stripe's search lag. */
export const REMEMBERED_CUSTOMER_MS = 60 * 60_000

/** The table's TTL attribute (`KEY_TABLE_TTL_ATTRIBUTE`): remembered customers go a day after they were made. */
const TTL_ATTRIBUTE = 'ttl'

type Item = Record<string, AttributeValue>
type Sdk = typeof DynamoDbSdk

const part = (value: string): string => encodeURIComponent(value)
/** Partition key of an email's remembered customer. */
export const emailItemId = (email: string): string => `EMAIL#${email.toLowerCase()}`
/** Partition key of a registered Stripe checkout. */
export const stripeRegistrationItemId = (sessionId: string): string => `REGISTRATION#stripe#${part(sessionId)}`
/** Partition key of a custom registration, per company and price. */
export const customRegistrationItemId = (companyId: string, priceId: string): string => `REGISTRATION#custom#${part(companyId)}#${part(priceId)}`
/** Partition key of a company's latest custom registration. */
export const subscriberItemId = (companyId: string): string => `SUBSCRIBER#custom#${part(companyId)}`

const str = (value: string): AttributeValue => ({ S: value })
const readS = (item: Item | undefined, name: string): string | undefined => item?.[name]?.S
const isConditionFailure = (error: unknown): boolean => (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException'

function customItem(pk: string, registration: CustomRegistration): Item {
  return {
    pk: str(pk),
    kind: str('custom-registration'),
    // Not `companyId`: that attribute would put the item in the byCompany index of keys.
    company: str(registration.companyId),
    planId: str(registration.planId),
    priceId: str(registration.priceId),
    subscriptionId: str(registration.subscriptionId),
    periodStart: str(registration.periodStart),
    periodEnd: str(registration.periodEnd),
    registeredAt: str(registration.registeredAt),
    ...(registration.syncedAt === undefined ? {} : { syncedAt: str(registration.syncedAt) })
  }
}

function customFrom(item: Item | undefined): CustomRegistration | undefined {
  const companyId = readS(item, 'company')
  const planId = readS(item, 'planId')
  const priceId = readS(item, 'priceId')
  const subscriptionId = readS(item, 'subscriptionId')
  if (companyId === undefined || planId === undefined || priceId === undefined || subscriptionId === undefined) return undefined
  return {
    companyId,
    planId,
    priceId,
    subscriptionId,
    periodStart: readS(item, 'periodStart') ?? '',
    periodEnd: readS(item, 'periodEnd') ?? '',
    registeredAt: readS(item, 'registeredAt') ?? '',
    syncedAt: readS(item, 'syncedAt')
  }
}

function stripeFrom(item: Item | undefined): StripeRegistration | undefined {
  const sessionId = readS(item, 'sessionId')
  const customerId = readS(item, 'customerId')
  if (sessionId === undefined || customerId === undefined) return undefined
  return {
    sessionId,
    customerId,
    subscriptionId: readS(item, 'subscriptionId') ?? '',
    status: readS(item, 'status') ?? 'complete',
    customerEmail: readS(item, 'customerEmail') ?? '',
    registeredAt: readS(item, 'registeredAt') ?? ''
  }
}

/**
 * {@link BillingRecords} in the key table, through the AWS SDK loaded on first
 * use (a function that never reaches billing never pays for it). Reads are
 * consistent, so a record written by one Lambda is seen by the next call.
 *
 * @example
 * const records = new DynamoBillingRecords((m) => new m.DynamoDBClient({}), 'dev-portal-keys-prod-keys')
 * await records.rememberCustomer('alice@acme.test', 'cus_NffrFeUfNV2Hib')
 */
export class DynamoBillingRecords implements BillingRecords {
  readonly #client: () => Promise<[Sdk, DynamoDBClient]>
  readonly #table: string

  readonly #nowMs: () => number

  constructor(client: (sdk: Sdk) => DynamoDBClient, tableName: string, options: { nowMs?: () => number } = {}) {
    this.#nowMs = options.nowMs ?? Date.now
    let made: Promise<[Sdk, DynamoDBClient]> | undefined
    this.#client = () => (made ??= import('@aws-sdk/client-dynamodb').then((sdk) => [sdk, client(sdk)]))
    this.#table = tableName
  }

  async #get(pk: string): Promise<Item | undefined> {
    const [sdk, client] = await this.#client()
    const answer = await client.send(new sdk.GetItemCommand({ TableName: this.#table, Key: { pk: str(pk) }, ConsistentRead: true }))
    return answer.Item
  }

  /**
   * Put `item`; with `once`, only if no item has its key, or (with
   * `replaceRememberedBefore`) only an expired remembered customer has it.
   * Returns false when the condition kept the existing item.
   */
  async #put(item: Item, once: boolean, replaceRememberedBefore?: string): Promise<boolean> {
    const [sdk, client] = await this.#client()
    const condition =
      replaceRememberedBefore === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: 'attribute_not_exists(pk) OR rememberedAt < :cutoff',
            ExpressionAttributeValues: { ':cutoff': str(replaceRememberedBefore) }
          }
    try {
      await client.send(new sdk.PutItemCommand({ TableName: this.#table, Item: item, ...(once ? condition : {}) }))
      return true
    } catch (error) {
      if (once && isConditionFailure(error)) return false
      throw error
    }
  }

  #rememberCutoff(): string {
    return new Date(this.#nowMs() - REMEMBERED_CUSTOMER_MS).toISOString()
  }

  async customerForEmail(email: string): Promise<string | undefined> {
    const item = await this.#get(emailItemId(email))
    const rememberedAt = readS(item, 'rememberedAt')
    if (rememberedAt === undefined || rememberedAt < this.#rememberCutoff()) return undefined
    return readS(item, 'customerId')
  }

  async rememberCustomer(email: string, customerId: string): Promise<string> {
    const now = this.#nowMs()
    const item: Item = {
      pk: str(emailItemId(email)),
      kind: str('email-customer'),
      customerId: str(customerId),
      rememberedAt: str(new Date(now).toISOString()),
      [TTL_ATTRIBUTE]: { N: String(Math.floor(now / 1000) + 86_400) }
    }
    if (await this.#put(item, true, this.#rememberCutoff())) return customerId
    return (await this.customerForEmail(email)) ?? customerId
  }

  async stripeRegistration(sessionId: string): Promise<StripeRegistration | undefined> {
    return stripeFrom(await this.#get(stripeRegistrationItemId(sessionId)))
  }

  async recordStripeRegistration(registration: StripeRegistration): Promise<StripeRegistration> {
    const item: Item = {
      pk: str(stripeRegistrationItemId(registration.sessionId)),
      kind: str('stripe-registration'),
      sessionId: str(registration.sessionId),
      customerId: str(registration.customerId),
      subscriptionId: str(registration.subscriptionId),
      status: str(registration.status),
      customerEmail: str(registration.customerEmail),
      registeredAt: str(registration.registeredAt)
    }
    if (await this.#put(item, true)) return registration
    return (await this.stripeRegistration(registration.sessionId)) ?? registration
  }

  async customRegistration(companyId: string, priceId: string): Promise<CustomRegistration | undefined> {
    return customFrom(await this.#get(customRegistrationItemId(companyId, priceId)))
  }

  async claimCustomRegistration(registration: CustomRegistration): Promise<CustomRegistration> {
    const claimed = await this.#put(customItem(customRegistrationItemId(registration.companyId, registration.priceId), registration), true)
    if (!claimed) return (await this.customRegistration(registration.companyId, registration.priceId)) ?? registration
    await this.#put(customItem(subscriberItemId(registration.companyId), registration), false)
    return registration
  }

  async saveCustomRegistration(registration: CustomRegistration): Promise<void> {
    await this.#put(customItem(customRegistrationItemId(registration.companyId, registration.priceId), registration), false)
    const latest = await this.latestCustomRegistration(registration.companyId)
    if (latest === undefined || latest.subscriptionId === registration.subscriptionId) {
      await this.#put(customItem(subscriberItemId(registration.companyId), registration), false)
    }
  }

  async latestCustomRegistration(companyId: string): Promise<CustomRegistration | undefined> {
    return customFrom(await this.#get(subscriberItemId(companyId)))
  }
}

/**
 * The billing records in the key table the environment names (`KEYS_TABLE`,
 * and `DYNAMODB_ENDPOINT` locally), with the same bounded client settings as
 * the key store; `undefined` without a table.
 *
 * @example
 * const records = billingRecordsFromEnv(process.env)
 */
export function billingRecordsFromEnv(env: Env): BillingRecords | undefined {
  const settings = keyTableSettingsFromEnv(env)
  if (settings === undefined) return undefined
  return new DynamoBillingRecords((m) => new m.DynamoDBClient(settings.clientOptions), settings.table)
}
