import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { loadApiKeyConfig, type ApiKeyConfig } from '../keys/api-key-config'
import { parseCreateKeyRequest } from './create-key-request'
import { keyStoreFromEnv } from '../store/dynamo-key-store'
import { readWholeNumber, type Env } from '../runtime/env'
import { issueApiKey, type IssuedApiKey } from '../keys/issue-api-key'
import { jsonResponse } from '../http/http-response'
import { keyRecordFor, keyStatus, type KeyRecord } from '../store/key-store'
import { HttpError } from '../runtime/errors'
import type { Logger } from '../runtime/logger'
import { loadPortalConfig } from './portal-config'
import { createPortalTokenVerifier, type PortalIdentity, type PortalTokenVerifier } from './portal-identity'
import { createBilling, type KeyHolder } from '../billing/billing'
import { loadBillingConfig } from '../billing/billing-config'
import { billingRecordsFromEnv } from '../billing/billing-records'
import { portalBearerToken } from './portal-caller'
import { createMoesifProfileUpdater } from '../moesif/profiles'
import { moesifSettingsFromEnv } from '../moesif/settings'

/** What `createKey` needs; passed in so tests can hand it real parts on loopback. */
export interface CreateKeyDeps {
  readonly apiKeys: ApiKeyConfig
  readonly verifyPortalToken: PortalTokenVerifier
  readonly nowSeconds: () => number
  /** The company's "revoked before" instant, if any: new keys are issued no earlier. */
  readonly companyRevokedBefore?: (companyId: string) => Promise<number | undefined>
  /** Who a new key is for (billing): by default the ID token's user and company. Throws 402 without a subscription. */
  readonly holderForNewKey?: (identity: PortalIdentity) => Promise<KeyHolder>
  /** Called after signing, before answering; a failure here fails the request so no untracked key is handed out. */
  readonly onIssued?: (key: IssuedApiKey, holder: KeyHolder, name: string | undefined) => Promise<void>
  /** The company's key records, to count its active keys against `maxActiveKeys`. */
  readonly companyKeys?: (companyId: string) => Promise<readonly KeyRecord[]>
  /** Most active keys a company may hold (`MAX_ACTIVE_KEYS_PER_COMPANY`). */
  readonly maxActiveKeys?: number
  /** Waits `ms` (tests pass a fake clock's). */
  readonly sleep?: (ms: number) => Promise<void>
}

/**
 * Longest wait for the next second after a company-wide revoke: beyond it the
 * Lambdas' clocks disagree, and the key is issued with `iat` at the revoke
 * instant instead (see {@link createKey}).
 */
const MAX_REVOKE_WAIT_MS = 2000

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * `POST /create-key`: authenticate the portal user, then sign an API key for
 * them and their company. Answers 201 `{ apikey, keyId, expiresAt }`.
 *
 * The portal token is checked before the body, so an anonymous caller learns
 * nothing about body validation.
 *
 * @example
 * const response = await createKey(deps, event)
 */
