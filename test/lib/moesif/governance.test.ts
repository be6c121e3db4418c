/**
 * The governance evaluator, table-driven: which rules apply (every rule type,
 * matching / not_matching, unidentified callers, regex groups, every field),
 * what they make of the answer (variables, header merging, precedence), and
 * what compiling the documents accepts. The expected values mirror
 * moesif-nodejs 3.11.0's governanceRulesManager, except where the module
 * comment of src/lib/moesif/governance.ts says we differ (marked "differs").
 */
import { describe, expect, it } from 'vitest'
import {
  BLOCKED_BY_HEADER,
  compileGovernance,
  governRequest,
  GovernanceDocumentError,
  type GovernanceIdentity,
  type GovernanceRequest,
  type GovernanceVerdict
} from '../../../src/lib/moesif/governance'

type Json = Record<string, unknown>

/** A rule that, when it applies, adds the header `X-Applied-<id>`; overrides replace whole fields. */
function rule(id: string, overrides: Json = {}): Json {
  return {
    _id: id,
    type: 'regex',
    block: false,
    applied_to: 'matching',
    applied_to_unidentified: false,
    regex_config: [],
    response: { headers: { [`X-Applied-${id}`]: '1' } },
    ...overrides
  }
}

const condition = (path: string, value: string): Json => ({ path, value })
const group = (...conditions: Json[]): Json => ({ conditions })
const onlyIf = (...conditions: Json[]): Json => ({ regex_config: [group(...conditions)] })

const baseRequest: GovernanceRequest = {
  verb: 'POST',
  route: '/v1/widgets?page=2',
  ip: '198.51.100.7',
  headers: { 'content-type': 'application/json', 'x-api-version': '2024-01', 'X-Mixed-Case': 'Yes' },
  body: JSON.stringify({ operationName: 'ListWidgets', plan: 'gold', count: 42, nested: { a: 1 }, 'a.b': 'dotted', empty: null }),
  isBase64Encoded: false
}

const acme: GovernanceIdentity = { companyId: 'acme', userId: 'alice' }
const anonymous: GovernanceIdentity = { companyId: undefined, userId: undefined }

const config = (companyRules: Json = {}, userRules: Json = {}): Json => ({ sample_rate: 100, company_rules: companyRules, user_rules: userRules })
const member = (ruleId: string, values: Json = {}): Json => ({ rules: ruleId, values })

function govern(
  rules: Json[],
  cfg: Json,
  request: Partial<GovernanceRequest> = {},
  identity: GovernanceIdentity = acme
): GovernanceVerdict | undefined {
  return governRequest(compileGovernance(rules, cfg), { ...baseRequest, ...request }, identity)
}

/** The ids of the rules that applied, from their X-Applied-<id> headers. */
function applied(verdict: GovernanceVerdict | undefined): string[] {
  return Object.keys(verdict?.headers ?? {})
    .filter((name) => name.startsWith('X-Applied-'))
    .map((name) => name.slice('X-Applied-'.length))
}

