/**
 * Property-based fuzzing of the two deployed handlers that take untrusted
 * input, bounded so the whole file stays within a few seconds of `npm test`:
 * every property has a fixed seed (override with FUZZ_SEED to explore), a
 * run count and a time budget after which it stops, reporting success for the
 * runs it made.
 *
 * - The authorizer never throws and never allows a token that is not
 *   byte-identical to one we signed, whatever the token, the Authorization
 *   header's shape or the event type.
 * - POST /create-key never answers anything but 201, 400, 401 or 413, and
 *   issues a key only for the valid portal login.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { loadApiKeyConfig } from '../../src/lib/keys/api-key-config'
import type { AuthorizerEvent, AuthorizerResult } from '../../src/lib/authorizer/authorizer-event'
import { headerValue } from '../../src/lib/http/bearer-token'
import { issueApiKey } from '../../src/lib/keys/issue-api-key'
import { verifyApiKey } from '../../src/lib/keys/verify-api-key'
import { coldStartAuthorizer, coldStartCreateKey, type DeployedHandler } from '../support/deployed-handlers'
import { startKeyDatabase, type KeyDatabase } from '../support/dynalite'
import { authorizerEvent, httpApiEvent } from '../support/events'
import { startTestIdentityProvider, type TestIdentityProvider } from '../support/identity-provider'
import { b64url, segmentsOf } from '../support/jws'
import { envFor, publicPemFor, type EnvRecord } from '../support/keys'
import { policyEffect, requestAuthorizerEvent, stageResource, tokenAuthorizerEvent } from '../support/rest-api-events'

const SEED = Number(process.env.FUZZ_SEED ?? 20_251_128)
/**
 * Per property: a run count, and a time budget after which fast-check stops and reports the runs
 * made, so three properties stay under ~10 s even on a busy 2-core machine (about 3 s when idle).
 */
const BUDGET = { interruptAfterTimeLimit: 3000, markInterruptAsFailure: false } as const
const OWNER = { userId: 'auth0|alice', companyId: 'acme' } as const

const parameters = (numRuns: number) => ({ ...BUDGET, numRuns, seed: SEED })

// ---------------------------------------------------------------------------
// The authorizer
// ---------------------------------------------------------------------------

const HS256_ENV: EnvRecord = envFor('HS256')
const RS256_SIGN_ENV: EnvRecord = envFor('RS256', { JWT_KID: 'k-1' })
const RS256_VERIFY_ENV: EnvRecord = { JWT_ALGORITHM: 'RS256', JWT_KID: 'k-1', JWT_VERIFY_KEY: publicPemFor('RS256') }

interface FuzzedAuthorizer {
  readonly name: string
  readonly handler: DeployedHandler<AuthorizerEvent, AuthorizerResult>
  /** Tokens we signed for this deployment, with their key ids. */
  readonly signed: ReadonlyMap<string, string>
  readonly lines: string[]
}

const authorizers: FuzzedAuthorizer[] = []

beforeAll(async () => {
  const now = Math.floor(Date.now() / 1000)
  for (const [name, signEnv, verifyEnv] of [
    ['HS256', HS256_ENV, HS256_ENV],
    ['RS256', RS256_SIGN_ENV, RS256_VERIFY_ENV]
  ] as const) {
    const config = loadApiKeyConfig(signEnv, 'sign')
    const signed = new Map<string, string>()
    for (const lifetime of [3600, 7200, 86_400]) {
      const issued = await issueApiKey(config, OWNER, { nowSeconds: now, lifetimeSeconds: lifetime })
      signed.set(issued.apikey, issued.keyId)
    }
    const lines: string[] = []
    authorizers.push({ name, handler: await coldStartAuthorizer(verifyEnv, lines), signed, lines })
  }
})

afterAll(() => {
  for (const { handler } of authorizers) handler.restoreLogSink()
  vi.unstubAllEnvs()
})

type EventKind = 'http-api' | 'rest-token' | 'rest-request'

