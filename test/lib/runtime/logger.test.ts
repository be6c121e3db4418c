/**
 * The structured logger: secret scrubbing (the second line of defence behind
 * "never pass a token to the logger"), the line format, levels, persistent
 * keys and the swappable sink.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ConfigError } from '../../../src/lib/runtime/errors'
import { Logger, scrubSecrets, setLogSink } from '../../../src/lib/runtime/logger'
import { segmentsOf, signRawJws } from '../../support/jws'
import { hmacSecret, pemKeyPair } from '../../support/keys'

const NOW = 1_700_000_000
const TIMESTAMP = '2023-11-14T22:13:20.000Z'

/** A real compact JWS, as an API key or ID token would be. */
const TOKEN = signRawJws('HS256', hmacSecret('HS256'), { alg: 'HS256', typ: 'JWT' }, { sub: 'auth0|alice', org_id: 'acme', exp: NOW + 60 })
const OTHER_TOKEN = signRawJws('HS256', hmacSecret('HS256'), { alg: 'HS256', typ: 'JWT' }, { sub: 'auth0|bob', org_id: 'globex', exp: NOW + 60 })
/** An unsecured token: empty signature segment. */
const UNSIGNED_TOKEN = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.'
const PRIVATE_PEM = pemKeyPair('ec-p256').privateKey.trim()
const PUBLIC_PEM = pemKeyPair('ec-p256').publicKey.trim()

let lines: string[]
let restoreSink: () => void

beforeEach(() => {
  lines = []
  restoreSink = setLogSink((line) => lines.push(line))
  // Only Date: the timestamp is the one clock the logger reads.
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(NOW * 1000)
})

afterEach(() => {
  restoreSink()
  vi.useRealTimers()
  vi.unstubAllEnvs()
  vi.restoreAllMocks()
})

/** The lines written so far, parsed. */
const logged = (): Array<Record<string, unknown>> => lines.map((line) => JSON.parse(line) as Record<string, unknown>)

/**
 * Run `body` in a fresh Node process, with `logger` a Logger for service
 * "stdout-test" on the default sink (the module bundled with esbuild), and
 * return what it wrote: stdout through a pipe, read from the start or only
 * after `readAfterMs`.
 */
