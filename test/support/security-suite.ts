/**
 * The shared security suite (house style 8): the same hostile keys against
 * every path that accepts an API key. A path plugs in how to issue a key it
 * should accept, how to forge one, and how to present a token.
 */
import { describe, expect, it } from 'vitest'
import { b64url, segmentsOf } from './jws'

/** A path that accepts API keys, as the suite drives it. */
export interface KeyAcceptingPath {
  /** A key this path must accept at `nowSeconds`, valid for `lifetimeSeconds`. */
  issue(nowSeconds: number, lifetimeSeconds: number): Promise<string>
  /** A well-formed key with the same claims, signed with other key material of the same algorithm. */
  forge(nowSeconds: number): Promise<string>
  /** Present `token` (or no token) at `nowSeconds`; true when the path lets the caller through. */
  attempt(token: string | undefined, nowSeconds: number): Promise<boolean>
  /** The claim carrying the company, to tamper with. */
  readonly companyIdField: string
}

const NOW = 1_700_000_000
const HOUR = 3600

function withPayload(token: string, edit: (claims: Record<string, unknown>) => void): string {
  const [header, payload, signature] = segmentsOf(token)
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
  edit(claims)
  return `${header}.${b64url(JSON.stringify(claims))}.${signature}`
}

/**
 * Register the suite under `describe(name)`. `setup` runs once (in
 * beforeAll-like fashion, lazily on the first test).
 *
 * @example
 * describeApiKeySecuritySuite('verifyApiKey (HS256)', () => ({ issue, forge, attempt, companyIdField: 'org_id' }))
 */
export function describeApiKeySecuritySuite(name: string, setup: () => KeyAcceptingPath): void {
  describe(`${name}: shared API-key security suite`, () => {
    it('accepts a freshly issued key (control: the suite can tell allow from deny)', async () => {
      // Prepare
      const path = setup()
      const token = await path.issue(NOW, HOUR)
      // Act
      const allowed = await path.attempt(token, NOW + 1)
      // Assess
      expect(allowed).toBe(true)
    })

    it('refuses a request without a key', async () => {
      const path = setup()
      expect(await path.attempt(undefined, NOW)).toBe(false)
    })

    it('refuses a key that is not a JWT', async () => {
      const path = setup()
      expect(await path.attempt('not-a-jwt', NOW)).toBe(false)
    })

    it('refuses a key signed with other key material', async () => {
      // Prepare
      const path = setup()
      const forged = await path.forge(NOW)
      // Act
      const allowed = await path.attempt(forged, NOW + 1)
      // Assess
      expect(allowed).toBe(false)
    })

    it('refuses an expired key', async () => {
      // Prepare
      const path = setup()
      const token = await path.issue(NOW, HOUR)
      // Act: one day after expiry, far beyond any clock tolerance
      const allowed = await path.attempt(token, NOW + HOUR + 86_400)
      // Assess
      expect(allowed).toBe(false)
    })

    it('refuses a key whose company claim was changed after signing', async () => {
      // Prepare
      const path = setup()
      const token = await path.issue(NOW, HOUR)
      const tampered = withPayload(token, (claims) => {
        claims[path.companyIdField] = 'someone-else'
      })
      // Act
      const allowed = await path.attempt(tampered, NOW + 1)
      // Assess
      expect(allowed).toBe(false)
    })

    it('refuses an unsecured copy of a valid key (alg "none", signature stripped)', async () => {
      // Prepare
      const path = setup()
      const [, payload] = segmentsOf(await path.issue(NOW, HOUR))
      const unsecured = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.`
      // Act
      const allowed = await path.attempt(unsecured, NOW + 1)
      // Assess
      expect(allowed).toBe(false)
    })
  })
}