describe('which rules apply: rule types and cohorts', () => {
  it.each([
    { name: 'a regex rule with no conditions applies to everyone', rules: [rule('r')], cfg: config(), identity: acme, expected: ['r'] },
    {
      name: 'a company rule applies to a company in its cohort',
      rules: [rule('c', { type: 'company' })],
      cfg: config({ acme: [member('c')] }),
      identity: acme,
      expected: ['c']
    },
    {
      name: 'a company rule does not apply to a company outside its cohort',
      rules: [rule('c', { type: 'company' })],
      cfg: config({ globex: [member('c')] }),
      identity: acme,
      expected: []
    },
    {
      name: 'a not_matching company rule applies to a company outside its cohort',
      rules: [rule('c', { type: 'company', applied_to: 'not_matching' })],
      cfg: config({ globex: [member('c')] }),
      identity: acme,
      expected: ['c']
    },
    {
      name: 'a not_matching company rule does not apply to a company in its cohort',
      rules: [rule('c', { type: 'company', applied_to: 'not_matching' })],
      cfg: config({ acme: [member('c')] }),
      identity: acme,
      expected: []
    },
    {
      name: 'a user rule applies to a user in its cohort',
      rules: [rule('u', { type: 'user' })],
      cfg: config({}, { alice: [member('u')] }),
      identity: acme,
      expected: ['u']
    },
    {
      name: 'a user rule does not apply to a user outside its cohort',
      rules: [rule('u', { type: 'user' })],
      cfg: config({}, { bob: [member('u')] }),
      identity: acme,
      expected: []
    },
    {
      name: 'a not_matching user rule applies to a user outside its cohort',
      rules: [rule('u', { type: 'user', applied_to: 'not_matching' })],
      cfg: config({}, { bob: [member('u')] }),
      identity: acme,
      expected: ['u']
    },
    {
      name: 'a not_matching user rule does not apply to a user in its cohort',
      rules: [rule('u', { type: 'user', applied_to: 'not_matching' })],
      cfg: config({}, { alice: [member('u')] }),
      identity: acme,
      expected: []
    },
    {
      name: 'the company cohort does not make a user rule apply, nor the reverse',
      rules: [rule('c', { type: 'company' }), rule('u', { type: 'user' })],
      cfg: config({ acme: [member('u')] }, { alice: [member('c')] }),
      identity: acme,
      expected: []
    },
    {
      name: 'a cohort entry naming a rule that no longer exists is skipped',
      rules: [rule('c', { type: 'company' })],
      cfg: config({ acme: [member('deleted'), member('c')] }),
      identity: acme,
      expected: ['c']
    },
    {
      name: 'a cohort rule applies only when its regex_config matches too',
      rules: [rule('c', { type: 'company', ...onlyIf(condition('request.verb', '^GET$')) })],
      cfg: config({ acme: [member('c')] }),
      identity: acme,
      expected: []
    },
    {
      name: 'an unknown rule type never applies',
      rules: [rule('x', { type: 'team' })],
      cfg: config(),
      identity: acme,
      expected: []
    }
  ])('$name', ({ rules, cfg, identity, expected }) => {
    expect(applied(govern(rules, cfg, {}, identity))).toEqual(expected)
  })
})

describe('which rules apply: unidentified callers', () => {
  const rules = [
    rule('c-anon', { type: 'company', applied_to_unidentified: true }),
    rule('c-known', { type: 'company' }),
    rule('c-not', { type: 'company', applied_to: 'not_matching' }),
    rule('u-anon', { type: 'user', applied_to_unidentified: true, ...onlyIf(condition('request.verb', '^POST$')) }),
    rule('u-anon-get', { type: 'user', applied_to_unidentified: true, ...onlyIf(condition('request.verb', '^GET$')) }),
    rule('u-not', { type: 'user', applied_to: 'not_matching' }),
    rule('regex')
  ]
  const cfg = config({ acme: [member('c-known'), member('c-anon')] }, { alice: [member('u-anon')] })

  it.each([
    {
      name: 'no company and no user: regex rules and the unidentified rules whose regex matches',
      identity: anonymous,
      expected: ['regex', 'c-anon', 'u-anon']
    },
    { name: 'an empty id counts as none', identity: { companyId: '', userId: '' }, expected: ['regex', 'c-anon', 'u-anon'] },
    {
      name: 'a known company without a user: cohort rules for the company, unidentified rules for the user',
      identity: { companyId: 'acme', userId: undefined },
      expected: ['regex', 'c-known', 'c-anon', 'c-not', 'u-anon']
    },
    {
      name: 'a known user without a company: unidentified company rules, cohort rules for the user',
      identity: { companyId: undefined, userId: 'alice' },
      expected: ['regex', 'c-anon', 'u-anon', 'u-not']
    },
    {
      name: 'identified callers outside every cohort: not_matching rules only (applied_to_unidentified is not for them)',
      identity: { companyId: 'globex', userId: 'bob' },
      expected: ['regex', 'c-not', 'u-not']
    }
  ])('$name', ({ identity, expected }) => {
    expect(applied(govern(rules, cfg, {}, identity))).toEqual(expected)
  })
})

