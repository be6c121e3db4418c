/**
 * Moesif governance rules, evaluated for one call: which rules apply, and the
 * response they make (headers to add; or, for a blocking rule, the whole
 * answer). Pure: no I/O, no clock. `./governance-rules` fetches the two
 * documents and compiles them here once per fetch (regular expressions,
 * variable templates, cohorts indexed by id, rule ids resolved); `./wrapper`
 * asks for a verdict on every call, which tests each distinct condition at
 * most once and reads the body only if a rule asks for it.
 *
 * The semantics are those of moesif-nodejs 3.11.0 (`lib/governanceRulesManager.js`):
 * - a rule is `regex`, `company` or `user`. A regex rule applies when its
 *   `regex_config` matches the request. A company (user) rule applies when the
 *   caller's company (user) is in the rule's cohort (`applied_to: matching`,
 *   the default) or is not (`not_matching`), and its `regex_config` matches.
 *   Cohorts come from the config document: `company_rules[companyId]` and
 *   `user_rules[userId]` list `{ rules: <rule id>, values }`. A caller without
 *   a company (user) id gets only the company (user) rules with
 *   `applied_to_unidentified: true`, when their `regex_config` matches;
 * - `regex_config` is a list of groups `{ conditions: [{ path, value }] }`:
 *   any group may match, and within a group every condition must
 *   (`new RegExp(value).test(field)`). No groups, or a group without
 *   conditions, matches everything. Fields: `request.verb`, `request.route`
 *   (path and query string), `request.ip`, `request.headers.<name>` (any
 *   case), `request.body.<top-level key>` (JSON bodies, `operationName`
 *   included);
 * - rules are applied regex first, then company, then user rules, each
 *   adding its `response.headers` (a later rule's header replaces an earlier
 *   one of the same name, in any case); a blocking rule also sets the status,
 *   the body (`JSON.stringify(response.body)`) and `Content-Type:
 *   application/json`, so the last blocking rule (user over company over
 *   regex) gives the answer, which carries `X-Moesif-Blocked-By: <rule id>`;
 * - in a rule that declares `variables`, `{{name}}` and `{{name|default}}` in
 *   header values and body strings (any depth) are replaced with the cohort
 *   entry's `values[name]`, else the default, else `UNKNOWN`; a name the rule
 *   does not declare always takes the default. A rule without variables is
 *   sent as written.
 *
 * Where this differs from Moesif's SDKs, on purpose:
 * - a field the request does not have (a missing header, a body that is not
 *   JSON) is tested as the empty string: moesif-nodejs tests the text
 *   "undefined". A body value that is an object or array is tested as its
 *   JSON (moesif-nodejs: "[object Object]", or the items joined by commas);
 *   a number or boolean as its text, as in moesif-nodejs;
 * - `request.ip` is API Gateway's `sourceIp` (the TCP peer), never a client
 *   header: moesif-nodejs believes `X-Forwarded-For` and its kin;
 * - a cohort value that is `0` or `false` is used as such (moesif-nodejs
 *   takes every falsy value as missing; an empty string is missing in both);
 * - every `{{name}}` is replaced: the Lambda SDK replaces only the first;
 * - a rule we cannot honour is left out and reported: a blocking rule
 *   without a status from 100 to 599, or a header name that is not a token
 *   (an SDK would fail on the call), an unknown type or no `_id`. A header
 *   value that cannot be sent (a control character, or text outside
 *   Latin-1, after its variables are replaced) is left out of that call;
 * - an invalid regular expression never matches (as in moesif-nodejs).
 */

/** One condition of a `regex_config` group, compiled; the same path and pattern in several rules share one. */
interface Condition {
  readonly field: Field
  /** Undefined when the pattern is not a valid regular expression: the condition never holds. */
  readonly regex: RegExp | undefined
  /** Its slot in a call's cache of outcomes, so it is tested at most once per call. */
  readonly slot: number
}