async function runLoggerChild(body: string, options: { readAfterMs?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'logger-child-'))
  try {
    const file = join(dir, 'child.cjs')
    await build({
      stdin: {
        contents: `import { Logger } from './src/lib/runtime/logger'\nconst logger = new Logger({ service: 'stdout-test', level: 'DEBUG' })\n${body}\n`,
        resolveDir: process.cwd(),
        loader: 'ts'
      },
      outfile: file,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      logLevel: 'silent'
    })
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] })
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    child.stdout.pause()
    setTimeout(() => child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk)).resume(), options.readAfterMs ?? 0)
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    if (code !== 0) throw new Error(`logger child exited with ${code}: ${Buffer.concat(stderr).toString()}`)
    return { stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** `value` nested under `depth` objects: `{ k1: { k2: ... value } }`. */
function nestedIn(depth: number, value: unknown): Record<string, unknown> {
  let out: unknown = value
  for (let i = depth; i >= 1; i--) out = { [`k${i}`]: out }
  return out as Record<string, unknown>
}

describe('scrubSecrets: compact tokens', () => {
  it('replaces a token in running text, keeping the text around it', () => {
    expect(scrubSecrets(`refused Bearer ${TOKEN} from 198.51.100.23`)).toBe('refused Bearer [redacted-token] from 198.51.100.23')
  })

  it('replaces every token in the text', () => {
    expect(scrubSecrets(`${TOKEN}, ${OTHER_TOKEN}`)).toBe('[redacted-token], [redacted-token]')
  })

  it('replaces an unsigned token (empty signature segment)', () => {
    expect(scrubSecrets(`token=${UNSIGNED_TOKEN}`)).toBe('token=[redacted-token]')
  })

  it('takes dots after the token with it (the third segment may hold dots)', () => {
    expect(scrubSecrets(`key ${TOKEN}. Next sentence`)).toBe('key [redacted-token] Next sentence')
  })

  it.each([
    ['one segment', 'eyJhbGciOiJIUzI1NiJ9 alone'],
    ['two segments', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0 only'],
    ['eyJ in a word', 'the keyJar is empty']
  ])('leaves text with eyJ but no token shape unchanged: %s', (_name, text) => {
    expect(scrubSecrets(text)).toBe(text)
  })
})

describe('scrubSecrets: PEM blocks', () => {
  it('replaces a whole private key block, keeping the text around it', () => {
    expect(scrubSecrets(`JWT_SECRET=${PRIVATE_PEM} (from SSM)`)).toBe('JWT_SECRET=[redacted-pem] (from SSM)')
  })

  it.each([['PRIVATE KEY'], ['RSA PRIVATE KEY'], ['EC PRIVATE KEY'], ['ENCRYPTED PRIVATE KEY'], ['PUBLIC KEY'], ['CERTIFICATE']])(
    'replaces a %s block',
    (label) => {
      expect(scrubSecrets(`a -----BEGIN ${label}-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASC\n-----END ${label}----- b`)).toBe('a [redacted-pem] b')
    }
  )

  it('replaces an unterminated block through to the end of the text', () => {
    const truncated = PRIVATE_PEM.slice(0, 80)
    expect(scrubSecrets(`key: ${truncated}\nsecond line\nthird line`)).toBe('key: [redacted-pem]')
  })

  it('replaces two blocks separately, keeping the text between them', () => {
    expect(scrubSecrets(`private ${PRIVATE_PEM} public ${PUBLIC_PEM} end`)).toBe('private [redacted-pem] public [redacted-pem] end')
  })

  it('replaces a token and a PEM block in the same text', () => {
    expect(scrubSecrets(`${TOKEN} signed by ${PRIVATE_PEM}`)).toBe('[redacted-token] signed by [redacted-pem]')
  })
})

describe('scrubSecrets: text with neither', () => {
  it.each([
    [''],
    ['plain text'],
    ['a.b.c'],
    ['EYJ.uppercase.marker'],
    ['-----END PRIVATE KEY-----'],
    ['BEGIN PRIVATE KEY'],
    ['----BEGIN PRIVATE KEY----'],
    ['multi\nline\ttext with ünïcödé ✓']
  ])('returns %j unchanged', (text) => {
    expect(scrubSecrets(text)).toBe(text)
  })

  it('takes the fast path (no pattern replace at all) when neither marker is in the text', () => {
    const replace = vi.spyOn(String.prototype, 'replace')
    const fast = scrubSecrets('Invalid configuration: JWT_SECRET must be at least 32 bytes long for HS256')
    const fastCalls = replace.mock.calls.length
    const slow = scrubSecrets(`token ${TOKEN}`)
    const slowCalls = replace.mock.calls.length - fastCalls
    replace.mockRestore()

    expect(fast).toBe('Invalid configuration: JWT_SECRET must be at least 32 bytes long for HS256')
    expect(fastCalls).toBe(0)
    expect(slow).toBe('token [redacted-token]')
    expect(slowCalls).toBeGreaterThan(0)
  })

  it('returns any text without "eyJ" or "-----BEGIN" unchanged', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 200 }).filter((s) => !s.includes('eyJ') && !s.includes('-----BEGIN')),
        (text) => scrubSecrets(text) === text
      ),
      { numRuns: 300, seed: 20_251_201 }
    )
  })

  it('never lets a token through, whatever text surrounds it', () => {
    const [, payload, signature] = segmentsOf(TOKEN)
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (before, after) => {
        const scrubbed = scrubSecrets(`${before}${TOKEN}${after}`)
        return !scrubbed.includes(payload) && !scrubbed.includes(signature)
      }),
      { numRuns: 300, seed: 20_251_201 }
    )
  })
})

