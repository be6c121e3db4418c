import { describe, expect, it } from 'vitest'
import { portalBearerToken, portalCaller } from '../../../src/lib/portal/portal-caller'
import type { PortalIdentity } from '../../../src/lib/portal/portal-identity'

const failure = (run: () => unknown) =>
  Promise.resolve()
    .then(run)
    .then(
      () => expect.unreachable('expected a refusal'),
      (error: unknown) => error
    )

describe('portalBearerToken', () => {
  it('takes the token as create-key always did', () => {
    expect(portalBearerToken({ headers: { authorization: 'Bearer eyJ.a.b' } })).toBe('eyJ.a.b')
    expect(portalBearerToken({ headers: {} })).toBeUndefined()
  })

  it("names Okta's IDToken object, which the unchanged frontend sends as [object Object]", async () => {
    for (const authorization of ['Bearer [object Object]', 'bearer  [object Object] ', '[object Object]']) {
      expect(await failure(() => portalBearerToken({ headers: { Authorization: authorization } }))).toMatchObject({
        statusCode: 401,
        code: 'ERR_PORTAL_TOKEN_OBJECT',
        message: expect.stringContaining('[object Object]')
      })
    }
  })
})

describe('portalCaller', () => {
  const identity = (email: string | undefined): PortalIdentity => ({ userId: 'auth0|a', companyId: 'acme', email, emailVerified: undefined })

  it('needs an email claim', async () => {
    const event = { headers: { authorization: 'Bearer t' } }
    expect(await portalCaller(async () => identity('a@acme.test'), event)).toMatchObject({ email: 'a@acme.test', userId: 'auth0|a' })
    expect(await failure(() => portalCaller(async () => identity(undefined), event))).toMatchObject({ statusCode: 401, code: 'ERR_EMAIL_REQUIRED' })
  })
})