type Field =
  | { readonly kind: 'verb' | 'route' | 'ip' | 'none' }
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'body'; readonly key: string }

type RuleType = 'regex' | 'company' | 'user'

/** Cohort values of one entry, by variable name. */
type Values = Readonly<Record<string, unknown>> | undefined

/** A rule as compiled once per fetch. */
interface Rule {
  readonly id: string
  readonly type: RuleType
  readonly block: boolean
  readonly notMatching: boolean
  readonly unidentified: boolean
  /** Undefined: matches every request. Otherwise any group (all of whose conditions hold) matches. */
  readonly groups: readonly (readonly Condition[])[] | undefined
  /** The status of a blocking rule. */
  readonly status: number
  /** Headers to add, in the rule's order. */
  readonly headers: readonly HeaderTemplate[]
  /** The body of a blocking rule: its JSON text when it has no variables, else its template. */
  readonly body: { readonly json: string } | { readonly template: Template }
}

interface HeaderTemplate {
  readonly name: string
  readonly lowerName: string
  /** The value when nothing needs replacing (`null` when it can never be sent), else its parts. */
  readonly value: string | null | readonly Part[]
}

/** A string with variables, split once: literal text and placeholders. */
type Part = string | Placeholder

interface Placeholder {
  readonly name: string
  /** The default after `|`, else `UNKNOWN`. */
  readonly fallback: string
  /** Whether the rule declares the variable (only a declared one takes a cohort value). */
  readonly declared: boolean
}

/** A body value, compiled: strings with variables split into parts, the rest kept. */
type Template =
  | { readonly kind: 'string'; readonly parts: readonly Part[] }
  | { readonly kind: 'array'; readonly items: readonly Template[] }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, Template])[] }
  | { readonly kind: 'value'; readonly value: unknown }

/** One cohort membership from the config document, its rule looked up once. */
interface CohortEntry {
  /** Undefined when no rule of this type has the id (it may have been deleted): the entry is skipped. */
  readonly rule: Rule | undefined
  readonly values: Values
}

/** A rule left out of the compiled set, and why. */
export interface IgnoredRule {
  readonly id: string
  readonly reason: string
}

/** The two documents, compiled: what {@link governRequest} evaluates. Built once per fetch by {@link compileGovernance}. */
export interface CompiledGovernance {
  /** Rules in force. */
  readonly ruleCount: number
  /** Rules left out (see {@link IgnoredRule}). */
  readonly ignored: readonly IgnoredRule[]
  /** @internal Regex rules, in document order. */
  readonly regexRules: readonly Rule[]
  /** @internal */
  readonly company: CohortRules
  /** @internal */
  readonly user: CohortRules
  /** @internal Whether any condition reads the body (so the body is parsed only then). */
  readonly readsBody: boolean
  /**
   * @internal A call's cache of condition outcomes (one slot per distinct
   * condition: 0 not tested yet, 1 holds, 2 does not), reused by every call:
   * {@link governRequest} is synchronous, so one call at a time uses it.
   * Allocating one per call costs more than the evaluation once it outgrows
   * V8's on-heap typed arrays.
   */
  readonly outcomes: Uint8Array
}

interface CohortRules {
  /** `not_matching` rules, in document order. */
  readonly notMatching: readonly Rule[]
  /** Rules with `applied_to_unidentified`, in document order. */
  readonly unidentified: readonly Rule[]
  /** Cohort memberships by company (user) id. */
  readonly cohorts: ReadonlyMap<string, readonly CohortEntry[]>
}

/** The request as the rules see it. Header names are matched in any case; the body is read only if a rule asks. */
export interface GovernanceRequest {
  readonly verb: string
  /** Path and query string, e.g. `/v1/whoami?verbose=1`. */
  readonly route: string
  readonly ip: string | undefined
  readonly headers: Readonly<Record<string, string | undefined>> | undefined
  readonly body: string | undefined
  readonly isBase64Encoded: boolean
}

