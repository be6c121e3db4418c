/**
 * LOG_ALLOW_SAMPLE_RATE on the deployed authorizer: every deny is logged,
 * allows only for the configured share of calls (0.01 by default), in the same
 * line format; the decisions themselves never change; a bad value fails the
 * invocation as a ConfigError naming the variable.
 */
import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DEFAULT_LOG_ALLOW_SAMPLE_RATE } from '../../src/lib/authorizer/decision-log'
import { loadApiKeyConfig } from '../../src/lib/keys/api-key-config'
import { issueApiKey } from '../../src/lib/keys/issue-api-key'
import { coldStartModule } from '../support/cold-start'
import { lambdaInvoker } from '../support/deployed-handlers'
import { authorizerEvent } from '../support/events'
import { envFor, secretFor, type EnvRecord } from '../support/keys'

const NOW = 1_700_000_000
const OWNER = { userId: 'auth0|alice', companyId: 'acme' } as const
const SIGN_ENV = (): EnvRecord => envFor('HS256', { JWT_KID: 'k-1' })
type Answer = APIGatewaySimpleAuthorizerWithContextResult<Record<string, string>>

afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

/** The authorizer, cold-started with `extra` over the HS256 environment, and its decision lines. */
async function coldStart(extra: EnvRecord) {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(NOW * 1000)
  const { module, lines } = await coldStartModule(() => import('../../src/handlers/authorizer'), { ...SIGN_ENV(), ...extra })
  const handle = lambdaInvoker(module.handler)
  const invoke = async (event: APIGatewayRequestAuthorizerEventV2): Promise<Answer> => (await handle(event)) as Answer
  const decisions = (): Record<string, unknown>[] =>
    lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => 'decision' in line)
  return { invoke, lines, decisions }
}

const bearer = (token: string) => authorizerEvent({ requestId: 'req-1', headers: { authorization: `Bearer ${token}` } })

async function validKey() {
  return issueApiKey(loadApiKeyConfig(SIGN_ENV(), 'sign'), OWNER, { nowSeconds: NOW })
}

async function forgedKey() {
  return (await issueApiKey(loadApiKeyConfig({ ...SIGN_ENV(), JWT_SECRET: secretFor('HS256', 'attacker') }, 'sign'), OWNER, { nowSeconds: NOW }))
    .apikey
}

describe('authorizer handler: allow decisions are sampled in the log', () => {
  it('defaults to one in a hundred: an allow is logged when Math.random() falls below 0.01', async () => {
    // Prepare
    expect(DEFAULT_LOG_ALLOW_SAMPLE_RATE).toBe(0.01)
    const issued = await validKey()
    const authorizer = await coldStart({})
    const draws = [0.005, 0.01, 0.5, 0.00999, 0.99]
    const random = vi.spyOn(Math, 'random')
    for (const draw of draws) random.mockReturnValueOnce(draw)
    // Act
    const answers = []
    for (let i = 0; i < draws.length; i++) answers.push(await authorizer.invoke(bearer(issued.apikey)))
    // Assess: every call allowed, two of five logged (0.005 and 0.00999)
    expect(answers.every((answer) => answer.isAuthorized)).toBe(true)
    expect(authorizer.decisions()).toHaveLength(2)
  })

  it('writes a sampled allow line in the same format as ever', async () => {
    // Prepare
    const issued = await validKey()
    const authorizer = await coldStart({})
    vi.spyOn(Math, 'random').mockReturnValue(0)
    // Act
    await authorizer.invoke(bearer(issued.apikey))
    // Assess
    expect(authorizer.decisions()).toStrictEqual([
      {
        level: 'INFO',
        message: 'allow',
        timestamp: new Date(NOW * 1000).toISOString(),
        service: 'authorizer',
        requestId: 'req-1',
        api: 'http-api',
        decision: 'allow',
        keyId: issued.keyId,
        orgId: 'acme'
      }
    ])
  })

  it('logs every deny, whatever the sample rate and the draw', async () => {
    // Prepare
    const forged = await forgedKey()
    const authorizer = await coldStart({ LOG_ALLOW_SAMPLE_RATE: '0' })
    vi.spyOn(Math, 'random').mockReturnValue(0.999)
    // Act
    await authorizer.invoke(bearer(forged))
    await authorizer.invoke(bearer('not.a-valid.token!'))
    await authorizer.invoke(authorizerEvent({ requestId: 'req-1', headers: {} }))
    // Assess
    expect(authorizer.decisions().map((line) => [line.decision, line.reason])).toEqual([
      ['deny', 'BAD_SIGNATURE'],
      ['deny', 'MALFORMED'],
      ['deny', 'MISSING_TOKEN']
    ])
  })

  it('logs no allow at 0, and every allow at 1, with the same answers', async () => {
    // Prepare
    const issued = await validKey()
    const none = await coldStart({ LOG_ALLOW_SAMPLE_RATE: '0' })
    const noneAnswers = [await none.invoke(bearer(issued.apikey)), await none.invoke(bearer(issued.apikey))]
    const noneLines = none.decisions()
    const all = await coldStart({ LOG_ALLOW_SAMPLE_RATE: '1' })
    vi.spyOn(Math, 'random').mockReturnValue(0.999_999)
    // Act
    const allAnswers = [await all.invoke(bearer(issued.apikey)), await all.invoke(bearer(issued.apikey))]
    // Assess
    expect(noneLines).toEqual([])
    expect(all.decisions().map((line) => line.decision)).toEqual(['allow', 'allow'])
    const expected = { isAuthorized: true, context: { orgId: 'acme', userId: 'auth0|alice', keyId: issued.keyId } }
    expect([...noneAnswers, ...allAnswers]).toEqual([expected, expected, expected, expected])
  })

  it('takes a rate between, such as 0.25', async () => {
    // Prepare
    const issued = await validKey()
    const authorizer = await coldStart({ LOG_ALLOW_SAMPLE_RATE: '0.25' })
    const random = vi.spyOn(Math, 'random')
    for (const draw of [0.2499, 0.25, 0.1]) random.mockReturnValueOnce(draw)
    // Act
    for (let i = 0; i < 3; i++) await authorizer.invoke(bearer(issued.apikey))
    // Assess
    expect(authorizer.decisions()).toHaveLength(2)
  })

  it.each([['abc'], ['1.5'], ['-0.1'], ['10%'], ['1e-3'], ['NaN'], ['0x1'], ['2']])(
    'fails the invocation with a ConfigError naming LOG_ALLOW_SAMPLE_RATE for %j (never a deny, never an allow)',
    async (value) => {
      // Prepare
      const issued = await validKey()
      const authorizer = await coldStart({ LOG_ALLOW_SAMPLE_RATE: value })
      // Act
      const invocation = authorizer.invoke(bearer(issued.apikey))
      // Assess
      await expect(invocation).rejects.toMatchObject({ code: 'ERR_CONFIG', variable: 'LOG_ALLOW_SAMPLE_RATE' })
      expect(authorizer.decisions()).toEqual([])
    }
  )
})