describe('Logger: the line', () => {
  it('is one JSON object: level, message, timestamp, service, persistent keys, then the extra keys', () => {
    const logger = new Logger({ service: 'authorizer', level: 'INFO', keys: { requestId: 'r-1' } })

    logger.info('allow', { orgId: 'acme', cached: true, ttl: 30, missing: null })

    expect(lines).toEqual([
      `{"level":"INFO","message":"allow","timestamp":"${TIMESTAMP}","service":"authorizer","requestId":"r-1","orgId":"acme","cached":true,"ttl":30,"missing":null}`
    ])
  })

  it('writes one line per call, with the level of the method', () => {
    const logger = new Logger({ service: 's', level: 'DEBUG' })

    logger.debug('d')
    logger.info('i')
    logger.warn('w')
    logger.error('e')

    expect(logged().map(({ level, message }) => [level, message])).toEqual([
      ['DEBUG', 'd'],
      ['INFO', 'i'],
      ['WARN', 'w'],
      ['ERROR', 'e']
    ])
  })

  it('scrubs the message', () => {
    new Logger({ service: 's' }).warn(`refused ${TOKEN}`)
    expect(logged()[0]?.message).toBe('refused [redacted-token]')
  })

  it('scrubs strings in nested objects and arrays, and leaves other values alone', () => {
    const logger = new Logger({ service: 's' })

    logger.info('m', { header: `Bearer ${TOKEN}`, nested: { list: [TOKEN, { pem: PRIVATE_PEM, n: 7 }], ok: false }, none: null })

    expect(logged()[0]).toEqual({
      level: 'INFO',
      message: 'm',
      timestamp: TIMESTAMP,
      service: 's',
      header: 'Bearer [redacted-token]',
      nested: { list: ['[redacted-token]', { pem: '[redacted-pem]', n: 7 }], ok: false },
      none: null
    })
  })

  it('does not change the caller’s objects', () => {
    const extra = { nested: { token: TOKEN } }
    new Logger({ service: 's' }).info('m', extra)
    expect(extra).toEqual({ nested: { token: TOKEN } })
  })
})

describe('Logger: depth limit', () => {
  it('scrubs a string five levels down (four objects or arrays under the extra keys)', () => {
    const logger = new Logger({ service: 's' })

    logger.info('m', nestedIn(5, TOKEN))
    logger.info('m', { list: [[[[TOKEN]]]] })

    expect(logged()[0]).toMatchObject(nestedIn(5, '[redacted-token]'))
    expect(logged()[1]).toMatchObject({ list: [[[['[redacted-token]']]]] })
    expect(lines.join('\n')).not.toContain(segmentsOf(TOKEN)[2])
  })

  // Below the limit nothing is written as it is: a token nested six levels down, or in a cycle, never reaches the log.
  it('cuts values below the limit to a marker, so no string there escapes scrubbing', () => {
    const logger = new Logger({ service: 's' })
    const cyclic: Record<string, unknown> = { name: 'loop' }
    cyclic.self = cyclic

    logger.info('m', nestedIn(6, TOKEN))
    logger.info('m', { list: [[[[[TOKEN]]]]] })
    logger.info('m', { cyclic })

    expect(JSON.stringify(logged())).not.toContain(TOKEN)
    expect(logged()[0]).toMatchObject(nestedIn(5, '[nested too deep]'))
    expect(logged()[1]).toMatchObject({ list: [[[['[nested too deep]']]]] })
    expect(logged()[2]).toMatchObject({ cyclic: { name: 'loop', self: { name: 'loop' } } })
  })
})