describe('which rules apply: regex_config groups', () => {
  const verbPost = condition('request.verb', '^POST$')
  const verbGet = condition('request.verb', '^GET$')
  const widgets = condition('request.route', '^/v1/widgets')
  const gadgets = condition('request.route', '^/v1/gadgets')

  it.each([
    { name: 'no regex_config: matches', regexConfig: undefined, expected: true },
    { name: 'an empty list: matches', regexConfig: [], expected: true },
    { name: 'a group without conditions: matches', regexConfig: [{ conditions: [] }], expected: true },
    { name: 'a group whose conditions key is missing: matches', regexConfig: [{}], expected: true },
    { name: 'one group, every condition holds (AND): matches', regexConfig: [group(verbPost, widgets)], expected: true },
    { name: 'one group, one condition fails (AND): no match', regexConfig: [group(verbPost, gadgets)], expected: false },
    { name: 'two groups, the second holds (OR): matches', regexConfig: [group(verbGet), group(widgets)], expected: true },
    { name: 'two groups, neither holds: no match', regexConfig: [group(verbGet, widgets), group(gadgets)], expected: false },
    { name: 'an invalid regular expression never holds', regexConfig: [group(condition('request.verb', '('))], expected: false },
    {
      name: 'an invalid one in one group, the other group holds',
      regexConfig: [group(condition('request.verb', '[')), group(verbPost)],
      expected: true
    },
    { name: 'a group that is not an object never holds', regexConfig: [null], expected: false },
    { name: 'a condition that is not an object never holds', regexConfig: [{ conditions: ['POST'] }], expected: false },
    { name: 'regular expressions are unanchored, as RegExp.test is', regexConfig: [group(condition('request.route', 'widgets'))], expected: true },
    { name: 'and case-sensitive', regexConfig: [group(condition('request.verb', 'post'))], expected: false }
  ])('$name', ({ regexConfig, expected }) => {
    const rules = [rule('r', regexConfig === undefined ? { regex_config: undefined } : { regex_config: regexConfig })]
    expect(applied(govern(rules, config()))).toEqual(expected ? ['r'] : [])
  })
})

