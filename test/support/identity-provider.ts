/**
 * The development identity provider (src/local/identity-provider.ts) as the
 * tests use it: a key pair, its JWKS served on 127.0.0.1, a way to mint ID
 * tokens with it, and the `PORTAL_*` variables that make a deployment trust it.
 *
 * @example
 * let idp: TestIdentityProvider
 * beforeAll(async () => {
 *   idp = await startTestIdentityProvider()
 * })
 * afterAll(async () => {
 *   await idp?.close()
 * })
 * // ...
 * loadPortalConfig(idp.env)
 * const idToken = await idp.mint({ sub: 'auth0|alice', org: 'acme' })
 */
import type { JWK } from 'jose'
import {
  generateIdentityProviderKeys,
  LOCAL_IDP_AUDIENCE,
  LOCAL_IDP_ISSUER,
  mintIdToken,
  startJwksServer,
  type IdentityProviderKeys,
  type LocalIdTokenClaims
} from '../../src/local/identity-provider'

export { LOCAL_IDP_AUDIENCE, LOCAL_IDP_ISSUER, type IdentityProviderKeys, type LocalIdTokenClaims }

/** The portal settings that point a deployment at an identity provider (a type, so it passes as an env record). */
export type PortalEnv = {
  readonly PORTAL_ISSUER: string
  readonly PORTAL_JWKS_URI: string
  readonly PORTAL_AUDIENCE: string
}

/**
 * `PORTAL_ISSUER`, `PORTAL_JWKS_URI` and `PORTAL_AUDIENCE` for the local
 * identity provider's issuer and audience, with the key set at `jwksUri`.
 *
 * @example
 * loadPortalConfig({ ...portalEnvFor(server.jwksUri), PORTAL_COMPANY_ID_CLAIM: 'tenant' })
 */
export function portalEnvFor(jwksUri: string): PortalEnv {
  return { PORTAL_ISSUER: LOCAL_IDP_ISSUER, PORTAL_JWKS_URI: jwksUri, PORTAL_AUDIENCE: LOCAL_IDP_AUDIENCE }
}

/** An identity provider's key pair and a way to mint ID tokens with it. */
export interface IdTokenMinter {
  readonly keys: IdentityProviderKeys
  /** `mintIdToken(keys, claims)`: an RS256 ID token with the local issuer and audience unless `claims` says otherwise. */
  readonly mint: (claims: LocalIdTokenClaims) => Promise<string>
}

/** A running identity provider: {@link IdTokenMinter} plus its JWKS on 127.0.0.1. */
export interface TestIdentityProvider extends IdTokenMinter {
  readonly jwksUri: string
  /** {@link portalEnvFor} this provider's JWKS. */
  readonly env: PortalEnv
  /** How many times the JWKS was fetched. */
  readonly fetches: () => number
  /** Stop serving the JWKS (safe to call more than once). */
  readonly close: () => Promise<void>
}

function minterFor(keys: IdentityProviderKeys): IdTokenMinter {
  return { keys, mint: (claims) => mintIdToken(keys, claims) }
}

/**
 * Start an identity provider: fresh keys (or `options.keys`), with the public
 * key (plus `options.alsoPublish`) served at `/.well-known/jwks.json`.
 *
 * @example
 * const idp = await startTestIdentityProvider()
 * const sameKeysOwnServer = await startTestIdentityProvider({ keys: idp.keys })
 */
export async function startTestIdentityProvider(
  options: { keys?: IdentityProviderKeys; alsoPublish?: readonly JWK[] } = {}
): Promise<TestIdentityProvider> {
  const keys = options.keys ?? (await generateIdentityProviderKeys())
  const server = await startJwksServer([keys.publicJwk, ...(options.alsoPublish ?? [])])
  return { ...minterFor(keys), jwksUri: server.jwksUri, env: portalEnvFor(server.jwksUri), fetches: server.fetches, close: server.close }
}

/**
 * Another identity provider: fresh keys that no JWKS server publishes, so
 * every token it mints must be refused.
 *
 * @example
 * const mallory = await untrustedIdentityProvider()
 * const foreign = await mallory.mint({ sub: 'auth0|mallory', org: 'acme' })
 */
export async function untrustedIdentityProvider(): Promise<IdTokenMinter> {
  return minterFor(await generateIdentityProviderKeys())
}

/**
 * A JWKS URI on 127.0.0.1 where nothing listens any more: a server was
 * started there and closed (an identity provider that is down).
 *
 * @example
 * loadPortalConfig(portalEnvFor(await unreachableJwksUri()))
 */
export async function unreachableJwksUri(): Promise<string> {
  const gone = await startJwksServer([])
  await gone.close()
  return gone.jwksUri
}