describe('Logger: errors', () => {
  it('writes an Error as name, message (scrubbed) and code, never its stack', () => {
    const error = Object.assign(new TypeError(`could not parse ${TOKEN}`), { code: 'ERR_PARSE', secret: 'kept-out' })

    new Logger({ service: 's' }).error('failed', { error })

    expect(logged()[0]?.error).toStrictEqual({ name: 'TypeError', message: 'could not parse [redacted-token]', code: 'ERR_PARSE' })
  })

  it("writes the project's errors with their code", () => {
    new Logger({ service: 's' }).error('failed', { error: new ConfigError('JWT_SECRET', 'at least 32 bytes long for HS256') })

    expect(logged()[0]?.error).toStrictEqual({
      name: 'ConfigError',
      message: 'Invalid configuration: JWT_SECRET must be at least 32 bytes long for HS256',
      code: 'ERR_CONFIG'
    })
  })

  it('follows the cause chain two causes deep, scrubbing each message', () => {
    const root = new Error(`root ${TOKEN}`)
    const third = new Error('third', { cause: root })
    const second = new Error(`second ${PRIVATE_PEM}`, { cause: third })
    const top = Object.assign(new Error('top', { cause: second }), { code: 'ERR_TOP' })

    new Logger({ service: 's' }).error('failed', { error: top })

    expect(logged()[0]?.error).toStrictEqual({
      name: 'Error',
      message: 'top',
      code: 'ERR_TOP',
      cause: { name: 'Error', message: 'second [redacted-pem]', cause: { name: 'Error', message: 'third' } }
    })
    expect(lines[0]).not.toContain('root')
  })

  it('counts the depth of the error itself: one level down, one cause is kept', () => {
    const error = new Error('top', { cause: new Error('first', { cause: new Error('second') }) })

    new Logger({ service: 's' }).error('failed', { context: { error } })

    expect(logged()[0]?.context).toStrictEqual({ error: { name: 'Error', message: 'top', cause: { name: 'Error', message: 'first' } } })
  })

  it('scrubs a cause that is not an Error', () => {
    const logger = new Logger({ service: 's' })

    logger.error('failed', { error: new Error('string cause', { cause: `token ${TOKEN}` }) })
    logger.error('failed', { error: new Error('object cause', { cause: { header: TOKEN, status: 401 } }) })

    expect(logged().map((line) => line.error)).toStrictEqual([
      { name: 'Error', message: 'string cause', cause: 'token [redacted-token]' },
      { name: 'Error', message: 'object cause', cause: { header: '[redacted-token]', status: 401 } }
    ])
  })
})

describe('Logger: levels', () => {
  const writeAll = (logger: Logger): string[] => {
    logger.debug('d')
    logger.info('i')
    logger.warn('w')
    logger.error('e')
    return logged().map((line) => String(line.level))
  }

  it.each([
    ['DEBUG', ['DEBUG', 'INFO', 'WARN', 'ERROR']],
    ['INFO', ['INFO', 'WARN', 'ERROR']],
    ['WARN', ['WARN', 'ERROR']],
    ['ERROR', ['ERROR']],
    ['debug', ['DEBUG', 'INFO', 'WARN', 'ERROR']],
    ['Warn', ['WARN', 'ERROR']],
    ['VERBOSE', ['INFO', 'WARN', 'ERROR']],
    ['', ['INFO', 'WARN', 'ERROR']]
  ])('level %j writes %j', (level, written) => {
    expect(writeAll(new Logger({ service: 's', level }))).toEqual(written)
  })

  it('reads LOG_LEVEL when no level is given, at construction', () => {
    vi.stubEnv('LOG_LEVEL', 'error')
    const logger = new Logger({ service: 's' })
    vi.stubEnv('LOG_LEVEL', 'DEBUG')

    expect(writeAll(logger)).toEqual(['ERROR'])
  })

  it('prefers the level option to LOG_LEVEL', () => {
    vi.stubEnv('LOG_LEVEL', 'ERROR')
    expect(writeAll(new Logger({ service: 's', level: 'WARN' }))).toEqual(['WARN', 'ERROR'])
  })

  it('defaults to INFO without either', () => {
    vi.stubEnv('LOG_LEVEL', undefined)
    expect(writeAll(new Logger({ service: 's' }))).toEqual(['INFO', 'WARN', 'ERROR'])
  })
})