describe('which rules apply: every field path', () => {
  it.each([
    { path: 'request.verb', value: '^POST$', request: {}, expected: true },
    { path: 'request.verb', value: '^GET$', request: {}, expected: false },
    { path: 'request.route', value: '^/v1/widgets\\?page=2$', request: {}, expected: true, why: 'path and query string' },
    { path: 'request.route', value: '^/v1/widgets$', request: {}, expected: false, why: 'the query string is part of the route' },
    { path: 'request.ip', value: '^198\\.51\\.100\\.', request: {}, expected: true },
    {
      path: 'request.ip',
      value: '^203\\.0\\.113\\.',
      request: { headers: { 'x-forwarded-for': '203.0.113.9' } },
      expected: false,
      why: 'differs: the source IP, never a header'
    },
    { path: 'request.headers.x-api-version', value: '^2024-', request: {}, expected: true },
    { path: 'request.headers.X-API-Version', value: '^2024-', request: {}, expected: true, why: 'the rule names the header in another case' },
    { path: 'request.headers.x-mixed-case', value: '^Yes$', request: {}, expected: true, why: 'the request sends the header in another case' },
    { path: 'request.headers.x-absent', value: '.+', request: {}, expected: false },
    {
      path: 'request.headers.x-absent',
      value: '^$',
      request: {},
      expected: true,
      why: 'differs: a missing field is the empty string, not "undefined"'
    },
    { path: 'request.headers.x-absent', value: 'undefined', request: {}, expected: false, why: 'differs: as above' },
    { path: 'request.body.operationName', value: '^ListWidgets$', request: {}, expected: true },
    { path: 'request.body.plan', value: '^gold$', request: {}, expected: true },
    { path: 'request.body.count', value: '^42$', request: {}, expected: true, why: 'a number is tested as its text' },
    { path: 'request.body.nested', value: '^\\{"a":1\\}$', request: {}, expected: true, why: 'differs: an object is tested as its JSON' },
    { path: 'request.body.a.b', value: '^dotted$', request: {}, expected: true, why: 'top-level keys only: "a.b" is one key' },
    { path: 'request.body.nested.a', value: '1', request: {}, expected: false, why: 'no nested paths' },
    { path: 'request.body.empty', value: '^$', request: {}, expected: true, why: 'null is empty' },
    { path: 'request.body.toString', value: 'function', request: {}, expected: false, why: 'own keys only' },
    {
      path: 'request.body.operationName',
      value: '^ListWidgets$',
      request: { body: Buffer.from(JSON.stringify({ operationName: 'ListWidgets' })).toString('base64'), isBase64Encoded: true },
      expected: true,
      why: 'a base64 body is decoded'
    },
    {
      path: 'request.body.operationName',
      value: '.+',
      request: { body: 'operationName=ListWidgets' },
      expected: false,
      why: 'a body that is not JSON has no fields'
    },
    { path: 'request.body.operationName', value: '.+', request: { body: undefined }, expected: false },
    { path: 'request.nonsense', value: '^$', request: {}, expected: true, why: 'an unknown path reads as empty' }
  ])('$path =~ /$value/ -> $expected $why', ({ path, value, request, expected }) => {
    const rules = [rule('r', onlyIf(condition(path, value)))]
    expect(applied(govern(rules, config(), request as Partial<GovernanceRequest>))).toEqual(expected ? ['r'] : [])
  })
})