/** Who is calling; an empty or missing id is an unidentified caller. */
export interface GovernanceIdentity {
  readonly companyId: string | undefined
  readonly userId: string | undefined
}

/** What the rules make of a call. */
export interface GovernanceVerdict {
  /** Headers to add to the answer (by the rules' own names); for a blocked call they include Content-Type and X-Moesif-Blocked-By. */
  readonly headers: Record<string, string>
  /** Set when a rule blocks the call: answer this instead of running the handler. */
  readonly blocked: { readonly ruleId: string; readonly status: number; readonly body: string } | undefined
}

/** The header a blocked answer carries, naming the rule. */
export const BLOCKED_BY_HEADER = 'X-Moesif-Blocked-By'
const BLOCKED_BY_LOWER = BLOCKED_BY_HEADER.toLowerCase()

/** Why a document cannot be used at all (the refresh then fails and the last good rules stay). */
export class GovernanceDocumentError extends Error {
  override readonly name = 'GovernanceDocumentError'
}

const RULE_TYPES: ReadonlySet<string> = new Set(['regex', 'company', 'user'])
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
// What Node (and so API Gateway's answer) can carry in a header value.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
// moesif-nodejs' pattern: {{name}} or {{name|default}}.
const VARIABLE = /\{\{([^{}|]+)(\|([^}]+))?\}\}/g
const UPPER_CASE = /[A-Z]/

/**
 * Compile the rules document (`GET /v1/rules`, a JSON array) and the config
 * document (`GET /v1/config`, a JSON object), parsed or as text. Regular
 * expressions and variable templates are compiled here, once; cohorts are
 * indexed by id. Throws a {@link GovernanceDocumentError} when either
 * document is not of the right shape; a single rule that cannot be honoured
 * is left out and listed in `ignored`.
 *
 * @example
 * const governance = compileGovernance(rulesText, configText)
 * governRequest(governance, request, { companyId: 'acme', userId: 'auth0|alice' })
 */
export function compileGovernance(rulesDocument: unknown, configDocument: unknown): CompiledGovernance {
  const rules = parseDocument(rulesDocument, 'rules')
  const config = parseDocument(configDocument, 'config')
  if (!Array.isArray(rules)) throw new GovernanceDocumentError('the rules document is not a JSON array')
  if (!isRecord(config)) throw new GovernanceDocumentError('the config document is not a JSON object')

  const ignored: IgnoredRule[] = []
  const regexRules: Rule[] = []
  const byId = { company: new Map<string, Rule>(), user: new Map<string, Rule>() }
  const conditions = new Map<string, Condition>()
  let readsBody = false
  let ruleCount = 0
  for (const raw of rules) {
    const compiled = compileRule(raw, conditions)
    if ('reason' in compiled) {
      ignored.push(compiled)
      continue
    }
    ruleCount += 1
    readsBody ||= compiled.groups?.some((group) => group.some((condition) => condition.field.kind === 'body')) ?? false
    // As moesif-nodejs' id-keyed hash: a later rule with the same id replaces the earlier one.
    if (compiled.type === 'regex') regexRules.push(compiled)
    else byId[compiled.type].set(compiled.id, compiled)
  }
  const cohortRules = (rulesById: Map<string, Rule>, cohorts: unknown): CohortRules => {
    const all = [...rulesById.values()]
    return {
      notMatching: all.filter((rule) => rule.notMatching),
      unidentified: all.filter((rule) => rule.unidentified),
      cohorts: indexCohorts(cohorts, rulesById)
    }
  }
  return {
    ruleCount,
    ignored,
    regexRules,
    company: cohortRules(byId.company, config.company_rules),
    user: cohortRules(byId.user, config.user_rules),
    readsBody,
    outcomes: new Uint8Array(conditions.size)
  }
}