export async function createKey(deps: CreateKeyDeps, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const identity = await deps.verifyPortalToken(portalBearerToken(event))
  const request = parseCreateKeyRequest(event)
  const maxLifetime = deps.apiKeys.expiresInSeconds
  if (request.expiresInSeconds !== undefined && request.expiresInSeconds > maxLifetime) {
    throw new HttpError(400, 'ERR_BAD_BODY', `expiresIn must be at most ${maxLifetime} seconds (JWT_EXPIRES_IN) for this deployment`)
  }
  const holder = deps.holderForNewKey === undefined ? holderOf(identity) : await deps.holderForNewKey(identity)
  const owner = holder.owner
  const max = deps.maxActiveKeys
  const [notIssuedBefore, keys] = await Promise.all([
    deps.companyRevokedBefore?.(owner.companyId),
    max === undefined ? undefined : deps.companyKeys?.(owner.companyId)
  ])
  let nowSeconds = deps.nowSeconds()
  if (keys !== undefined && max !== undefined) {
    const active = keys.filter((record) => keyStatus(record, notIssuedBefore, nowSeconds) === 'active').length
    // Concurrent requests may each see room for one more: the cap can be passed by at most their number.
    if (active >= max) {
      throw new HttpError(
        409,
        'ERR_TOO_MANY_KEYS',
        `Your company already has ${active} active API keys, the most allowed: revoke keys you no longer use first`
      )
    }
  }
  // A revoke-all this second set "revoked before" to the next second. A key must never carry an iat that a
  // later revoke-all in the same second could not tell apart from a revoked one, so wait for that second
  // rather than issue a key dated in the future (a second DELETE /keys computes floor(now) + 1 > iat).
  if (notIssuedBefore !== undefined && nowSeconds < notIssuedBefore) {
    const waitMs = Math.ceil((notIssuedBefore - nowSeconds) * 1000)
    if (waitMs <= MAX_REVOKE_WAIT_MS) {
      await (deps.sleep ?? realSleep)(waitMs)
      nowSeconds = Math.max(deps.nowSeconds(), notIssuedBefore)
    }
  }
  const issued = await issueApiKey(deps.apiKeys, owner, { nowSeconds, lifetimeSeconds: request.expiresInSeconds, notIssuedBefore })
  await deps.onIssued?.(issued, holder, request.name)
  return jsonResponse(201, {
    apikey: issued.apikey,
    keyId: issued.keyId,
    expiresAt: new Date(issued.expiresAt * 1000).toISOString()
  })
}

/** Without billing, a key belongs to the ID token's user and company. */
const holderOf = (identity: PortalIdentity): KeyHolder => ({
  owner: { userId: identity.userId, companyId: identity.companyId },
  portalUserId: identity.userId,
  email: identity.email,
  plan: undefined
})

/**
 * The dependencies `POST /create-key` runs with, from the environment (with
 * any fetched secrets laid over it): the signing key, the portal token
 * verifier, billing (`APP_PAYMENT_PROVIDER`) and, with `KEYS_TABLE`, the key
 * store that records each key.
 *
 * @example
 * const deps = await createKeyDepsFromEnv(await envWithSecrets(process.env, 'sign'), logger)
 */
export async function createKeyDepsFromEnv(env: Env, logger: Logger): Promise<CreateKeyDeps> {
  const store = keyStoreFromEnv(env)
  if (store === undefined) {
    logger.warn('key records disabled: KEYS_TABLE is not set, so keys cannot be listed, revoked one by one or capped per company')
  }
  const maxActiveKeys = readWholeNumber(env, 'MAX_ACTIVE_KEYS_PER_COMPANY', 100, 1, 10_000)
  const billing = await createBilling(loadBillingConfig(env), { records: billingRecordsFromEnv(env) })
  const updateProfiles = createMoesifProfileUpdater(moesifSettingsFromEnv(env), logger)
  return {
    maxActiveKeys,
    holderForNewKey: billing.holderForNewKey,
    companyKeys: store === undefined ? undefined : (companyId) => store.listKeys(companyId),
    apiKeys: loadApiKeyConfig(env, 'sign'),
    verifyPortalToken: createPortalTokenVerifier(loadPortalConfig(env)),
    nowSeconds: () => Date.now() / 1000,
    companyRevokedBefore: store === undefined ? undefined : (companyId) => store.companyRevokedBefore(companyId),
    onIssued: async (issued, holder, name) => {
      await store?.putKey(keyRecordFor(issued, holder.owner, name, holder))
      logger.info('key issued', {
        keyId: issued.keyId,
        orgId: holder.owner.companyId,
        userId: holder.owner.userId,
        plan: holder.plan?.subscriptionId
      })
      // Bounded by MOESIF_MAX_WAIT_MS and never throws: analytics must not cost the customer a key.
      await updateProfiles({
        companyId: holder.owner.companyId,
        userId: holder.owner.userId,
        email: holder.email,
        portalUserId: holder.portalUserId,
        plan: holder.plan
      })
    }
  }
}