describe('variables', () => {
  const variableRule = (
    body: unknown,
    headers: Json = {},
    variables: unknown = [
      { name: '0', path: 'company.name' },
      { name: 'plan', path: 'company.plan' }
    ]
  ): Json => rule('v', { type: 'company', block: true, variables, response: { status: 429, headers, body } })

  it.each([
    { name: 'a value replaces {{name}}', template: 'Hi {{0}}', values: { '0': 'Acme Inc' }, expected: 'Hi Acme Inc' },
    { name: 'a value wins over the default', template: 'Hi {{0|there}}', values: { '0': 'Acme Inc' }, expected: 'Hi Acme Inc' },
    { name: 'a missing value takes the default', template: 'Hi {{0|there}}', values: {}, expected: 'Hi there' },
    { name: 'a missing value without default is UNKNOWN', template: 'Hi {{0}}', values: {}, expected: 'Hi UNKNOWN' },
    { name: 'an empty value is missing', template: 'Hi {{0|there}}', values: { '0': '' }, expected: 'Hi there' },
    { name: 'differs: 0 is a value', template: '{{plan|none}} left', values: { plan: 0 }, expected: '0 left' },
    { name: 'every occurrence is replaced (differs from the Lambda SDK)', template: '{{0}} and {{0}}', values: { '0': 'x' }, expected: 'x and x' },
    { name: 'several variables', template: '{{0}} is on {{plan|free}}', values: { '0': 'Acme', plan: 'gold' }, expected: 'Acme is on gold' },
    { name: 'a name the rule does not declare takes its default', template: '{{other|d}} {{other}}', values: { other: 'x' }, expected: 'd UNKNOWN' },
    { name: 'a default may hold spaces and pipes', template: '{{0|your | company}}', values: {}, expected: 'your | company' },
    { name: 'an empty default is not a placeholder', template: '{{0|}}', values: { '0': 'x' }, expected: '{{0|}}' }
  ])('$name', ({ template, values, expected }) => {
    const verdict = govern([variableRule({ message: template })], config({ acme: [member('v', values)] }))
    expect(JSON.parse(verdict?.blocked?.body ?? 'null')).toEqual({ message: expected })
  })

  it('replaces variables in strings at any depth of the body, and in header values', () => {
    const verdict = govern(
      [variableRule({ error: { detail: ['{{0}}', 7, { deeper: 'on {{plan|free}}' }] } }, { 'X-Company': '{{0}}', 'X-Plan': '{{plan|free}}' })],
      config({ acme: [member('v', { '0': 'Acme', plan: 'gold' })] })
    )

    expect(JSON.parse(verdict?.blocked?.body ?? 'null')).toEqual({ error: { detail: ['Acme', 7, { deeper: 'on gold' }] } })
    expect(verdict?.headers).toMatchObject({ 'X-Company': 'Acme', 'X-Plan': 'gold' })
  })

  it('leaves a rule without variables as written', () => {
    const verdict = govern([variableRule({ message: 'Hi {{0}}' }, { 'X-Company': '{{0}}' }, [])], config({ acme: [member('v', { '0': 'Acme' })] }))

    expect(JSON.parse(verdict?.blocked?.body ?? 'null')).toEqual({ message: 'Hi {{0}}' })
    expect(verdict?.headers['X-Company']).toBe('{{0}}')
  })

  it('gives defaults to rules without cohort values (regex, not_matching, unidentified)', () => {
    const variables = [{ name: '0', path: 'company.name' }]
    const rules = [
      rule('regex', { variables, response: { headers: { 'X-Regex': '{{0|r}}' } } }),
      rule('not', { type: 'company', applied_to: 'not_matching', variables, response: { headers: { 'X-Not': '{{0|n}}' } } }),
      rule('anon', { type: 'user', applied_to_unidentified: true, variables, response: { headers: { 'X-Anon': '{{0}}' } } })
    ]

    const verdict = govern(rules, config(), {}, { companyId: 'acme', userId: undefined })

    expect(verdict?.headers).toEqual({ 'X-Regex': 'r', 'X-Not': 'n', 'X-Anon': 'UNKNOWN' })
  })

  it('drops a header whose value cannot be sent once filled in, and keeps the rest of the answer', () => {
    const verdict = govern(
      [variableRule({ ok: true }, { 'X-Company': '{{0}}', 'X-Kept': 'yes' })],
      config({ acme: [member('v', { '0': 'evil\r\nSet-Cookie: a=b' })] })
    )

    expect(verdict?.headers).not.toHaveProperty('X-Company')
    expect(verdict?.headers['X-Kept']).toBe('yes')
    expect(verdict?.blocked?.status).toBe(429)
  })
})

