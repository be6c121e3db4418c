import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { portalBearerToken } from './portal-caller'
import { keyStoreFromEnv } from '../store/dynamo-key-store'
import type { Env } from '../runtime/env'
import { ConfigError, HttpError } from '../runtime/errors'
import { emptyResponse, jsonResponse } from '../http/http-response'
import { keyStatus, type KeyPlan, type KeyRecord, type KeyStatus, type KeyStore } from '../store/key-store'
import { createBilling } from '../billing/billing'
import { loadBillingConfig } from '../billing/billing-config'
import { loadPortalConfig } from './portal-config'
import { createPortalTokenVerifier, type PortalIdentity, type PortalTokenVerifier } from './portal-identity'

/** What the portal's key-management endpoints need. */
export interface PortalKeysDeps {
  readonly verifyPortalToken: PortalTokenVerifier
  readonly store: KeyStore
  readonly nowSeconds: () => number
  /**
   * The company whose keys the caller manages (billing's resolver, the same
   * one create-key uses); `undefined` when the caller has none yet. By default
   * the ID token's company.
   */
  readonly companyOf?: (identity: PortalIdentity) => Promise<string | undefined>
}

/** How a key looks to its owner: metadata only, never the key. */
export interface KeySummary {
  readonly keyId: string
  readonly name: string | null
  readonly userId: string
  readonly createdAt: string
  readonly expiresAt: string
  readonly revokedAt: string | null
  readonly status: KeyStatus
  readonly last4: string
  readonly kid: string | null
  /** The subscription the key was issued under (stripe mode), else null. */
  readonly plan: KeyPlan | null
}

/** Key ids are the UUIDs `POST /create-key` assigns as `jti`. */
const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * Load the portal endpoints' dependencies. `KEYS_TABLE` is required here:
 * without a store there is nothing to list or revoke.
 *
 * @example
 * const deps = loadPortalKeysDeps(process.env)
 */
export async function loadPortalKeysDeps(env: Env): Promise<PortalKeysDeps> {
  const store = keyStoreFromEnv(env)
  if (store === undefined) throw new ConfigError('KEYS_TABLE', 'set to the key table name')
  const billing = await createBilling(loadBillingConfig(env))
  return {
    verifyPortalToken: createPortalTokenVerifier(loadPortalConfig(env)),
    store,
    nowSeconds: () => Date.now() / 1000,
    companyOf: billing.companyOf
  }
}

/** The caller's company, from the verified ID token through billing; `undefined` when there is none yet. */
async function callerCompany(deps: PortalKeysDeps, event: APIGatewayProxyEventV2): Promise<string | undefined> {
  const identity = await deps.verifyPortalToken(portalBearerToken(event))
  return deps.companyOf === undefined ? identity.companyId : deps.companyOf(identity)
}

function summarize(record: KeyRecord, companyRevokedBefore: number | undefined, nowSeconds: number): KeySummary {
  const status = keyStatus(record, companyRevokedBefore, nowSeconds)
  const revokedAt =
    record.revokedAt ?? (status === 'revoked' && companyRevokedBefore !== undefined ? new Date(companyRevokedBefore * 1000).toISOString() : undefined)
  return {
    keyId: record.keyId,
    name: record.name ?? null,
    userId: record.userId,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    revokedAt: revokedAt ?? null,
    status,
    last4: record.last4,
    kid: record.kid ?? null,
    plan: record.plan ?? null
  }
}

/**
 * `GET /keys`: the caller's company's keys, newest first, as metadata.
 *
 * @example
 * const response = await listKeys(deps, event) // 200 { keys: [...] }
 */
export async function listKeys(deps: PortalKeysDeps, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const companyId = await callerCompany(deps, event)
  if (companyId === undefined) return jsonResponse(200, { keys: [] })
  const [records, revokedBefore] = await Promise.all([deps.store.listKeys(companyId), deps.store.companyRevokedBefore(companyId)])
  const now = deps.nowSeconds()
  return jsonResponse(200, { keys: records.map((record) => summarize(record, revokedBefore, now)) })
}

/**
 * `DELETE /keys/{keyId}`: revoke one key of the caller's company. 204, and
 * idempotent. Another company's key answers 404 exactly like an unknown one.
 *
 * @example
 * await revokeKey(deps, event) // 204
 */
export async function revokeKey(deps: PortalKeysDeps, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const companyId = await callerCompany(deps, event)
  const keyId = event.pathParameters?.keyId ?? ''
  if (!KEY_ID.test(keyId)) throw new HttpError(400, 'ERR_BAD_KEY_ID', 'keyId must be the key id returned by POST /create-key (a lowercase UUID)')
  const outcome = companyId === undefined ? 'not-found' : await deps.store.revokeKey(companyId, keyId, Math.floor(deps.nowSeconds()))
  if (outcome === 'not-found') throw new HttpError(404, 'ERR_KEY_NOT_FOUND', 'No such key')
  return emptyResponse(204)
}

/**
 * `DELETE /keys`: revoke every key of the caller's company issued up to now,
 * including keys with no record (from the reference plugin, or from before
 * records existed). `iat` has one-second resolution, so the instant is rounded
 * up to the next second; `POST /create-key` issues later keys with an `iat` no
 * earlier than it, so a key created right after the revoke is not born revoked.
 *
 * @example
 * await revokeAllKeys(deps, event) // 204
 */
export async function revokeAllKeys(deps: PortalKeysDeps, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const companyId = await callerCompany(deps, event)
  if (companyId !== undefined) await deps.store.revokeAllKeys(companyId, Math.floor(deps.nowSeconds()) + 1)
  return emptyResponse(204)
}