describe('Logger: persistent keys', () => {
  it('adds the constructor keys to every line', () => {
    const logger = new Logger({ service: 's', keys: { coldStart: true } })

    logger.info('a')
    logger.warn('b')

    expect(logged().map((line) => line.coldStart)).toEqual([true, true])
  })

  it('setPersistentKeys replaces the keys for the lines that follow', () => {
    const logger = new Logger({ service: 's', keys: { coldStart: true } })

    logger.info('before')
    logger.setPersistentKeys({ requestId: 'r-2' })
    logger.info('after')

    expect(logged()[0]).toMatchObject({ coldStart: true })
    expect(logged()[0]).not.toHaveProperty('requestId')
    expect(logged()[1]).toMatchObject({ requestId: 'r-2' })
    expect(logged()[1]).not.toHaveProperty('coldStart')
  })

  it('scrubs the keys, and copies them: later changes to the object do not show', () => {
    const keys: Record<string, unknown> = { auth: `Bearer ${TOKEN}`, nested: { id: 'a' } }
    const logger = new Logger({ service: 's' })

    logger.setPersistentKeys(keys)
    keys.auth = 'changed'
    ;(keys.nested as Record<string, unknown>).id = 'changed'
    logger.info('m')

    expect(logged()[0]).toMatchObject({ auth: 'Bearer [redacted-token]', nested: { id: 'a' } })
  })

  it('lets an extra key of the same name win for that line only', () => {
    const logger = new Logger({ service: 's', keys: { requestId: 'r-1' } })

    logger.info('a', { requestId: 'r-override' })
    logger.info('b')

    expect(logged().map((line) => line.requestId)).toEqual(['r-override', 'r-1'])
  })
})

describe('setLogSink', () => {
  it('sends lines to the newest sink, and each restore brings back the one before it', () => {
    const logger = new Logger({ service: 's' })
    const first: string[] = []
    const second: string[] = []

    const restoreFirst = setLogSink((line) => first.push(line))
    const restoreSecond = setLogSink((line) => second.push(line))
    logger.info('to second')
    restoreSecond()
    logger.info('to first')
    restoreFirst()
    logger.info('to the test sink')

    expect(second.map((line) => JSON.parse(line).message)).toEqual(['to second'])
    expect(first.map((line) => JSON.parse(line).message)).toEqual(['to first'])
    expect(logged().map((line) => line.message)).toEqual(['to the test sink'])
  })

  it('writes to stdout, one line each, once every sink is restored', async () => {
    // The default sink writes to fd 1 itself: watch it from outside, in a process of its own.
    const { stdout } = await runLoggerChild("logger.info('hello'); logger.warn('again', { n: 1 })")

    expect(stdout.endsWith('\n')).toBe(true)
    expect(
      stdout
        .split('\n')
        .slice(0, -1)
        .map((line) => JSON.parse(line) as Record<string, unknown>)
    ).toEqual([
      { level: 'INFO', message: 'hello', timestamp: expect.any(String), service: 'stdout-test' },
      { level: 'WARN', message: 'again', timestamp: expect.any(String), service: 'stdout-test', n: 1 }
    ])
    expect(lines).toEqual([])
  })

  it('hands every line to process.stdout, whole and in order, once fd 1 is a full non-blocking pipe', async () => {
    // process.stdout makes the pipe non-blocking; the parent reads nothing for a while, so the pipe fills and write() says EAGAIN.
    const count = 3000
    const { stdout, stderr } = await runLoggerChild(
      `process.stdout; for (let i = 0; i < ${count}; i++) logger.info('line', { i, pad: 'x'.repeat(400) }); process.stderr.write('queued ' + process.stdout.writableLength)`,
      { readAfterMs: 300 }
    )

    const written = stdout
      .split('\n')
      .slice(0, -1)
      .map((line) => (JSON.parse(line) as { i: number }).i)
    expect(written).toEqual(Array.from({ length: count }, (_, i) => i))
    // The fallback was taken: lines were still queued in the stream when the loop ended.
    expect(Number(/queued (\d+)/.exec(stderr)?.[1])).toBeGreaterThan(0)
  })
})

/**
 * The line is written member by member when it can be (the authorizer writes
 * one per deny); it must be the very text JSON.stringify gives for the
 * documented object: level, message, timestamp, service, the persistent keys,
 * then the extra keys, strings scrubbed at any depth.
 */