/** Authorization header values as an event carries them: `undefined` is "no header". */
type HeaderSet = ReadonlyArray<readonly [name: string, value: string]>

function eventFor(kind: EventKind, headers: HeaderSet): AuthorizerEvent {
  const record = Object.fromEntries(headers)
  if (kind === 'rest-token') return tokenAuthorizerEvent(headers[0]?.[1] ?? '')
  if (kind === 'rest-request') return requestAuthorizerEvent({ headers: record })
  return authorizerEvent({ headers: record })
}

/** true for an allow, false for a deny, and a thrown error for any other answer. */
function allowed(kind: EventKind, result: AuthorizerResult): boolean {
  if (kind !== 'http-api') return policyEffect(result, stageResource()) === 'Allow'
  if ('isAuthorized' in result && result.isAuthorized === true) return true
  if (JSON.stringify(result) === '{"isAuthorized":false}') return false
  throw new Error(`not a simple authorizer answer: ${JSON.stringify(result)}`)
}

/** The key id the allow answer names. */
function contextKeyId(result: AuthorizerResult): unknown {
  return 'context' in result && result.context != null ? result.context.keyId : undefined
}

/**
 * Whether `value` is one of our signed tokens, exactly, with nothing around it
 * but whitespace and an optional "Bearer" scheme. Written independently of
 * src's parser: it only has to be true whenever the authorizer allows.
 */
function holdsSignedToken(value: string, signed: ReadonlyMap<string, string>): string | undefined {
  for (const token of signed.keys()) {
    if (!value.includes(token)) continue
    const rest = value.replace(token, '').trim().toLowerCase()
    if (rest === '' || rest === 'bearer') return token
  }
  return undefined
}

// ---- arbitraries: tokens ----

const B64URL_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const b64urlish = fc.string({ unit: fc.constantFrom(...`${B64URL_CHARS}=+/.`), maxLength: 120 })
const jsonSegment = fc.jsonValue({ maxDepth: 3 }).map((value) => b64url(JSON.stringify(value) ?? 'null'))
const segment = fc.oneof(b64urlish, jsonSegment)

const algValue = fc.oneof(
  fc.constantFrom(
    'none',
    'None',
    'NONE',
    'nOnE',
    '',
    'HS256',
    'HS384',
    'HS512',
    'RS256',
    'RS384',
    'RS512',
    'PS256',
    'PS512',
    'ES256',
    'ES384',
    'ES512',
    'EdDSA',
    'hs256',
    'RS256 '
  ),
  fc.constantFrom(null, 256, true, ['RS256'], { alg: 'RS256' }),
  fc.string({ maxLength: 12 })
)

/** A signed token from the pool, plus indexes to pick others. */
const fromPool = (pool: readonly string[]) => fc.constantFrom(...pool)

function flipBit(segmentText: string, bit: number): string {
  const bytes = Buffer.from(segmentText, 'base64url')
  if (bytes.length === 0) return 'A'
  const index = bit % (bytes.length * 8)
  bytes[index >> 3] = (bytes[index >> 3] ?? 0) ^ (1 << (index & 7))
  return bytes.toString('base64url')
}

const decodeObject = (segmentText: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(segmentText, 'base64url').toString('utf8')) as Record<string, unknown>

