import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { readEnv, type Env } from '../lib/runtime/env'
import { ConfigError, HttpError } from '../lib/runtime/errors'
import { jsonResponse } from '../lib/http/http-response'
import { LOCAL_IDP_AUDIENCE, LOCAL_IDP_ISSUER, mintIdToken, type IdentityProviderKeys } from './identity-provider'

/**
 * `POST /local/login` (local stage only): sign in as a dev user of the local
 * identity provider, the way `npm run -s portal-token` does, so the key
 * console can call the portal endpoints with a real ID token.
 */

/** What a local login needs. */
export interface LocalLoginDeps {
  /** The key pair `npm start` generated under the state folder, or `undefined` when the stack trusts another identity provider. */
  readonly keys: IdentityProviderKeys | undefined
  /** The issuer the stack verifies portal logins against (for the refusal message). */
  readonly portalIssuer: string | undefined
  readonly companyClaim: string
  readonly nowSeconds: () => number
}

/** The dev user to sign in as: the same three fields as `npm run -s portal-token`. */
export interface LocalLoginRequest {
  readonly sub: string
  readonly email: string | undefined
  readonly org: string | undefined
}

/** An hour, like the ID tokens Auth0 issues by default. */
const TOKEN_LIFETIME_SECONDS = 3600
const MAX_BODY_BYTES = 4096
const FIELDS = new Set(['sub', 'email', 'org'])

/**
 * Load the local identity provider's key pair from `LOCAL_STATE_DIR`
 * (default `.local`), unless the stack verifies portal logins against
 * another issuer (`AUTH_PROVIDER` or `PORTAL_ISSUER` set): then a local login
 * could only mint tokens the stack rejects.
 *
 * @example
 * const deps = await loadLocalLoginDeps(process.env)
 */
export async function loadLocalLoginDeps(env: Env): Promise<LocalLoginDeps> {
  const portalIssuer = readEnv(env, 'PORTAL_ISSUER')
  const companyClaim = readEnv(env, 'PORTAL_COMPANY_ID_CLAIM') ?? 'org_id'
  const nowSeconds = () => Date.now() / 1000
  if (portalIssuer !== LOCAL_IDP_ISSUER || readEnv(env, 'PORTAL_AUDIENCE') !== LOCAL_IDP_AUDIENCE)
    return { keys: undefined, portalIssuer, companyClaim, nowSeconds }
  const path = join(readEnv(env, 'LOCAL_STATE_DIR') ?? '.local', 'identity-provider.json')
  let keys: IdentityProviderKeys
  try {
    keys = JSON.parse(await readFile(path, 'utf8')) as IdentityProviderKeys
  } catch (error) {
    throw new ConfigError('LOCAL_STATE_DIR', 'the folder where npm start keeps identity-provider.json', { cause: error })
  }
  return { keys, portalIssuer, companyClaim, nowSeconds }
}

function field(body: Record<string, unknown>, name: string, required: boolean, max: number): string | undefined {
  const value = body[name]
  if ((value === undefined || value === null || value === '') && !required) return undefined
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value.trim() === '' || value.length > max || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new HttpError(400, 'ERR_BAD_BODY', `${name} must be ${required ? 'a non-empty' : 'a'} string of at most ${max} printable characters`)
  }
  return value.trim()
}

/**
 * Parse `{ sub, email?, org? }`. An absent `org` makes a one-user company
 * (the company id falls back to `sub`), as with the reference portal.
 *
 * @example
 * parseLocalLoginRequest('{"sub":"auth0|alice","email":"alice@acme.test","org":"acme"}')
 */
export function parseLocalLoginRequest(raw: string | undefined): LocalLoginRequest {
  if (raw !== undefined && Buffer.byteLength(raw) > MAX_BODY_BYTES)
    throw new HttpError(413, 'ERR_BODY_TOO_LARGE', `Body must be at most ${MAX_BODY_BYTES} bytes`)
  let body: unknown
  try {
    body = JSON.parse(raw ?? '')
  } catch {
    throw new HttpError(400, 'ERR_BAD_BODY', 'Body must be JSON: { "sub": "...", "email": "...", "org": "..." }')
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'ERR_BAD_BODY', 'Body must be a JSON object')
  const record = body as Record<string, unknown>
  const unknown = Object.keys(record).find((name) => !FIELDS.has(name))
  if (unknown !== undefined)
    throw new HttpError(400, 'ERR_BAD_BODY', `Unknown field ${JSON.stringify(unknown.slice(0, 40))}; allowed: sub, email, org`)
  return { sub: field(record, 'sub', true, 256) as string, email: field(record, 'email', false, 320), org: field(record, 'org', false, 256) }
}

/**
 * Mint an ID token for the requested dev user. Answers 200
 * `{ idToken, expiresAt, userId, companyId, email }`, or 409
 * `ERR_LOCAL_IDP_NOT_IN_USE` when the stack trusts another identity provider.
 *
 * @example
 * const response = await localLogin(deps, event)
 */
export async function localLogin(
  deps: LocalLoginDeps,
  event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>
): Promise<APIGatewayProxyStructuredResultV2> {
  if (deps.keys === undefined) {
    throw new HttpError(
      409,
      'ERR_LOCAL_IDP_NOT_IN_USE',
      `This stack verifies portal logins with ${deps.portalIssuer ?? 'another identity provider'}, not the local one: sign in there`
    )
  }
  const raw = event.isBase64Encoded && event.body !== undefined ? Buffer.from(event.body, 'base64').toString('utf8') : event.body
  const request = parseLocalLoginRequest(raw)
  const now = Math.floor(deps.nowSeconds())
  const idToken = await mintIdToken(deps.keys, {
    ...request,
    companyClaim: deps.companyClaim,
    nowSeconds: now,
    expiresInSeconds: TOKEN_LIFETIME_SECONDS
  })
  return jsonResponse(200, {
    idToken,
    expiresAt: new Date((now + TOKEN_LIFETIME_SECONDS) * 1000).toISOString(),
    userId: request.sub,
    companyId: request.org ?? request.sub,
    email: request.email ?? null
  })
}
