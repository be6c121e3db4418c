/**
 * The shared security suite (house style 8): the same hostile keys against
 * every path that accepts an API key. A path plugs in how to issue a key it
 * should accept, how to forge one, and how to present a token. Options unlock
 * the cases that need more: the path's own key material (to sign hostile
 * tokens *validly*, so only the check under test can refuse them), a portal
 * login, a revoked key, the reason the path logged, a crypto counter, its logs.
 *
 * When the path can tell why it denied, every case also asserts the exact
 * reason: a "wrong kid" token refused only because the suite forgot `iss`
 * would prove nothing.
 */
import { createPublicKey, randomBytes, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isHmac, type JwtAlgorithm } from '../../src/lib/keys/algorithms'
import type { AuthorizationDenyReason } from '../../src/lib/authorizer/authorize-api-key'
import { MAX_TOKEN_BYTES } from '../../src/lib/keys/verify-api-key'
import { b64url, flipMiddleChar, segmentsOf, signRawJws, type Segment } from './jws'
import { hmacSecret, keyKindFor, pemKeyPair } from './keys'

/** A path that accepts API keys, as the suite drives it. */
export interface KeyAcceptingPath {
  /** A key this path must accept at `nowSeconds`, valid for `lifetimeSeconds`. */
  issue(nowSeconds: number, lifetimeSeconds: number): Promise<string>
  /** A well-formed key with the same claims, signed with other key material of the same algorithm. */
  forge(nowSeconds: number): Promise<string>
  /**
   * Present `token` (or no token) at `nowSeconds`; true when the path lets the
   * caller through. Anything that is neither a clear allow nor a clear deny
   * (a 500, an odd result shape) must throw, never count as a deny.
   */
  attempt(token: string | undefined, nowSeconds: number): Promise<boolean>
  /** The claim carrying the company, to tamper with. */
  readonly companyIdField: string
}

/** The key material and checks a path is configured with, so the suite can sign tokens it must accept. */
export interface PathKeys {
  readonly algorithm: JwtAlgorithm
  /** What the path's `JWT_SECRET` holds: the HMAC secret, or the PEM private key. */
  readonly secret: string
  readonly kid?: string | undefined
  /** `JWT_ISSUER`, when the path checks it. */
  readonly issuer?: string | undefined
  /** `JWT_AUDIENCE`, when the path checks it. */
  readonly audience?: string | undefined
  /** `JWT_USER_ID_FIELD` (default `sub`). */
  readonly userIdField?: string
}

/** Where a path's log output can be read. */
export interface PathLogs {
  readonly lines: () => readonly string[]
  /**
   * `json-lines`: every line is one of this project's log lines (handlers run
   * in-process, LOG_LEVEL=DEBUG). `mixed`: other programs print too (the local
   * stack), so only JSON lines with a `service` are this project's.
   */
  readonly format: 'json-lines' | 'mixed'
}

/** What a path can do beyond {@link KeyAcceptingPath}; each option registers the cases it makes possible. */
export interface SecuritySuiteOptions {
  /** The path's key material and checks: enables every case that needs a validly signed hostile token. */
  readonly keys?: PathKeys
  /** The path's "now" in seconds. Default: a fixed instant (the path freezes its clock in `attempt`). */
  readonly clock?: () => number
  /** A portal ID token (a login), to present as if it were an API key. */
  readonly portalIdToken?: (nowSeconds: number) => Promise<string>
  /** A key issued through the real issuer, then revoked. */
  readonly revokedKey?: (nowSeconds: number) => Promise<string>
  /** The reason the path logged for its last denial. */
  readonly lastDenyReason?: () => string | undefined
  /** How many signature operations (HMAC or public-key verify) the path has run so far. */
  readonly cryptoOperations?: () => number
  /** The path's log output: enables the leak check that closes the suite. */
  readonly logs?: PathLogs
}

const FIXED_NOW = 1_700_000_000
const HOUR = 3600
const DAY = 86_400
const B64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Every deny reason src can give; a Record, so the compiler keeps it exhaustive. */
const DENY_REASONS: Record<AuthorizationDenyReason, true> = {
  MISSING_TOKEN: true,
  TOKEN_TOO_LARGE: true,
  MALFORMED: true,
  UNSUPPORTED_HEADER: true,
  ALG_MISMATCH: true,
  UNKNOWN_KID: true,
  BAD_SIGNATURE: true,
  MISSING_EXP: true,
  EXPIRED: true,
  NOT_YET_VALID: true,
  BAD_ISSUER: true,
  BAD_AUDIENCE: true,
  BAD_COMPANY: true,
  BAD_USER: true,
  REVOKED: true,
  STORE_UNAVAILABLE: true
}