/** Valid tokens, then changed: every change must turn them into denials. */
function mutatedToken(pool: readonly string[]) {
  return fc.oneof(
    // A bit flip in any segment (re-encoded canonically).
    fc.tuple(fromPool(pool), fc.integer({ min: 0, max: 2 }), fc.nat()).map(([token, which, bit]) => {
      const parts = segmentsOf(token)
      parts[which] = flipBit(parts[which] ?? '', bit)
      return parts.join('.')
    }),
    // A character replaced in any segment, the signature's last (partly unused) character included.
    fc.tuple(fromPool(pool), fc.integer({ min: 0, max: 2 }), fc.nat(), fc.constantFrom(...B64URL_CHARS)).map(([token, which, at, char]) => {
      const parts = segmentsOf(token)
      const text = parts[which] ?? ''
      const index = at % text.length
      parts[which] = `${text.slice(0, index)}${char}${text.slice(index + 1)}`
      return parts.join('.')
    }),
    // A random header object, or the original header with a random alg, and the original signature.
    fc
      .tuple(
        fromPool(pool),
        fc.oneof(
          fc.object({ maxDepth: 2 }),
          algValue.map((alg) => ({ alg }))
        )
      )
      .map(([token, header]) => {
        const [original, payload, signature] = segmentsOf(token)
        const merged = 'alg' in header && Object.keys(header).length === 1 ? { ...decodeObject(original), ...header } : header
        return `${b64url(JSON.stringify(merged))}.${payload}.${signature}`
      }),
    // A random payload object, or the original claims with random overrides, and the original signature.
    fc
      .tuple(
        fromPool(pool),
        fc.dictionary(fc.constantFrom('org_id', 'sub', 'exp', 'iat', 'nbf', 'jti', 'iss', 'aud', '__proto__', 'x'), fc.jsonValue({ maxDepth: 2 })),
        fc.boolean()
      )
      .map(([token, overrides, keepClaims]) => {
        const [header, payload, signature] = segmentsOf(token)
        const claims = keepClaims ? { ...decodeObject(payload), ...overrides } : overrides
        return `${header}.${b64url(JSON.stringify(claims))}.${signature}`
      }),
    // Segments spliced from different signed tokens.
    fc.tuple(fromPool(pool), fromPool(pool), fromPool(pool)).map(([a, b, c]) => [segmentsOf(a)[0], segmentsOf(b)[1], segmentsOf(c)[2]].join('.')),
    // Segments dropped, repeated or emptied.
    fc.tuple(fromPool(pool), fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 5 })).map(([token, picks]) => {
      const parts = segmentsOf(token)
      return picks.map((i) => parts[i]).join('.')
    })
  )
}

/** Any token: arbitrary strings, base64url-ish segments, and signed tokens (changed or not). */
function anyToken(pool: readonly string[]) {
  return fc.oneof(
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
    { weight: 2, arbitrary: fc.tuple(segment, segment, segment).map((parts) => parts.join('.')) },
    { weight: 1, arbitrary: fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('.')) },
    { weight: 6, arbitrary: mutatedToken(pool) },
    { weight: 1, arbitrary: fromPool(pool) }
  )
}

/** Authorization header values around a token. */
function authorizationValue(pool: readonly string[]) {
  const shapes: ReadonlyArray<(token: string) => string> = [
    (t) => `Bearer ${t}`,
    (t) => t,
    (t) => `bearer ${t}`,
    (t) => `  Bearer \t ${t} \t `,
    (t) => `Bearer\n${t}`,
    (t) => `Basic ${t}`,
    (t) => `Token ${t}`,
    (t) => `Bearer ${t} ${t}`,
    (t) => `Bearer ${t},Bearer ${t}`,
    (t) => `Bearer "${t}"`,
    (t) => `${t}\u0000`
  ]
  return fc.oneof(
    { weight: 8, arbitrary: fc.tuple(anyToken(pool), fc.constantFrom(...shapes)).map(([token, shape]) => shape(token)) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '\t', 'Bearer', 'Bearer ', 'bearer\t', 'Basic dXNlcjpwYXNz', 'Bearer  ', 'null', 'undefined') },
    { weight: 1, arbitrary: fc.integer({ min: 8000, max: 200_000 }).map((n) => `Bearer ${'a'.repeat(n)}`) },
    { weight: 1, arbitrary: fc.tuple(fromPool(pool), fc.integer({ min: 1, max: 20_000 })).map(([t, n]) => `Bearer ${t}${' '.repeat(n)}x`) }
  )
}

/** The Authorization headers of a request: none, one in some case, or two that disagree. */
function authorizationHeaders(pool: readonly string[]): fc.Arbitrary<HeaderSet> {
  const name = fc.constantFrom('authorization', 'Authorization', 'AUTHORIZATION', 'aUtHoRiZaTiOn')
  return fc.oneof(
    fc.constant([]),
    fc.tuple(name, authorizationValue(pool)).map((pair) => [pair]),
    fc.tuple(authorizationValue(pool), authorizationValue(pool)).map(([a, b]) => [['authorization', a] as const, ['Authorization', b] as const])
  )
}