describe('the answer: header merging and precedence', () => {
  const block = (id: string, type: string, status: number, extra: Json = {}): Json =>
    rule(id, { type, block: true, response: { status, headers: { [`X-Applied-${id}`]: '1', 'X-Source': id }, body: { by: id } }, ...extra })
  const everyone = config({ acme: [member('company')] }, { alice: [member('user')] })

  it('merges the headers of every rule that applies, blocking or not, and blocks with the rule status, JSON body and rule id', () => {
    const rules = [rule('regex', { response: { headers: { 'X-Plan': 'free', 'X-Applied-regex': '1' } } }), block('company', 'company', 402)]

    const verdict = govern(rules, everyone)

    expect(verdict).toEqual({
      headers: {
        'X-Plan': 'free',
        'X-Applied-regex': '1',
        'X-Applied-company': '1',
        'X-Source': 'company',
        'Content-Type': 'application/json',
        [BLOCKED_BY_HEADER]: 'company'
      },
      blocked: { ruleId: 'company', status: 402, body: '{"by":"company"}' }
    })
  })

  it.each([
    { name: 'user over company over regex', blocking: ['regex', 'company', 'user'], winner: 'user' },
    { name: 'company over regex (the user rule only adds headers)', blocking: ['regex', 'company'], winner: 'company' },
    { name: 'user over regex (the company rule only adds headers)', blocking: ['regex', 'user'], winner: 'user' },
    { name: 'a lone regex block', blocking: ['regex'], winner: 'regex' }
  ])('the last blocking rule answers: $name', ({ blocking, winner }) => {
    const statusOf: Record<string, number> = { regex: 403, company: 402, user: 429 }
    const rules = (['user', 'company', 'regex'] as const).map((id) =>
      blocking.includes(id)
        ? block(id, id, statusOf[id] as number)
        : rule(id, { type: id, response: { headers: { [`X-Applied-${id}`]: '1', 'X-Source': id } } })
    )

    const verdict = govern(rules, everyone)

    expect(verdict?.blocked).toEqual({ ruleId: winner, status: statusOf[winner], body: JSON.stringify({ by: winner }) })
    expect(verdict?.headers[BLOCKED_BY_HEADER]).toBe(winner)
    // Every rule's headers are there; a header set by several takes the last (highest-priority) rule's value.
    expect(applied(verdict).sort()).toEqual(['company', 'regex', 'user'])
    expect(verdict?.headers['X-Source']).toBe('user')
  })

  it('treats header names in any case as one header, the later rule naming it', () => {
    const rules = [
      rule('regex', { response: { headers: { 'x-limit': '10' } } }),
      rule('user', { type: 'user', response: { headers: { 'X-Limit': '1000' } } })
    ]

    expect(govern(rules, everyone)?.headers).toEqual({ 'X-Limit': '1000' })
  })

  it('sets Content-Type: application/json on a blocked answer over the rule own, as Moesif does, and keeps a later rule Content-Type', () => {
    const own = [block('company', 'company', 402, { response: { status: 402, headers: { 'content-type': 'text/plain' }, body: 'no' } })]
    const later = [...own, rule('user', { type: 'user', response: { headers: { 'Content-Type': 'application/problem+json' } } })]

    expect(govern(own, everyone)?.headers).toEqual({ 'Content-Type': 'application/json', [BLOCKED_BY_HEADER]: 'company' })
    expect(govern(own, everyone)?.blocked?.body).toBe('"no"')
    expect(govern(later, everyone)?.headers['Content-Type']).toBe('application/problem+json')
  })

  it('answers an empty body for a blocking rule without one', () => {
    expect(govern([block('company', 'company', 403, { response: { status: 403 } })], everyone)?.blocked).toEqual({
      ruleId: 'company',
      status: 403,
      body: ''
    })
  })

  it('gives no verdict when nothing applies, and no block when only headers apply', () => {
    expect(govern([rule('user', { type: 'user' })], config())).toBeUndefined()
    expect(govern([rule('regex')], config())).toEqual({ headers: { 'X-Applied-regex': '1' }, blocked: undefined })
  })

  it('applies matching cohort rules in the order of the caller entries, then not_matching rules in document order', () => {
    const rules = [
      rule('n1', { type: 'company', applied_to: 'not_matching', response: { headers: { 'X-Last': 'n1' } } }),
      rule('m1', { type: 'company', response: { headers: { 'X-Last': 'm1' } } }),
      rule('m2', { type: 'company', response: { headers: { 'X-Last': 'm2' } } })
    ]

    expect(govern(rules, config({ acme: [member('m2'), member('m1')] }))?.headers['X-Last']).toBe('n1')
    expect(govern(rules.slice(1), config({ acme: [member('m2'), member('m1')] }))?.headers['X-Last']).toBe('m1')
    // A rule listed twice applies twice, with the values of its first entry (moesif-nodejs' find).
    expect(govern(rules.slice(1), config({ acme: [member('m1'), member('m2'), member('m1')] }))?.headers['X-Last']).toBe('m1')
    const twice = [rule('v', { type: 'company', variables: [{ name: '0' }], response: { headers: { 'X-Value': '{{0}}' } } })]
    expect(govern(twice, config({ acme: [member('v', { '0': 'first' }), member('v', { '0': 'second' })] }))?.headers['X-Value']).toBe('first')
  })
})

