/**
 * maskMoesifEvent: what Moesif may see of a call, on event data shaped as
 * moesif-aws-lambda builds it.
 */
import type { MoesifEventData } from 'moesif-aws-lambda'
import { describe, expect, it } from 'vitest'
import { maskMoesifEvent } from '../../../src/lib/moesif/masking'

describe('maskMoesifEvent', () => {
  const base64 = (value: string): string => Buffer.from(value).toString('base64')
  const eventData = (requestBody: unknown, transferEncoding?: 'base64'): MoesifEventData => ({
    request: {
      time: 0,
      uri: '/x',
      verb: 'POST',
      headers: { 'Proxy-Authorization': 'Basic abc', accept: '*/*' },
      body: requestBody,
      transferEncoding
    },
    response: { time: 0, status: 200, headers: { 'set-cookie': ['a=1', 'b=2'] }, body: { deep: [{ token: 't' }] } }
  })

  it('masks fields in a base64-encoded JSON body and replaces a non-JSON one by the marker, saying why', () => {
    // Prepare
    const options = { logBody: true, maskFields: ['token'] }

    // Act
    const json = maskMoesifEvent(eventData(base64(JSON.stringify({ token: 't', keep: 1 })), 'base64'), options)
    const text = maskMoesifEvent(eventData(base64('token=t&keep=1'), 'base64'), options)
    const textUnmasked = maskMoesifEvent(eventData(base64('token=t'), 'base64'), { logBody: true, maskFields: [] })

    // Assess
    expect(json.request.body).toEqual({ token: '*****', keep: 1 })
    expect(json.request.transferEncoding).toBeUndefined()
    expect(json.response.body).toEqual({ deep: [{ token: '*****' }] })
    expect(text.request.body).toBe('[body not logged: not JSON, so MOESIF_MASK_FIELDS cannot be applied]')
    expect(text.request.transferEncoding).toBeUndefined()
    expect(text.metadata).toEqual({ body_not_logged: { request: 'not JSON, so MOESIF_MASK_FIELDS cannot be applied' } })
    expect(json.metadata).toBeUndefined()
    expect(textUnmasked.request.body).toBe(base64('token=t'))
    expect(textUnmasked.request.transferEncoding).toBe('base64')
  })

  it('masks credential headers whatever their value type, and never mutates its input', () => {
    // Prepare
    const input = eventData({ token: 't' })
    const snapshot = structuredClone(input)

    // Act
    const masked = maskMoesifEvent(input, { logBody: false, maskFields: ['token'] })

    // Assess
    expect(masked.request.headers).toEqual({ 'Proxy-Authorization': '*****', accept: '*/*' })
    expect(masked.response.headers).toEqual({ 'set-cookie': '*****' })
    expect(masked.request).not.toHaveProperty('body')
    expect(masked.response).not.toHaveProperty('body')
    expect(input).toEqual(snapshot)
  })

  it('keeps the metadata it is given and adds to an existing body_not_logged', () => {
    // Prepare
    const input = { ...eventData(base64('a=1'), 'base64'), metadata: { trace_id: 't-1', body_not_logged: { response: 'larger than 65536 bytes' } } }

    // Act
    const masked = maskMoesifEvent(input, { logBody: true, maskFields: ['a'] })

    // Assess
    expect(masked.metadata).toEqual({
      trace_id: 't-1',
      body_not_logged: { request: 'not JSON, so MOESIF_MASK_FIELDS cannot be applied', response: 'larger than 65536 bytes' }
    })
    expect(input.metadata.body_not_logged).toEqual({ response: 'larger than 65536 bytes' })
  })

  it('copies __proto__ keys as data, in bodies and headers, without touching any prototype', () => {
    // Prepare
    const body = JSON.parse('{"__proto__":{"polluted":true,"token":"t"},"list":[{"__proto__":{"token":"t"}}]}') as unknown
    const input = eventData(body)
    input.request.headers = JSON.parse('{"__proto__":"header-value","authorization":"Bearer x"}') as Record<string, unknown>

    // Act
    const masked = maskMoesifEvent(input, { logBody: true, maskFields: ['token'] })

    // Assess
    expect(JSON.parse(JSON.stringify(masked.request.body))).toEqual(
      JSON.parse('{"__proto__":{"polluted":true,"token":"*****"},"list":[{"__proto__":{"token":"*****"}}]}')
    )
    expect(Object.getPrototypeOf(masked.request.body)).toBe(Object.prototype)
    expect(JSON.stringify(masked.request.headers)).toBe('{"__proto__":"header-value","authorization":"*****"}')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('masks a pathologically deep body wholesale instead of overflowing', () => {
    // Prepare
    let deep: unknown = { token: 't' }
    for (let i = 0; i < 10_000; i++) deep = { next: deep }

    // Act
    const masked = maskMoesifEvent(eventData(deep), { logBody: true, maskFields: ['token'] })

    // Assess
    expect(JSON.stringify(masked.request.body)).not.toContain('"t"')
  })
})
