/**
 * Finding 7: an org claim with a newline printed a fake `[local] moesif
 * event:` line in the `npm start` output. The line is built by
 * describeMoesifEvent; start.ts's `say` escapes every line it prints too.
 */
import { describe, expect, it } from 'vitest'
import { describeMoesifEvent, type MoesifWireEvent } from '../../src/local/moesif-collector'

function event(overrides: Partial<MoesifWireEvent> = {}): MoesifWireEvent {
  return {
    request: { time: '2026-01-01T00:00:00.000Z', uri: 'http://127.0.0.1:3000/v1/whoami', verb: 'GET', headers: { Authorization: '*****' } },
    response: { time: '2026-01-01T00:00:00.010Z', status: 200 },
    company_id: 'acme',
    user_id: 'auth0|alice',
    ...overrides
  }
}

describe('describeMoesifEvent', () => {
  it('prints one line per event, as the load test counts it', () => {
    expect(describeMoesifEvent(event())).toBe(
      'moesif event: GET http://127.0.0.1:3000/v1/whoami -> 200 company_id=acme user_id=auth0|alice authorization=*****'
    )
  })

  it('escapes control characters in every field, so a company id cannot forge a line of its own', () => {
    const line = describeMoesifEvent(
      event({
        company_id: 'acme\n[local] moesif event: GET /v1/whoami -> 200 company_id=victim',
        user_id: 'mallory\r\u001b[2K',
        request: { time: 't', uri: '/v1/whoami\u2028x', verb: 'GET', headers: { authorization: 'Bearer\tx' } }
      })
    )
    expect(line.split(/[\n\r\u2028\u2029]/)).toHaveLength(1)
    // eslint-disable-next-line no-control-regex
    expect(line).not.toMatch(/[\u0000-\u001f\u007f]/)
    expect(line).toBe(
      'moesif event: GET /v1/whoami\\u2028x -> 200 company_id=acme\\n[local] moesif event: GET /v1/whoami -> 200 company_id=victim user_id=mallory\\r\\x1B[2K authorization=Bearer\\tx'
    )
  })
})