describe('compileGovernance', () => {
  it.each([
    { name: 'rules that are not an array', rules: { rules: [] }, cfg: {}, message: 'the rules document is not a JSON array' },
    { name: 'a config that is not an object', rules: [], cfg: [], message: 'the config document is not a JSON object' },
    { name: 'rules that are not JSON', rules: '<html>', cfg: '{}', message: 'the rules document is not JSON' },
    { name: 'a config that is not JSON', rules: '[]', cfg: '{"truncated":', message: 'the config document is not JSON' },
    { name: 'a null config', rules: '[]', cfg: 'null', message: 'the config document is not a JSON object' }
  ])('refuses $name', ({ rules, cfg, message }) => {
    expect(() => compileGovernance(rules, cfg)).toThrow(new GovernanceDocumentError(message))
  })

  it('takes the documents as text or parsed', () => {
    const compiled = compileGovernance(JSON.stringify([rule('r')]), JSON.stringify(config()))

    expect(compiled.ruleCount).toBe(1)
    expect(governRequest(compiled, baseRequest, acme)?.headers).toEqual({ 'X-Applied-r': '1' })
  })

  it('leaves out, and lists, the rules it cannot honour; the others stay in force', () => {
    const compiled = compileGovernance(
      [
        'not a rule',
        { type: 'regex' },
        rule('bad-type', { type: 'team' }),
        rule('no-status', { block: true, response: { body: {} } }),
        rule('status-600', { block: true, response: { status: 600 } }),
        rule('bad-header', { response: { headers: { 'X Bad': '1' } } }),
        rule('good')
      ],
      config()
    )

    expect(compiled.ignored).toEqual([
      { id: '(none)', reason: 'not an object' },
      { id: '(none)', reason: 'no _id' },
      { id: 'bad-type', reason: 'type is not regex, company or user' },
      { id: 'no-status', reason: 'a blocking rule needs a response.status from 100 to 599' },
      { id: 'status-600', reason: 'a blocking rule needs a response.status from 100 to 599' },
      { id: 'bad-header', reason: 'response header name "X Bad" is not a valid header name' }
    ])
    expect(compiled.ruleCount).toBe(1)
    expect(applied(governRequest(compiled, baseRequest, acme))).toEqual(['good'])
  })

  it('never reads an id from the prototype: a company called __proto__ or constructor is just unknown', () => {
    const rules = [rule('c', { type: 'company' }), rule('n', { type: 'company', applied_to: 'not_matching' })]
    const compiled = compileGovernance(rules, JSON.parse('{"company_rules":{"__proto__":[{"rules":"c"}]}}'))

    expect(applied(governRequest(compiled, baseRequest, { companyId: 'constructor', userId: undefined }))).toEqual(['n'])
    expect(applied(governRequest(compiled, baseRequest, { companyId: '__proto__', userId: undefined }))).toEqual(['c', 'n'])
  })

  it('skips cohort entries and lists that are malformed', () => {
    const compiled = compileGovernance([rule('c', { type: 'company' })], config({ acme: [null, { rules: 7 }, member('c')], globex: 'c' }))

    expect(applied(governRequest(compiled, baseRequest, acme))).toEqual(['c'])
    expect(governRequest(compiled, baseRequest, { companyId: 'globex', userId: undefined })).toBeUndefined()
  })

  it('parses the body only when a rule reads it', () => {
    const notJson = { body: '{"operationName": ' }
    // A rule on the route alone must not care that the body is broken.
    expect(applied(govern([rule('r', onlyIf(condition('request.route', '^/v1/')))], config(), notJson))).toEqual(['r'])
    expect(applied(govern([rule('r', onlyIf(condition('request.body.operationName', '^$')))], config(), notJson))).toEqual(['r'])
  })
})