/** A compact JWS anywhere in a line, or the start of a base64url JSON object. */
const THREE_SEGMENTS = /[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/
const ENCODED_JSON = /eyJ[A-Za-z0-9_-]{8,}/

function withPayload(token: string, edit: (claims: Record<string, unknown>) => void): string {
  const [header, payload, signature] = segmentsOf(token)
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
  edit(claims)
  return `${header}.${b64url(JSON.stringify(claims))}.${signature}`
}

/** Another algorithm the same key material can sign with: "valid signature, wrong algorithm". */
function siblingAlgorithm(alg: JwtAlgorithm): JwtAlgorithm | undefined {
  switch (alg) {
    case 'HS256':
      return 'HS512'
    case 'HS384':
    case 'HS512':
      return 'HS256'
    case 'RS256':
      return 'RS512'
    case 'RS384':
    case 'RS512':
    case 'PS256':
      return 'RS256'
    case 'ES256':
      return 'ES384'
    case 'ES384':
      return 'ES256'
    case 'EdDSA':
      return undefined
  }
}

/** Unused low bits in the last base64url character of an `n`-byte signature. */
function spareBits(signatureBytes: number): number {
  return Math.ceil((signatureBytes * 8) / 6) * 6 - signatureBytes * 8
}

/** The public half of a PEM private key, as the deployment's JWT_VERIFY_KEY would hold it. */
function publicPemOf(privatePem: string): string {
  return createPublicKey(privatePem).export({ type: 'spki', format: 'pem' }).toString()
}

/** Key material of the same kind as the path's, which the path must never trust. */
function attackerMaterial(alg: JwtAlgorithm): { secret: string; jwk: Record<string, unknown>; pem: string } {
  if (isHmac(alg)) {
    const secret = hmacSecret(alg, 'attacker')
    return { secret, jwk: { kty: 'oct', k: b64url(secret), alg }, pem: secret }
  }
  const pair = pemKeyPair(keyKindFor(alg), 'attacker')
  return { secret: pair.privateKey, jwk: { ...createPublicKey(pair.publicKey).export({ format: 'jwk' }), alg }, pem: pair.publicKey }
}

/** A loopback server that serves the attacker's key and counts every request it gets. */
interface AttackerKeyServer {
  readonly jwksUrl: string
  readonly certUrl: string
  readonly requests: () => number
  readonly close: () => Promise<void>
}

async function startAttackerKeyServer(jwk: Record<string, unknown>, pem: string): Promise<AttackerKeyServer> {
  let requests = 0
  const server = createServer((req, res) => {
    requests++
    if (req.url === '/jwks.json') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }))
    else res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(pem)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
    certUrl: `http://127.0.0.1:${port}/cert.pem`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** A JSON object with `member` (raw JSON text) inserted first: `JSON.stringify` cannot write an own `__proto__`. */
function withRawMember(value: Record<string, unknown>, member: string): string {
  return JSON.stringify(value).replace(/^\{/, `{${member},`)
}

/**
 * Register the suite under `describe(name)`. `setup` is called in each test
 * (it may cold-start the path lazily); `options` are read when the suite is
 * registered, to decide which cases exist, and called only inside tests.
 *
 * @example
 * describeApiKeySecuritySuite('verifyApiKey (HS256)', () => ({ issue, forge, attempt, companyIdField: 'org_id' }))
 * describeApiKeySecuritySuite('authorizer (RS256)', () => path, { keys: { algorithm: 'RS256', secret: privatePem, kid: 'k-1' }, lastDenyReason })
 */
export function describeApiKeySecuritySuite(name: string, setup: () => KeyAcceptingPath, options: SecuritySuiteOptions = {}): void {
  const clock = options.clock ?? (() => FIXED_NOW)
  const keys = options.keys

  describe(`${name}: shared API-key security suite`, () => {
    const presented: string[] = []
    let denied = 0
    let attacker: AttackerKeyServer | undefined

    if (keys !== undefined) {
      beforeAll(async () => {
        const material = attackerMaterial(keys.algorithm)
        attacker = await startAttackerKeyServer(material.jwk, material.pem)
      })
      afterAll(async () => {
        await attacker?.close()
      })
    }

    const present = async (path: KeyAcceptingPath, token: string | undefined, now: number): Promise<boolean> => {
      if (token !== undefined) presented.push(token)
      const allowed = await path.attempt(token, now)
      if (!allowed) denied++
      return allowed
    }

    const expectDenied = async (path: KeyAcceptingPath, token: string | undefined, now: number, reason: AuthorizationDenyReason): Promise<void> => {
      const allowed = await present(path, token, now)
      expect(allowed, 'the path let a hostile token through').toBe(false)
      if (options.lastDenyReason !== undefined) expect(options.lastDenyReason()).toBe(reason)
    }

    /** Hand-signing, for the cases that need a token the path's own key signed (only `keys` paths). */
    const signing = (path: KeyAcceptingPath) => {
      if (keys === undefined) throw new TypeError('this case needs options.keys')
      const header = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
        alg: keys.algorithm,
        typ: 'JWT',
        ...(keys.kid === undefined ? {} : { kid: keys.kid }),
        ...extra
      })
      const claims = (now: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
        [keys.userIdField ?? 'sub']: 'auth0|suite',
        [path.companyIdField]: 'acme',
        jti: randomUUID(),
        iat: now,
        exp: now + HOUR,
        ...(keys.issuer === undefined ? {} : { iss: keys.issuer }),
        ...(keys.audience === undefined ? {} : { aud: keys.audience }),
        ...extra
      })
      const ours = (h: Segment, p: Segment): string => signRawJws(keys.algorithm, keys.secret, h, p)
      const attackers = (h: Segment, p: Segment): string => signRawJws(keys.algorithm, attackerMaterial(keys.algorithm).secret, h, p)
      return { header, claims, ours, attackers }
    }

    // ---- controls: the suite can tell allow from deny ----

    it('accepts a freshly issued key (control: the suite can tell allow from deny)', async () => {
      // Prepare
      const path = setup()
      const now = clock()
      const token = await path.issue(now, HOUR)
      // Act
      const allowed = await present(path, token, now + 1)
      // Assess
      expect(allowed).toBe(true)
    })

    if (keys !== undefined) {
      it("accepts a key the suite signs itself with the path's key (control for every hand-signed case)", async () => {
        const path = setup()
        const now = clock()
        const { header, claims, ours } = signing(path)
        expect(await present(path, ours(header(), claims(now)), now + 1)).toBe(true)
      })
    }

    // ---- no key, not a key, someone else's key ----

    it('refuses a request without a key', async () => {
      const path = setup()
      await expectDenied(path, undefined, clock(), 'MISSING_TOKEN')
    })

    it('refuses a key that is not a JWT', async () => {
      const path = setup()
      await expectDenied(path, 'not-a-jwt', clock(), 'MALFORMED')
    })

    it('refuses a key signed with other key material', async () => {
      // Prepare
      const path = setup()
      const now = clock()
      const forged = await path.forge(now)
      // Act + Assess
      await expectDenied(path, forged, now + 1, 'BAD_SIGNATURE')
    })

    // ---- alg none and algorithm confusion ----

    it('refuses an unsecured copy of a valid key (alg "none", signature stripped)', async () => {
      // Prepare
      const path = setup()
      const now = clock()
      const [, payload] = segmentsOf(await path.issue(now, HOUR))
      const unsecured = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.`
      // Act + Assess: the empty signature segment is refused before the header is even read
      await expectDenied(path, unsecured, now + 1, 'MALFORMED')
    })

    it('refuses alg "none" that keeps the original signature', async () => {
      const path = setup()
      const now = clock()
      const [, payload, signature] = segmentsOf(await path.issue(now, HOUR))
      await expectDenied(path, `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.${signature}`, now + 1, 'ALG_MISMATCH')
    })

    if (keys !== undefined && !isHmac(keys.algorithm)) {
      it(`refuses HS256 signed with the ${keys.algorithm} public key (PEM text as the HMAC secret)`, async () => {
        // Prepare: the classic confusion, with the exact PEM a deployment publishes as JWT_VERIFY_KEY
        const path = setup()
        const now = clock()
        const { header, claims } = signing(path)
        const confused = signRawJws('HS256', publicPemOf(keys.secret), header({ alg: 'HS256' }), claims(now))
        // Act + Assess
        await expectDenied(path, confused, now + 1, 'ALG_MISMATCH')
      })
    }

    const sibling = keys === undefined ? undefined : siblingAlgorithm(keys.algorithm)
    if (keys !== undefined && sibling !== undefined) {
      it(`refuses a key signed with the path's own key material under another algorithm (${sibling})`, async () => {
        const path = setup()
        const now = clock()
        const { header, claims } = signing(path)
        const token = signRawJws(sibling, keys.secret, header({ alg: sibling }), claims(now))
        await expectDenied(path, token, now + 1, 'ALG_MISMATCH')
      })
    }

    // ---- signature stripped, altered or moved ----

    it('refuses a key whose signature was stripped (alg unchanged)', async () => {
      const path = setup()
      const now = clock()
      const [header, payload] = segmentsOf(await path.issue(now, HOUR))
      await expectDenied(path, `${header}.${payload}.`, now + 1, 'MALFORMED')
    })

    it('refuses a key whose signature was altered (one character)', async () => {
      const path = setup()
      const now = clock()
      const [header, payload, signature] = segmentsOf(await path.issue(now, HOUR))
      await expectDenied(path, `${header}.${payload}.${flipMiddleChar(signature)}`, now + 1, 'BAD_SIGNATURE')
    })

    it('refuses a valid signature moved over from another issued key', async () => {
      const path = setup()
      const now = clock()
      const [header, payload] = segmentsOf(await path.issue(now, HOUR))
      const [, , otherSignature] = segmentsOf(await path.issue(now, 2 * HOUR))
      await expectDenied(path, `${header}.${payload}.${otherSignature}`, now + 1, 'BAD_SIGNATURE')
    })

    if (keys !== undefined) {
      // Registered only where the signature's last base64url character has unused bits (most algorithms).
      const bits = spareBits(Buffer.from(segmentsOf(signRawJws(keys.algorithm, keys.secret, { alg: keys.algorithm }, {}))[2], 'base64url').length)
      if (bits > 0) {
        // Buffer's base64url decoder ignores the unused low bits of the last character, so without a
        // canonical-spelling check up to 2^bits - 1 other spellings of a valid signature would verify
        // (a different API Gateway cache key and metering string for the same key).
        it(`refuses a non-canonical spelling of a valid signature (${bits} unused bits set)`, async () => {
          // Prepare
          const path = setup()
          const now = clock()
          const [header, payload, signature] = segmentsOf(await path.issue(now, HOUR))
          const last = B64URL_ALPHABET.indexOf(signature.at(-1) ?? '')
          const respelled = `${signature.slice(0, -1)}${B64URL_ALPHABET[last ^ 1]}`
          expect(Buffer.from(respelled, 'base64url')).toEqual(Buffer.from(signature, 'base64url'))
          // Act
          const allowed = await present(path, `${header}.${payload}.${respelled}`, now + 1)
          // Assess
          expect(allowed).toBe(false)
        })
      }
    }

    // ---- header or payload altered after signing ----

    it('refuses a key whose company claim was changed after signing', async () => {
      // Prepare
      const path = setup()
      const now = clock()
      const tampered = withPayload(await path.issue(now, HOUR), (claims) => {
        claims[path.companyIdField] = 'someone-else'
      })
      // Act + Assess
      await expectDenied(path, tampered, now + 1, 'BAD_SIGNATURE')
    })

    it('refuses a key whose expiry was extended after signing', async () => {
      const path = setup()
      const now = clock()
      const tampered = withPayload(await path.issue(now, HOUR), (claims) => {
        claims.exp = now + 365 * DAY
      })
      await expectDenied(path, tampered, now + 1, 'BAD_SIGNATURE')
    })

    it('refuses a key whose header gained a member after signing', async () => {
      const path = setup()
      const now = clock()
      const [header, payload, signature] = segmentsOf(await path.issue(now, HOUR))
      const edited = { ...(JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>), cty: 'JWT' }
      await expectDenied(path, `${b64url(JSON.stringify(edited))}.${payload}.${signature}`, now + 1, 'BAD_SIGNATURE')
    })

    // ---- key selection: kid, and headers that name keys ----

    if (keys !== undefined) {
      it("refuses a key validly signed with the path's key but naming another kid", async () => {
        const path = setup()
        const now = clock()
        const { header, claims, ours } = signing(path)
        await expectDenied(path, ours(header({ kid: 'some-other-kid' }), claims(now)), now + 1, 'UNKNOWN_KID')
      })

      it.each([
        ['jku', 'a JWKS URL on loopback serving the attacker key'],
        ['x5u', 'a certificate URL on loopback'],
        ['jwk', "the attacker's public key embedded"]
      ] as const)('ignores a %s header (%s): the attacker-signed key is refused and nothing is fetched', async (parameter, _what) => {
        // Prepare
        const path = setup()
        const now = clock()
        const server = attacker as AttackerKeyServer
        const { header, claims, attackers } = signing(path)
        const named = { jku: server.jwksUrl, x5u: server.certUrl, jwk: attackerMaterial(keys.algorithm).jwk }[parameter]
        const token = attackers(header({ [parameter]: named }), claims(now))
        // Act + Assess: the path's own key judges the signature; the named key never counts
        await expectDenied(path, token, now + 1, 'BAD_SIGNATURE')
        expect(server.requests()).toBe(0)
      })

      it.each([
        ['crit naming a registered claim', { crit: ['exp'] }],
        ['crit naming an unknown extension', { crit: ['urn:example:policy'], 'urn:example:policy': 'allow-all' }],
        ['an unencoded payload (b64 false)', { crit: ['b64'], b64: false }]
      ] as const)('refuses a validly signed key with %s', async (_name, extra) => {
        const path = setup()
        const now = clock()
        const { header, claims, ours } = signing(path)
        await expectDenied(path, ours(header(extra), claims(now)), now + 1, 'UNSUPPORTED_HEADER')
      })
    }

    // ---- time ----

    it('refuses an expired key', async () => {
      // Prepare: issued a day and an hour ago for an hour, far beyond any clock tolerance
      const path = setup()
      const now = clock()
      const token = await path.issue(now - HOUR - DAY, HOUR)
      // Act + Assess
      await expectDenied(path, token, now, 'EXPIRED')
    })

    if (keys !== undefined) {
      it('refuses a validly signed key without exp', async () => {
        const path = setup()
        const now = clock()
        const { header, claims, ours } = signing(path)
        await expectDenied(path, ours(header(), claims(now, { exp: undefined })), now + 1, 'MISSING_EXP')
      })

      it('refuses a validly signed key whose nbf is in the future', async () => {
        const path = setup()
        const now = clock()
        const { header, claims, ours } = signing(path)
        await expectDenied(path, ours(header(), claims(now, { nbf: now + HOUR })), now + 1, 'NOT_YET_VALID')
      })
    }

    // ---- issuer and audience, when the path checks them ----

    if (keys?.issuer !== undefined) {
      it.each([
        ['another issuer', { iss: 'https://evil.example/' }],
        ['no issuer', { iss: undefined }]
      ] as const)('refuses a validly signed key with %s', async (_name, extra) => {
        const path = setup()
        const now = clock()
        const { header, claims, ours } = signing(path)
        await expectDenied(path, ours(header(), claims(now, extra)), now + 1, 'BAD_ISSUER')
      })
    }

    if (keys?.audience !== undefined) {
      it.each([
        ['another audience', { aud: 'someone-else' }],
        ['an audience list without this API', { aud: ['someone-else', 'another-api'] }],
        ['no audience', { aud: undefined }]
      ] as const)('refuses a validly signed key with %s', async (_name, extra) => {
        const path = setup()
        const now = clock()
        const { header, claims, ours } = signing(path)
        await expectDenied(path, ours(header(), claims(now, extra)), now + 1, 'BAD_AUDIENCE')
      })
    }

    // ---- the company claim ----

    if (keys !== undefined) {
      it('refuses a validly signed key without the company claim', async () => {
        const path = setup()
        const now = clock()
        const { header, claims, ours } = signing(path)
        await expectDenied(path, ours(header(), claims(now, { [path.companyIdField]: undefined })), now + 1, 'BAD_COMPANY')
      })

      it.each([
        ['a number', 42],
        ['an array', ['acme']],
        ['an object', { id: 'acme' }],
        ['an empty string', '']
      ] as const)('refuses a validly signed key whose company claim is %s', async (_name, company) => {
        const path = setup()
        const now = clock()
        const { header, claims, ours } = signing(path)
        await expectDenied(path, ours(header(), claims(now, { [path.companyIdField]: company })), now + 1, 'BAD_COMPANY')
      })
    }

    // ---- size, encoding and shape, before any crypto ----

    it(`refuses a key over ${MAX_TOKEN_BYTES / 1024} KB before any crypto`, async () => {
      // Prepare: validly signed where the suite can sign, so only the size check can refuse it
      const path = setup()
      const now = clock()
      let big: string
      if (keys === undefined) {
        big = `${await path.issue(now, HOUR)}${'A'.repeat(MAX_TOKEN_BYTES)}`
      } else {
        const { header, claims, ours } = signing(path)
        big = ours(header(), claims(now, { note: 'x'.repeat(MAX_TOKEN_BYTES) }))
      }
      expect(big.length).toBeGreaterThan(MAX_TOKEN_BYTES)
      const before = options.cryptoOperations?.()
      // Act + Assess
      await expectDenied(path, big, now + 1, 'TOKEN_TOO_LARGE')
      if (options.cryptoOperations !== undefined && before !== undefined) {
        expect(options.cryptoOperations() - before, 'signature operations for the oversized key').toBe(0)
        // The counter does see crypto: a forged key under the limit costs at least one operation.
        const forged = await path.forge(now)
        const beforeForged = options.cryptoOperations()
        await present(path, forged, now + 1)
        expect(options.cryptoOperations() - beforeForged).toBeGreaterThan(0)
      }
    })

    it.each([
      ['a character outside the alphabet ("!")', (h: string, p: string, s: string) => `${h}.${p.slice(0, 5)}!${p.slice(6)}.${s}`],
      ['standard base64 characters ("+" and "/")', (h: string, p: string, s: string) => `${h}.${p}.+${s.slice(1, -1)}/`],
      ['base64 padding ("=")', (h: string, p: string, s: string) => `${h}.${p}.${s}==`]
    ])('refuses a key with bad base64url: %s', async (_name, spoil) => {
      const path = setup()
      const now = clock()
      const [header, payload, signature] = segmentsOf(await path.issue(now, HOUR))
      await expectDenied(path, spoil(header, payload, signature), now + 1, 'MALFORMED')
    })

    it.each([
      ['an array', '["HS256"]'],
      ['a string', '"HS256"'],
      ['a number', '256'],
      ['null', 'null'],
      ['not JSON at all', "{alg:'HS256'}"]
    ])('refuses a key whose header is %s, not a JSON object', async (_name, headerText) => {
      const path = setup()
      const now = clock()
      const [, payload, signature] = segmentsOf(await path.issue(now, HOUR))
      await expectDenied(path, `${b64url(headerText)}.${payload}.${signature}`, now + 1, 'MALFORMED')
    })

    if (keys !== undefined) {
      it('refuses a validly signed key whose payload is a JSON array, not an object', async () => {
        const path = setup()
        const now = clock()
        const { header, claims, ours } = signing(path)
        await expectDenied(path, ours(header(), [claims(now)]), now + 1, 'MALFORMED')
      })
    }

    it('refuses a key whose header carries a __proto__ key', async () => {
      const path = setup()
      const now = clock()
      const [header, payload, signature] = segmentsOf(await path.issue(now, HOUR))
      const parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>
      const poisoned = withRawMember(parsed, '"__proto__":{"alg":"none","kid":"admin"}')
      await expectDenied(path, `${b64url(poisoned)}.${payload}.${signature}`, now + 1, 'MALFORMED')
    })

    if (keys !== undefined) {
      it.each([
        ['a top-level __proto__ key', '"__proto__":{"org_id":"victim","admin":true}'],
        ['a nested __proto__ key', '"ctx":{"__proto__":{"admin":true}}'],
        ['a nested constructor.prototype', '"ctx":{"constructor":{"prototype":{"admin":true}}}']
      ])('refuses a validly signed key whose payload carries %s', async (_name, member) => {
        const path = setup()
        const now = clock()
        const { header, claims, ours } = signing(path)
        await expectDenied(path, ours(header(), withRawMember(claims(now), member)), now + 1, 'MALFORMED')
      })
    }

    it.each([
      ['2 segments (header.payload)', (h: string, p: string) => `${h}.${p}`],
      ['4 segments (a second signature)', (h: string, p: string, s: string) => `${h}.${p}.${s}.${s}`]
    ])('refuses a key of %s', async (_name, reshape) => {
      const path = setup()
      const now = clock()
      const [header, payload, signature] = segmentsOf(await path.issue(now, HOUR))
      await expectDenied(path, reshape(header, payload, signature), now + 1, 'MALFORMED')
    })

    it('refuses a JWE-shaped key (5 segments)', async () => {
      const path = setup()
      const now = clock()
      const jweHeader = b64url(JSON.stringify({ alg: 'RSA-OAEP-256', enc: 'A256GCM', ...(keys?.kid === undefined ? {} : { kid: keys.kid }) }))
      const jwe = [jweHeader, b64url(randomBytes(256)), b64url(randomBytes(12)), b64url(randomBytes(200)), b64url(randomBytes(16))].join('.')
      await expectDenied(path, jwe, now + 1, 'MALFORMED')
    })

    // ---- the wrong kind of token, and a key that was revoked ----

    const { portalIdToken, revokedKey } = options
    if (portalIdToken !== undefined) {
      it('refuses a portal ID token presented as an API key', async () => {
        // Prepare: a real login from the identity provider, signed with its own key and kid
        const path = setup()
        const now = clock()
        const idToken = await portalIdToken(now)
        // Act + Assess
        await expectDenied(path, idToken, now + 1, 'UNKNOWN_KID')
      })
    }

    if (revokedKey !== undefined) {
      it('refuses a key issued through the real issuer and then revoked', async () => {
        const path = setup()
        const now = clock()
        const token = await revokedKey(now)
        await expectDenied(path, token, now + 1, 'REVOKED')
      })
    }

    // ---- after every hostile case ----

    it('still accepts a freshly issued key after every hostile case (the path is still up)', async () => {
      const path = setup()
      const now = clock()
      expect(await present(path, await path.issue(now, HOUR), now + 1)).toBe(true)
    })

    if (keys !== undefined) {
      it('never fetched any URL a hostile header named', () => {
        expect(attacker?.requests()).toBe(0)
      })
    }

    const logs = options.logs
    if (logs !== undefined) {
      it('logs no presented token, no token-shaped string and no key material; every deny line has a reason code', () => {
        // Prepare
        const lines = logs
          .lines()
          .flatMap((chunk) => chunk.split('\n'))
          .filter((line) => line.trim() !== '')
        const secrets = new Set<string>()
        for (const token of presented) {
          if (token.length >= 16) secrets.add(token)
          for (const segment of token.split('.')) if (segment.length >= 16) secrets.add(segment)
        }
        if (keys !== undefined) {
          const pems = isHmac(keys.algorithm) ? [] : [keys.secret, publicPemOf(keys.secret)]
          if (isHmac(keys.algorithm)) secrets.add(keys.secret)
          for (const pem of pems) for (const body of pem.split('\n')) if (body.length >= 32 && !body.startsWith('-----')) secrets.add(body)
        }
        const projectLines: Record<string, unknown>[] = []
        for (const line of lines) {
          let parsed: unknown
          try {
            parsed = JSON.parse(line)
          } catch {
            parsed = undefined
          }
          const isProjectLine = parsed !== null && typeof parsed === 'object' && 'service' in parsed && 'level' in parsed
          if (isProjectLine) projectLines.push(parsed as Record<string, unknown>)
          else if (logs.format === 'json-lines') throw new Error(`not a JSON log line: ${line.slice(0, 120)}`)
        }
        const denyLines = projectLines.filter((line) => line.decision === 'deny')

        const leaks = lines.filter((line) => line.includes('-----BEGIN') || [...secrets].some((secret) => line.includes(secret)))
        const tokenShaped = projectLines.map((line) => JSON.stringify(line)).filter((text) => THREE_SEGMENTS.test(text) || ENCODED_JSON.test(text))
        const withoutReason = denyLines.filter((line) => !Object.hasOwn(DENY_REASONS, String(line.reason)))

        // Assess: the logs were really captured (one deny line per denial), and hold nothing secret
        expect(presented.length).toBeGreaterThan(20)
        expect(denyLines.length).toBeGreaterThanOrEqual(logs.format === 'json-lines' ? denied : 1)
        expect(leaks, 'lines with a presented token, a segment of one, or key material').toEqual([])
        expect(tokenShaped, 'log lines with a token-shaped string').toEqual([])
        expect(withoutReason, 'deny lines without a known reason code').toEqual([])
      })
    }
  })
}