describe('fuzz: the deployed authorizer', () => {
  it('never throws, and allows only tokens byte-identical to ones we signed (HS256 and RS256; HTTP API, REST TOKEN and REQUEST events)', async () => {
    // Prepare
    const pool = authorizers.flatMap(({ signed }) => [...signed.keys()])
    const kinds = fc.constantFrom<EventKind>('http-api', 'rest-token', 'rest-request')
    let allows = 0
    let runs = 0
    // Act + Assess
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...authorizers), kinds, authorizationHeaders(pool), async (target, kind, headers) => {
        runs++
        const before = target.lines.length
        const result = await target.handler.invoke(eventFor(kind, headers))
        const values = kind === 'rest-token' ? headers.slice(0, 1).map(([, v]) => v) : headers.map(([, v]) => v)
        if (allowed(kind, result)) {
          allows++
          const token = values.map((value) => holdsSignedToken(value, target.signed)).find((t) => t !== undefined)
          expect(token, `allowed ${JSON.stringify(values).slice(0, 200)}`).toBeDefined()
          expect(contextKeyId(result)).toBe(target.signed.get(token as string))
        }
        for (const line of target.lines.slice(before))
          for (const value of values) if (value.trim().length >= 24) expect(line).not.toContain(value.trim())
      }),
      parameters(2000)
    )
    // The generators reach both answers: a fuzzer that never allows proves little.
    expect(runs).toBeGreaterThan(100)
    expect(allows).toBeGreaterThan(0)
  })

  it('verifies nothing but our signatures: valid tokens changed in any way are denied', async () => {
    const pool = authorizers.flatMap(({ signed }) => [...signed.keys()])
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...authorizers), mutatedToken(pool), async (target, token) => {
        fc.pre(!target.signed.has(token))
        const result = await target.handler.invoke(authorizerEvent({ headers: { authorization: `Bearer ${token}` } }))
        expect(result).toStrictEqual({ isAuthorized: false })
      }),
      parameters(1000)
    )
  })
})

// ---------------------------------------------------------------------------
// POST /create-key
// ---------------------------------------------------------------------------

