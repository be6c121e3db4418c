import { describe, expect, it } from 'vitest'
import { parseCreateKeyRequest } from '../../../src/lib/portal/create-key-request'
import { HttpError } from '../../../src/lib/runtime/errors'
import { httpApiEvent } from '../../support/events'

const EMPTY = { name: undefined, email: undefined, expiresInSeconds: undefined }

function post(body: string | undefined, isBase64Encoded = false): ReturnType<typeof httpApiEvent> {
  return httpApiEvent({ method: 'POST', path: '/create-key', headers: { 'content-type': 'application/json' }, body, isBase64Encoded })
}

function expectHttpError(act: () => unknown, statusCode: number, code: string): void {
  let caught: unknown
  try {
    act()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(HttpError)
  expect(caught).toMatchObject({ statusCode, code, expose: true })
}

describe('parseCreateKeyRequest: accepts', () => {
  it('a full body', () => {
    const request = parseCreateKeyRequest(post(JSON.stringify({ name: ' ci key ', email: 'ci@acme.test', expiresIn: '7d' })))
    expect(request).toEqual({ name: 'ci key', email: 'ci@acme.test', expiresInSeconds: 604_800 })
  })

  it.each([
    ['no body', undefined],
    ['an empty body', ''],
    ['a blank body', '  \n'],
    ['an empty object', '{}'],
    ['null fields', '{"name":null,"email":null,"expiresIn":null}'],
    ['blank strings', '{"name":"  ","email":""}']
  ])('%s as "nothing requested"', (_name, body) => {
    expect(parseCreateKeyRequest(post(body))).toEqual(EMPTY)
  })

  it('a body with null (not undefined) from the event', () => {
    expect(parseCreateKeyRequest({ body: null as unknown as undefined, isBase64Encoded: false })).toEqual(EMPTY)
  })

  it('a base64-encoded body', () => {
    const body = Buffer.from(JSON.stringify({ name: 'mobile', expiresIn: 3600 })).toString('base64')
    expect(parseCreateKeyRequest(post(body, true))).toEqual({ name: 'mobile', email: undefined, expiresInSeconds: 3600 })
  })

  it.each([
    [3600, 3600],
    ['3600', 3600],
    ['12h', 43_200],
    ['15m', 900],
    [1, 1]
  ])('expiresIn %j as %i seconds', (expiresIn, expected) => {
    expect(parseCreateKeyRequest(post(JSON.stringify({ expiresIn }))).expiresInSeconds).toBe(expected)
  })

  it('a body of exactly 4096 bytes', () => {
    const filler = 'x'.repeat(4096 - JSON.stringify({ name: '' }).length)
    const body = JSON.stringify({ name: filler.slice(0, 100), email: '' }).padEnd(4096, ' ')
    expect(Buffer.byteLength(body)).toBe(4096)
    expect(parseCreateKeyRequest(post(body)).name).toBe(filler.slice(0, 100))
  })
})

describe('parseCreateKeyRequest: refuses', () => {
  it.each([
    ['not JSON', 'name=ci'],
    ['truncated JSON', '{"name":"ci"'],
    ['a JSON array', '[{"name":"ci"}]'],
    ['a JSON string', '"ci"'],
    ['JSON null', 'null'],
    ['a JSON number', '42'],
    ['an unknown field', '{"name":"ci","scope":"admin"}'],
    ['an identity field (identity only comes from the portal token)', '{"org_id":"globex"}'],
    ['a sub field', '{"sub":"auth0|mallory"}'],
    ['a __proto__ field', '{"__proto__":{"name":"x"}}'],
    ['a non-string name', '{"name":42}'],
    ['an object name', '{"name":{"first":"ci"}}'],
    ['a name over 100 characters', JSON.stringify({ name: 'n'.repeat(101) })],
    ['a name with a control character', JSON.stringify({ name: 'ci\nkey' })],
    ['a non-string email', '{"email":true}'],
    ['an email over 320 characters', JSON.stringify({ email: `${'e'.repeat(320)}@x` })],
    ['expiresIn "soon"', '{"expiresIn":"soon"}'],
    ['expiresIn 0', '{"expiresIn":0}'],
    ['expiresIn "0"', '{"expiresIn":"0"}'],
    ['a negative expiresIn', '{"expiresIn":-60}'],
    ['a fractional expiresIn', '{"expiresIn":1.5}'],
    ['a boolean expiresIn', '{"expiresIn":true}'],
    ['an array expiresIn', '{"expiresIn":[60]}']
  ])('%s with 400 ERR_BAD_BODY', (_name, body) => {
    expectHttpError(() => parseCreateKeyRequest(post(body)), 400, 'ERR_BAD_BODY')
  })

  it('base64 that does not decode to JSON, with 400', () => {
    expectHttpError(() => parseCreateKeyRequest(post(Buffer.from('not json').toString('base64'), true)), 400, 'ERR_BAD_BODY')
  })

  it('a body over 4 KB with 413 ERR_BODY_TOO_LARGE', () => {
    const body = JSON.stringify({ name: 'ci' }).padEnd(4097, ' ')
    expectHttpError(() => parseCreateKeyRequest(post(body)), 413, 'ERR_BODY_TOO_LARGE')
  })

  it('counts bytes, not characters, against the 4 KB limit', () => {
    // 2049 two-byte characters: 2049 characters but 4098 bytes.
    const body = 'é'.repeat(2049)
    expectHttpError(() => parseCreateKeyRequest(post(body)), 413, 'ERR_BODY_TOO_LARGE')
  })

  it('a base64 body over 4 KB once decoded with 413', () => {
    const body = Buffer.from(' '.repeat(5000)).toString('base64')
    expectHttpError(() => parseCreateKeyRequest(post(body, true)), 413, 'ERR_BODY_TOO_LARGE')
  })
})
