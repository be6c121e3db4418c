/**
 * The part of Stripe's search query language that customer search needs:
 * clauses `field:"value"` (exact) and `field~"value"` (substring, at least 3
 * characters) on `email`, `name`, `phone` and `metadata["key"]`, numeric
 * comparisons on `created` (`created>1767225600`), `-` to negate a clause,
 * and up to 10 clauses joined by `AND` or by `OR` (not both). Values are in
 * double or single quotes. String matching ignores case.
 */
import type { WireCustomer } from './wire'

type Operator = ':' | '~' | '>' | '<' | '>=' | '<='

/** One clause of a query. */
export interface SearchClause {
  negated: boolean
  /** `email`, `name`, `phone`, `created`, or `metadata` with `key`. */
  field: string
  key?: string
  operator: Operator
  /** `null` for `field:null` (the field is not set). */
  value: string | number | null
}

/** A parsed query: clauses joined by one connective. */
export interface SearchQuery {
  join: 'AND' | 'OR'
  clauses: SearchClause[]
}

/** The outcome of {@link parseCustomerSearchQuery}. */
export type ParsedSearchQuery = { ok: true; query: SearchQuery } | { ok: false; message: string }

const CLAUSE =
  /^\s*(-)?(metadata\[(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\]|[a-z_]+)\s*(>=|<=|:|~|>|<)\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(-?\d+)\b|(null)\b)/
const JOIN = /^\s+(AND|OR)\s+/
const STRING_FIELDS = new Set(['email', 'name', 'phone'])
const UNPARSABLE =
  'We were unable to parse your search query. Try using the format `metadata["key"]:"value"` to query for metadata or `key:"value"` to query for other fields.'

function unescape(value: string): string {
  return value.replace(/\\(.)/g, '$1')
}

/**
 * Parse a customer search query, or say why Stripe would refuse it.
 *
 * @example
 * parseCustomerSearchQuery('email:"alice@acme.test"') // { ok: true, query: { join: 'AND', clauses: [{ field: 'email', operator: ':', value: 'alice@acme.test', negated: false }] } }
 * parseCustomerSearchQuery("metadata['authUserId']:'auth0|alice' AND -email:null")
 */
export function parseCustomerSearchQuery(text: string): ParsedSearchQuery {
  const clauses: SearchClause[] = []
  const joins = new Set<'AND' | 'OR'>()
  let rest = text
  for (;;) {
    const match = CLAUSE.exec(rest)
    if (match === null) return { ok: false, message: UNPARSABLE }
    const [whole, negation, field, dqKey, sqKey, operator, dqValue, sqValue, numberValue, nullValue] = match
    const isMetadata = field?.startsWith('metadata[') ?? false
    const name = isMetadata ? 'metadata' : (field as string)
    if (!isMetadata && !STRING_FIELDS.has(name) && name !== 'created') {
      return {
        ok: false,
        message: `Field \`${name}\` is an unsupported search field for resource \`customers\`. See https://stripe.com/docs/search#query-fields-for-customers for a list of supported fields.`
      }
    }
    const stringValue = dqValue ?? sqValue
    const value =
      stringValue !== undefined ? unescape(stringValue) : numberValue !== undefined ? Number(numberValue) : nullValue !== undefined ? null : undefined
    if (value === undefined) return { ok: false, message: UNPARSABLE }
    const op = operator as Operator
    if (name === 'created' ? typeof value !== 'number' || op === '~' : typeof value === 'number' || !(op === ':' || op === '~')) {
      return { ok: false, message: `The operator \`${op}\` cannot be used with \`${name}\` and that value.` }
    }
    if (op === '~' && (typeof value !== 'string' || value.length < 3)) {
      return { ok: false, message: 'A substring search (`~`) needs a value of at least 3 characters.' }
    }
    const clause: SearchClause = { negated: negation === '-', field: name, operator: op, value }
    if (isMetadata) clause.key = unescape((dqKey ?? sqKey) as string)
    clauses.push(clause)
    rest = rest.slice(whole.length)
    if (rest.trim() === '') break
    const join = JOIN.exec(rest)
    if (join === null) return { ok: false, message: UNPARSABLE }
    joins.add(join[1] as 'AND' | 'OR')
    rest = rest.slice(join[0].length)
  }
  if (joins.size > 1) return { ok: false, message: 'Search queries cannot mix `AND` and `OR`; use one of them.' }
  if (clauses.length > 10) return { ok: false, message: 'Search queries may have at most 10 clauses.' }
  return { ok: true, query: { join: joins.has('OR') ? 'OR' : 'AND', clauses } }
}

function clauseMatches(clause: SearchClause, customer: WireCustomer): boolean {
  if (clause.field === 'created') {
    const created = customer.created
    const value = clause.value as number
    switch (clause.operator) {
      case '>':
        return created > value
      case '<':
        return created < value
      case '>=':
        return created >= value
      case '<=':
        return created <= value
      default:
        return created === value
    }
  }
  const actual =
    clause.field === 'metadata' ? customer.metadata[clause.key ?? ''] : (customer[clause.field as 'email' | 'name' | 'phone'] ?? undefined)
  if (clause.value === null) return actual === undefined || actual === null || actual === ''
  if (actual === undefined || actual === null) return false
  const have = actual.toLowerCase()
  const want = (clause.value as string).toLowerCase()
  return clause.operator === '~' ? have.includes(want) : have === want
}

/**
 * Whether `customer` is among the results of `query`.
 *
 * @example
 * customerMatches(query, customer) // true when every clause (AND) or one clause (OR) holds
 */
export function customerMatches(query: SearchQuery, customer: WireCustomer): boolean {
  const results = query.clauses.map((clause) => clauseMatches(clause, customer) !== clause.negated)
  return query.join === 'AND' ? results.every(Boolean) : results.some(Boolean)
}