describe('fuzz: POST /create-key (deployed handler, JWKS and dynalite on loopback)', () => {
  let idp: TestIdentityProvider
  let db: KeyDatabase
  let createKey: DeployedHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>
  const lines: string[] = []
  let idToken: string

  beforeAll(async () => {
    ;[idp, db] = await Promise.all([startTestIdentityProvider(), startKeyDatabase()])
    const tableName = await db.newTable()
    createKey = await coldStartCreateKey(
      {
        ...HS256_ENV,
        ...idp.env,
        KEYS_TABLE: tableName,
        DYNAMODB_ENDPOINT: db.endpoint
      },
      lines
    )
    idToken = await idp.mint({ sub: OWNER.userId, org: OWNER.companyId, email: 'alice@acme.test' })
  })

  afterAll(async () => {
    createKey?.restoreLogSink()
    vi.unstubAllEnvs()
    await idp?.close()
    await db?.close()
  })

  const fieldValue = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 120 }),
    fc.string({ maxLength: 400 }),
    fc.integer(),
    fc.double(),
    fc.constantFrom('7d', '12h', '15m', '0', '-1', '1e3', '999999999999y', ' 7 d ', '7D', '1.5', 'P7D', '\u0000', '\u202e', '\ud800'),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.object({ maxDepth: 1 })
  )

  const body = fc.oneof(
    fc.constant(undefined),
    fc.constant(''),
    fc.json(),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.object().map((value) => JSON.stringify(value)),
    fc.record({ name: fieldValue, email: fieldValue, expiresIn: fieldValue }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
    fc.dictionary(fc.string({ maxLength: 12 }), fieldValue, { maxKeys: 4 }).map((value) => JSON.stringify(value)),
    fc.integer({ min: 3000, max: 12_000 }).map((n) => JSON.stringify({ name: 'x'.repeat(n) })),
    fc.integer({ min: 3000, max: 12_000 }).map((n) => 'a'.repeat(n)),
    fc.constantFrom('{"__proto__":{"name":"x"}}', '{"constructor":{}}', '{"name":"a","name":"b"}', '[]', 'null', '"x"', '1', '{', '\ufeff{}')
  )

  /** The body as sent: plain, base64 of it, or not base64 at all under the base64 flag. */
  const encodedBody = fc
    .tuple(body, fc.constantFrom('plain', 'base64', 'flagged-not-base64'))
    .map(([text, encoding]) =>
      text === undefined || encoding === 'plain'
        ? { body: text, isBase64Encoded: false }
        : { body: encoding === 'base64' ? Buffer.from(text).toString('base64') : text, isBase64Encoded: true }
    )

  const authorization = (token: () => string) =>
    fc.oneof(
      { weight: 6, arbitrary: fc.constant('valid') },
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
      { weight: 1, arbitrary: fc.constantFrom('Bearer', 'Basic dXNlcjpwYXNz', 'Bearer a.b.c', 'Bearer  ', ' ') },
      {
        weight: 1,
        arbitrary: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.nat()).map(([which, bit]) => {
          const parts = segmentsOf(token())
          parts[which] = flipBit(parts[which] ?? '', bit)
          return `Bearer ${parts.join('.')}`
        })
      }
    )

  const extraHeaders = fc.dictionary(
    fc.oneof(
      fc.string({ minLength: 1, maxLength: 30 }),
      fc.constantFrom('content-type', 'Content-Type', 'content-length', 'content-encoding', 'x-forwarded-for', 'origin')
    ),
    fc.string({ maxLength: 100 }),
    { maxKeys: 6 }
  )

  it('answers only 201, 400, 401 or 413, and issues a key only for the valid portal login', async () => {
    // Prepare
    const statuses = new Map<number, number>()
    // Act + Assess
    await fc.assert(
      fc.asyncProperty(
        encodedBody,
        authorization(() => idToken),
        extraHeaders,
        async ({ body: sent, isBase64Encoded }, auth, extra) => {
          const headers: Record<string, string> = { ...extra }
          const value = auth === 'valid' ? `Bearer ${idToken}` : auth
          if (value !== undefined) headers.authorization = value
          const event = httpApiEvent({ method: 'POST', path: '/create-key', headers, body: sent, isBase64Encoded })
          if (sent === undefined) delete event.body

          const response = await createKey.invoke(event)

          statuses.set(response.statusCode ?? 0, (statuses.get(response.statusCode ?? 0) ?? 0) + 1)
          expect([201, 400, 401, 413], `${response.statusCode} ${response.body ?? ''}`).toContain(response.statusCode)
          const answer = JSON.parse(response.body ?? '') as Record<string, unknown>
          expect(response.body).not.toContain(idToken)
          if (response.statusCode === 201) {
            expect(headerValue(event.headers, 'authorization')).toBe(`Bearer ${idToken}`)
            expect(answer).toStrictEqual({ apikey: expect.any(String), keyId: expect.any(String), expiresAt: expect.any(String) })
            expect(verifyApiKey(answer.apikey as string, loadApiKeyConfig(HS256_ENV, 'verify'), Date.now() / 1000).valid).toBe(true)
          } else {
            expect(answer).toStrictEqual({ message: expect.any(String), code: expect.stringMatching(/^ERR_[A-Z_]+$/), requestId: expect.any(String) })
          }
        }
      ),
      parameters(500)
    )
    // The generators reach the interesting answers, not only 401s.
    expect(statuses.get(201) ?? 0).toBeGreaterThan(0)
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0)
    expect(statuses.get(413) ?? 0).toBeGreaterThan(0)
    for (const line of lines) expect(line).not.toContain(idToken)
  })
})