/**
 * Evaluate the rules for one call. Undefined when no rule applies; otherwise
 * the headers to add and, when a rule blocks, the answer to give instead of
 * the handler's.
 *
 * @example
 * const verdict = governRequest(governance, { verb: 'GET', route: '/v1/whoami', ip, headers, body: undefined, isBase64Encoded: false }, identity)
 * if (verdict?.blocked) return { statusCode: verdict.blocked.status, headers: verdict.headers, body: verdict.blocked.body }
 */
export function governRequest(
  governance: CompiledGovernance,
  request: GovernanceRequest,
  identity: GovernanceIdentity
): GovernanceVerdict | undefined {
  const evaluation = new Evaluation(request, governance)
  // Lowest priority first: whatever applies later wins.
  for (const rule of governance.regexRules) evaluation.consider(rule, undefined)
  evaluation.cohort(governance.company, identity.companyId)
  evaluation.cohort(governance.user, identity.userId)
  return evaluation.verdict()
}

/** One call's evaluation: its fields, each read once and only when a condition asks, and the rules that applied, in order. */
class Evaluation {
  readonly #request: GovernanceRequest
  readonly #governance: CompiledGovernance
  #headers: Readonly<Record<string, string | undefined>> | undefined
  #body: Record<string, unknown> | null | undefined
  /** The shared cache of condition outcomes, once cleared for this call. */
  #outcomes: Uint8Array | undefined
  readonly #rules: Rule[] = []
  readonly #values: Values[] = []

  constructor(request: GovernanceRequest, governance: CompiledGovernance) {
    this.#request = request
    this.#governance = governance
  }

