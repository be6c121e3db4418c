import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, importJWK, SignJWT, type JWK } from 'jose'

/**
 * A development identity provider: an RS256 key pair, a JWKS served over
 * HTTP on 127.0.0.1, and ID tokens shaped like Auth0's. The local stack and
 * the tests use it in place of Auth0 or Okta. Never part of a deployment.
 */

/** The issuer and audience of local ID tokens. Fixed, so tokens minted by another process are accepted. */
export const LOCAL_IDP_ISSUER = 'http://127.0.0.1/dev-portal-keys-local-idp/'
export const LOCAL_IDP_AUDIENCE = 'dev-portal-keys-local'

/** The persisted key pair of a development identity provider. */
export interface IdentityProviderKeys {
  readonly kid: string
  readonly privateJwk: JWK
  readonly publicJwk: JWK
}

/**
 * Generate a fresh RS256 key pair for a development identity provider.
 *
 * @example
 * const keys = await generateIdentityProviderKeys()
 */
export async function generateIdentityProviderKeys(): Promise<IdentityProviderKeys> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const kid = `local-${randomUUID().slice(0, 8)}`
  return {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }
  }
}

/** Claims of a development ID token. */
export interface LocalIdTokenClaims {
  readonly sub: string
  readonly email?: string | undefined
  readonly org?: string | undefined
  /** Name of the company claim (default `org_id`). */
  readonly companyClaim?: string
  readonly issuer?: string
  readonly audience?: string
  readonly expiresInSeconds?: number
  readonly nowSeconds?: number
}

/**
 * Mint an ID token as the portal's identity provider would after a login.
 *
 * @example
 * const idToken = await mintIdToken(keys, { sub: 'auth0|alice', email: 'alice@acme.test', org: 'acme' })
 */
export async function mintIdToken(keys: IdentityProviderKeys, claims: LocalIdTokenClaims): Promise<string> {
  const now = Math.floor(claims.nowSeconds ?? Date.now() / 1000)
  const payload: Record<string, unknown> = {}
  if (claims.email !== undefined) payload.email = claims.email
  if (claims.org !== undefined) payload[claims.companyClaim ?? 'org_id'] = claims.org
  const key = await importJWK(keys.privateJwk, 'RS256')
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: keys.kid })
    .setSubject(claims.sub)
    .setIssuer(claims.issuer ?? LOCAL_IDP_ISSUER)
    .setAudience(claims.audience ?? LOCAL_IDP_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.expiresInSeconds ?? 3600))
    .sign(key)
}

/** A running JWKS server. */
export interface JwksServer {
  readonly jwksUri: string
  /** How many times the JWKS was fetched. */
  readonly fetches: () => number
  readonly close: () => Promise<void>
}

/**
 * Serve `{ keys: [publicJwk] }` at `/.well-known/jwks.json` on 127.0.0.1.
 *
 * @example
 * const server = await startJwksServer([keys.publicJwk])
 * process.env.PORTAL_JWKS_URI = server.jwksUri
 */
export async function startJwksServer(publicJwks: readonly JWK[], options: { port?: number } = {}): Promise<JwksServer> {
  let fetches = 0
  const body = JSON.stringify({ keys: publicJwks })
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/.well-known/jwks.json') {
      fetches++
      res.writeHead(200, { 'content-type': 'application/json' }).end(body)
      return
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    jwksUri: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    fetches: () => fetches,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
