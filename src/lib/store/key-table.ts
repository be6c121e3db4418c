import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb'

/**
 * The DynamoDB table of key records. One table, two kinds of item:
 * - `KEY#<keyId>`: a key record, also indexed by company (`byCompany`, newest first);
 * - `COMPANY#<companyId>`: the company's "revoked before" instant.
 *
 * serverless.yml declares the same schema (a template test keeps them equal);
 * the local stack and the tests create the table from this one.
 */
export const KEY_TABLE_SCHEMA: Omit<CreateTableCommandInput, 'TableName'> = {
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'companyId', AttributeType: 'S' },
    { AttributeName: 'createdAt', AttributeType: 'S' }
  ],
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  GlobalSecondaryIndexes: [
    {
      IndexName: 'byCompany',
      KeySchema: [
        { AttributeName: 'companyId', KeyType: 'HASH' },
        { AttributeName: 'createdAt', KeyType: 'RANGE' }
      ],
      Projection: { ProjectionType: 'ALL' }
    }
  ],
  BillingMode: 'PAY_PER_REQUEST'
}

/** The attribute DynamoDB's TTL deletes expired key records by (epoch seconds). */
export const KEY_TABLE_TTL_ATTRIBUTE = 'ttl'

/** Records stay this long past their key's expiry, so a customer still sees recently expired keys. */
export const EXPIRED_RECORD_RETENTION_SECONDS = 7 * 86_400

/** Partition key of a key record. */
export const keyItemId = (keyId: string): string => `KEY#${keyId}`

/** Partition key of a company's revocation item. */
export const companyItemId = (companyId: string): string => `COMPANY#${companyId}`