describe('Logger: the line is the same text, however it is built', () => {
  /** scrubValue's rules for plain data: strings scrubbed, objects and arrays copied (a `__proto__` key is assigned, as it does). */
  const scrubbedCopy = (value: unknown): unknown => {
    if (typeof value === 'string') return scrubSecrets(value)
    if (Array.isArray(value)) return value.map(scrubbedCopy)
    if (value === null || typeof value !== 'object') return value
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) out[key] = scrubbedCopy((value as Record<string, unknown>)[key])
    return out
  }
  const reference = (level: string, message: string, keys: Record<string, unknown>, extra: Record<string, unknown> | undefined): string =>
    JSON.stringify({
      level,
      message: scrubSecrets(message),
      timestamp: TIMESTAMP,
      service: 'svc',
      ...(scrubbedCopy(keys) as object),
      ...(extra === undefined ? {} : (scrubbedCopy(extra) as object))
    })

  // Names that clash with the line's own keys or each other, array indexes, __proto__, and plain names.
  const keyName = fc.oneof(
    fc.constantFrom('level', 'message', 'timestamp', 'service', '__proto__', 'constructor', '0', '7', '12x', '', 'requestId', 'decision', 'keyId'),
    fc.string({ maxLength: 6 })
  )
  const text = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(TOKEN, `Bearer ${TOKEN}`, PRIVATE_PEM, 'quote " back \\ newline \n \u2028'))
  const primitive = fc.oneof(text, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined))
  const value = fc.oneof(primitive, fc.array(primitive, { maxLength: 3 }), fc.dictionary(keyName, primitive, { maxKeys: 3 }))
  const record = fc.dictionary(keyName, value, { maxKeys: 5 })

  it('matches JSON.stringify of the documented object, for any keys and values', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('info', 'warn', 'error') as fc.Arbitrary<'info' | 'warn' | 'error'>,
        text,
        record,
        fc.option(record, { nil: undefined }),
        (method, message, keys, extra) => {
          lines.length = 0
          const logger = new Logger({ service: 'svc', level: 'INFO' })
          logger.setPersistentKeys(keys)
          logger[method](message, extra)
          expect(lines).toEqual([reference(method.toUpperCase(), message, keys, extra)])
        }
      ),
      { numRuns: 500 }
    )
  })

  it.each([
    [
      'a line key, which keeps its place',
      { level: 'overridden' },
      `{"level":"overridden","message":"m","timestamp":"${TIMESTAMP}","service":"svc","requestId":"r-1"}`
    ],
    [
      'an array index, which goes first',
      { 7: 'seven' },
      `{"7":"seven","level":"INFO","message":"m","timestamp":"${TIMESTAMP}","service":"svc","requestId":"r-1"}`
    ],
    [
      'a persistent key, which keeps its place',
      { requestId: 'r-2', after: true },
      `{"level":"INFO","message":"m","timestamp":"${TIMESTAMP}","service":"svc","requestId":"r-2","after":true}`
    ]
  ])('writes an extra key that names %s exactly as JSON.stringify does', (_name, extra, expected) => {
    const logger = new Logger({ service: 'svc', keys: { requestId: 'r-1' } })
    logger.info('m', extra)
    expect(lines).toEqual([expected])
  })

  it('writes an Error passed as the extra object by scrubValue’s rules', () => {
    const logger = new Logger({ service: 'svc' })
    logger.info('m', new ConfigError('JWT_SECRET', 'set') as unknown as Record<string, unknown>)
    expect(logged()[0]).toMatchObject({ name: 'ConfigError', code: 'ERR_CONFIG' })
  })

  it('stamps every line with new Date().toISOString(), across minutes, hours, years and back in time', () => {
    const instant = fc.oneof(
      fc.integer({ min: -62_198_755_200_000, max: 253_402_300_799_999 }),
      fc.integer({ min: -8.64e15, max: 8.64e15 }),
      fc.integer({ min: 0, max: 2_000_000 }).map((offset) => 1_700_000_000_000 - 1_000_000 + offset),
      fc.constantFrom(
        0,
        -1,
        -0.5,
        59_999,
        60_000,
        951_782_400_000,
        253_402_300_800_000,
        -62_198_755_200_001,
        -62_167_219_200_000,
        1_700_000_059_999.5,
        8.64e15,
        -8.64e15
      )
    )
    fc.assert(
      fc.property(fc.array(instant, { minLength: 1, maxLength: 8 }), (instants) => {
        const logger = new Logger({ service: 'svc' })
        for (const ms of instants) {
          lines.length = 0
          vi.setSystemTime(ms)
          logger.info('m')
          expect(logged()[0]?.timestamp).toBe(new Date(ms).toISOString())
        }
      }),
      { numRuns: 300 }
    )
  })
})