  /** Record `rule` as applied if its regex_config matches. */
  consider(rule: Rule, values: Values): void {
    if (rule.groups !== undefined && !this.#matches(rule.groups)) return
    this.#rules.push(rule)
    this.#values.push(values)
  }

  /** The company (user) rules for `id`: by cohort, or the unidentified ones without an id. */
  cohort(rules: CohortRules, id: string | undefined): void {
    if (id === undefined || id === '') {
      for (const rule of rules.unidentified) this.consider(rule, undefined)
      return
    }
    const entries = rules.cohorts.get(id)
    if (entries !== undefined) {
      // In the order of the caller's cohort entries (a rule listed twice applies twice), as moesif-nodejs does.
      for (let i = 0; i < entries.length; i++) {
        const rule = (entries[i] as CohortEntry).rule
        if (rule !== undefined && !rule.notMatching) this.consider(rule, valuesFor(entries, i))
      }
    }
    // Then the not_matching rules whose cohort the caller is not in.
    outer: for (const rule of rules.notMatching) {
      if (entries !== undefined) {
        for (const entry of entries) if (entry.rule === rule) continue outer
      }
      this.consider(rule, undefined)
    }
  }

  /**
   * Fold the applied rules into the answer, highest priority first: the
   * first rule (from the end) to set a header (in any case) gives its value,
   * so each header is filled in once; the last blocking rule gives the
   * status and body, and sets Content-Type over its own headers and those
   * before it, as moesif-nodejs' in-order fold does.
   */
  verdict(): GovernanceVerdict | undefined {
    const rules = this.#rules
    if (rules.length === 0) return undefined
    let blockAt = -1
    for (let i = rules.length - 1; i >= 0; i--) {
      if ((rules[i] as Rule).block) {
        blockAt = i
        break
      }
    }
    // Name, value pairs, last applied first.
    const found: string[] = []
    const taken = new Set<string>()
    if (blockAt >= 0) taken.add(BLOCKED_BY_LOWER)
    for (let i = rules.length - 1; i >= 0; i--) {
      const rule = rules[i] as Rule
      if (i === blockAt && !taken.has('content-type')) {
        taken.add('content-type')
        found.push('Content-Type', 'application/json')
      }
      const ruleHeaders = rule.headers
      for (let h = ruleHeaders.length - 1; h >= 0; h--) {
        const header = ruleHeaders[h] as HeaderTemplate
        if (taken.has(header.lowerName)) continue
        const value = header.value
        const text = value === null ? undefined : typeof value === 'string' ? value : sendableHeaderValue(fillParts(value, this.#values[i]))
        if (text === undefined) continue
        taken.add(header.lowerName)
        found.push(header.name, text)
      }
    }
    // In the order the rules applied.
    const headers: Record<string, string> = {}
    for (let i = found.length - 2; i >= 0; i -= 2) headers[found[i] as string] = found[i + 1] as string
    if (blockAt < 0) return { headers, blocked: undefined }
    const rule = rules[blockAt] as Rule
    headers[BLOCKED_BY_HEADER] = rule.id
    const body = 'json' in rule.body ? rule.body.json : (JSON.stringify(fillTemplate(rule.body.template, this.#values[blockAt])) ?? '')
    return { headers, blocked: { ruleId: rule.id, status: rule.status, body } }
  }

  #matches(groups: readonly (readonly Condition[])[]): boolean {
    const outcomes = (this.#outcomes ??= this.#governance.outcomes.fill(0))
    for (const group of groups) {
      let all = true
      for (const condition of group) {
        let outcome = outcomes[condition.slot]
        if (outcome === 0) {
          outcome = condition.regex !== undefined && condition.regex.test(this.#text(condition.field)) ? 1 : 2
          outcomes[condition.slot] = outcome
        }
        if (outcome !== 1) {
          all = false
          break
        }
      }
      if (all) return true
    }
    return false
  }

  #text(field: Field): string {
    switch (field.kind) {
      case 'verb':
        return this.#request.verb
      case 'route':
        return this.#request.route
      case 'ip':
        return this.#request.ip ?? ''
      case 'header': {
        const headers = (this.#headers ??= lowerCaseHeaders(this.#request.headers))
        const value = Object.hasOwn(headers, field.name) ? headers[field.name] : undefined
        return typeof value === 'string' ? value : ''
      }
      case 'body':
        return fieldText(this.#parsedBody(), field.key)
      default:
        return ''
    }
  }

  #parsedBody(): Record<string, unknown> | null {
    if (this.#body !== undefined) return this.#body
    this.#body = null
    const { body, isBase64Encoded } = this.#request
    if (!this.#governance.readsBody || typeof body !== 'string' || body === '') return null
    try {
      const parsed: unknown = JSON.parse(isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body)
      if (typeof parsed === 'object' && parsed !== null) this.#body = parsed as Record<string, unknown>
    } catch {
      // Not JSON: no body fields.
    }
    return this.#body
  }
}

/** The headers by lower-case name: the object itself when every name already is (as API Gateway's payload 2.0 sends them). */
function lowerCaseHeaders(raw: GovernanceRequest['headers']): Readonly<Record<string, string | undefined>> {
  if (raw === undefined) return {}
  let lower: Record<string, string> | undefined
  for (const name of Object.keys(raw)) {
    if (UPPER_CASE.test(name)) {
      lower = {}
      break
    }
  }
  if (lower === undefined) return raw
  for (const name of Object.keys(raw)) {
    const value = raw[name]
    if (typeof value === 'string') lower[name.toLowerCase()] = value
  }
  return lower
}

function fieldText(body: Record<string, unknown> | null, key: string): string {
  if (body === null || !Object.hasOwn(body, key)) return ''
  const value = body[key]
  if (value === undefined || value === null) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/** The values of the first entry for the same rule as `entries[index]` (moesif-nodejs looks them up with `find`). */
function valuesFor(entries: readonly CohortEntry[], index: number): Values {
  const entry = entries[index] as CohortEntry
  for (let i = 0; i < index; i++) {
    const earlier = entries[i] as CohortEntry
    if (earlier.rule === entry.rule) return earlier.values
  }
  return entry.values
}

function fillParts(parts: readonly Part[], values: Values): string {
  let out = ''
  for (const part of parts) {
    if (typeof part === 'string') {
      out += part
      continue
    }
    const value = part.declared && values !== undefined && Object.hasOwn(values, part.name) ? values[part.name] : undefined
    out += value === undefined || value === null || value === '' ? part.fallback : typeof value === 'object' ? JSON.stringify(value) : String(value)
  }
  return out
}

function fillTemplate(template: Template, values: Values): unknown {
  switch (template.kind) {
    case 'string':
      return fillParts(template.parts, values)
    case 'array':
      return template.items.map((item) => fillTemplate(item, values))
    case 'object': {
      const out: Record<string, unknown> = {}
      for (const [key, value] of template.entries) out[key] = fillTemplate(value, values)
      return out
    }
    default:
      return template.value
  }
}

function compileRule(raw: unknown, conditions: Map<string, Condition>): Rule | IgnoredRule {
  if (!isRecord(raw)) return { id: '(none)', reason: 'not an object' }
  const id = typeof raw._id === 'string' && raw._id !== '' ? raw._id : undefined
  if (id === undefined) return { id: '(none)', reason: 'no _id' }
  if (typeof raw.type !== 'string' || !RULE_TYPES.has(raw.type)) return { id, reason: 'type is not regex, company or user' }
  const block = raw.block === true
  const response = isRecord(raw.response) ? raw.response : {}
  const status = response.status
  if (block && !(typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599)) {
    return { id, reason: 'a blocking rule needs a response.status from 100 to 599' }
  }
  // Variables are replaced only in a rule that declares some (moesif-nodejs' recursivelyReplaceValues).
  const declared =
    Array.isArray(raw.variables) && raw.variables.length > 0
      ? new Set(raw.variables.flatMap((v: unknown) => (isRecord(v) && typeof v.name === 'string' ? [v.name] : [])))
      : undefined
  const headers: HeaderTemplate[] = []
  if (isRecord(response.headers)) {
    for (const name of Object.keys(response.headers)) {
      if (!HEADER_NAME.test(name)) return { id, reason: `response header name ${JSON.stringify(name)} is not a valid header name` }
      const value = response.headers[name]
      const parts = declared !== undefined && typeof value === 'string' ? splitVariables(value, declared) : undefined
      headers.push({ name, lowerName: name.toLowerCase(), value: parts ?? sendableHeaderValue(value) ?? null })
    }
  }
  const template = declared === undefined ? undefined : compileTemplate(response.body, declared)
  return {
    id,
    type: raw.type as RuleType,
    block,
    notMatching: raw.applied_to === 'not_matching',
    unidentified: raw.applied_to_unidentified === true,
    groups: compileGroups(raw.regex_config, conditions),
    status: block ? (status as number) : 0,
    headers,
    body: template === undefined ? { json: JSON.stringify(response.body) ?? '' } : { template }
  }
}

/** The parts of `text`, or undefined when it holds no variable. */
function splitVariables(text: string, declared: ReadonlySet<string>): Part[] | undefined {
  if (!text.includes('{{')) return undefined
  const parts: Part[] = []
  let last = 0
  let found = false
  for (const match of text.matchAll(VARIABLE)) {
    found = true
    if (match.index > last) parts.push(text.slice(last, match.index))
    const name = match[1] as string
    parts.push({ name, fallback: match[3] ?? 'UNKNOWN', declared: declared.has(name) })
    last = match.index + match[0].length
  }
  if (!found) return undefined
  if (last < text.length) parts.push(text.slice(last))
  return parts
}

/** The body's template, or undefined when it holds no variable (it is then sent as its JSON, computed once). */
function compileTemplate(value: unknown, declared: ReadonlySet<string>): Template | undefined {
  if (typeof value === 'string') {
    const parts = splitVariables(value, declared)
    return parts === undefined ? undefined : { kind: 'string', parts }
  }
  if (Array.isArray(value)) {
    const items = value.map((item) => compileTemplate(item, declared))
    if (items.every((item) => item === undefined)) return undefined
    return { kind: 'array', items: items.map((item, i) => item ?? { kind: 'value', value: value[i] }) }
  }
  if (isRecord(value)) {
    const keys = Object.keys(value)
    const compiled = keys.map((key) => compileTemplate(value[key], declared))
    if (compiled.every((item) => item === undefined)) return undefined
    return { kind: 'object', entries: keys.map((key, i) => [key, compiled[i] ?? { kind: 'value', value: value[key] }] as const) }
  }
  return undefined
}

function compileGroups(regexConfig: unknown, shared: Map<string, Condition>): Rule['groups'] {
  if (!Array.isArray(regexConfig) || regexConfig.length === 0) return undefined
  /** One Condition per distinct field and pattern, across all rules. */
  const conditionOf = (field: Field, pattern: unknown): Condition => {
    const source = typeof pattern === 'string' || typeof pattern === 'number' ? String(pattern) : undefined
    const key = JSON.stringify([field, source ?? null])
    let condition = shared.get(key)
    if (condition === undefined) {
      condition = { field, regex: regexOf(source), slot: shared.size }
      shared.set(key, condition)
    }
    return condition
  }
  const groups = regexConfig.map((group): Condition[] => {
    // A group that is not an object cannot match (moesif-nodejs fails the evaluation on it).
    if (!isRecord(group)) return [conditionOf({ kind: 'none' }, undefined)]
    const conditions = Array.isArray(group.conditions) ? group.conditions : []
    return conditions.map((condition): Condition => {
      if (!isRecord(condition)) return conditionOf({ kind: 'none' }, undefined)
      return conditionOf(fieldOf(condition.path), condition.value)
    })
  })
  // A group without conditions matches every request, and so does the rule.
  return groups.some((group) => group.length === 0) ? undefined : groups
}

function fieldOf(path: unknown): Field {
  if (typeof path !== 'string') return { kind: 'none' }
  switch (path) {
    case 'request.verb':
      return { kind: 'verb' }
    case 'request.route':
      return { kind: 'route' }
    case 'request.ip':
      return { kind: 'ip' }
  }
  if (path.startsWith('request.headers.')) return { kind: 'header', name: path.slice('request.headers.'.length).toLowerCase() }
  if (path.startsWith('request.body.')) return { kind: 'body', key: path.slice('request.body.'.length) }
  return { kind: 'none' }
}

function regexOf(source: string | undefined): RegExp | undefined {
  if (source === undefined) return undefined
  try {
    return new RegExp(source)
  } catch {
    return undefined
  }
}

function indexCohorts(byEntity: unknown, rulesById: ReadonlyMap<string, Rule>): Map<string, readonly CohortEntry[]> {
  const index = new Map<string, readonly CohortEntry[]>()
  if (!isRecord(byEntity)) return index
  for (const entityId of Object.keys(byEntity)) {
    const list = byEntity[entityId]
    if (!Array.isArray(list)) continue
    const entries: CohortEntry[] = []
    for (const item of list) {
      if (!isRecord(item) || typeof item.rules !== 'string') continue
      entries.push({ rule: rulesById.get(item.rules), values: isRecord(item.values) ? item.values : undefined })
    }
    if (entries.length > 0) index.set(entityId, entries)
  }
  return index
}

/** A header value as it can be sent, or undefined when it cannot be. */
function sendableHeaderValue(value: unknown): string | undefined {
  const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined
  return text !== undefined && HEADER_VALUE.test(text) ? text : undefined
}

function parseDocument(document: unknown, what: string): unknown {
  if (typeof document !== 'string') return document
  try {
    return JSON.parse(document) as unknown
  } catch {
    throw new GovernanceDocumentError(`the ${what} document is not JSON`)
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
