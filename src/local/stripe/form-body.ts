/**
 * Stripe's v1 API takes `application/x-www-form-urlencoded` parameters with
 * bracket notation, in the body of a POST and in the query of a GET or
 * DELETE: `metadata[authUserId]=x`, `line_items[0][price]=price_basic`,
 * `expand[0]=data.product` (the SDK numbers array items; `expand[]=` works too).
 */

/** One decoded parameter value: a string, a list or a nested object. */
export type FormValue = string | FormValue[] | FormParams

/** Decoded parameters (objects without a prototype, so no key is special). */
export interface FormParams {
  [key: string]: FormValue
}

/** The outcome of {@link parseStripeForm}: the parameters, or why they are malformed. */
export type ParsedForm = { ok: true; params: FormParams } | { ok: false; message: string; param: string }

const MAX_PAIRS = 2_000
const MAX_DEPTH = 8
const INDEX = /^(?:0|[1-9]\d{0,3})$/

function splitKey(key: string): string[] | undefined {
  const open = key.indexOf('[')
  if (open === -1) return key === '' ? undefined : [key]
  const segments = [key.slice(0, open)]
  let rest = key.slice(open)
  while (rest !== '') {
    const match = /^\[([^[\]]*)\]/.exec(rest)
    if (match === null) return undefined
    segments.push(match[1] ?? '')
    rest = rest.slice(match[0].length)
  }
  return segments[0] === '' ? undefined : segments
}

function emptyObject(): FormParams {
  return Object.create(null) as FormParams
}

/** Objects whose keys are all array indexes become arrays (in index order), except under `metadata`. */
function arrays(value: FormValue, underMetadata: boolean): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value
  const keys = Object.keys(value)
  const out = emptyObject()
  for (const key of keys) out[key] = arrays(value[key] as FormValue, key === 'metadata')
  if (underMetadata || keys.length === 0 || !keys.every((key) => INDEX.test(key))) return out
  return keys.sort((a, b) => Number(a) - Number(b)).map((key) => out[key] as FormValue)
}

/**
 * Decode Stripe-style form parameters. Numbered keys (`a[0]`, `a[1]`) and
 * `a[]` become lists; `metadata` keys stay keys even when they are numbers.
 * A key used both as a value and as an object is an error, as in Stripe.
 *
 * @example
 * parseStripeForm('metadata[authUserId]=auth0%7Calice&line_items[0][price]=price_basic&expand[]=customer')
 * // { ok: true, params: { metadata: { authUserId: 'auth0|alice' }, line_items: [{ price: 'price_basic' }], expand: ['customer'] } }
 */
export function parseStripeForm(text: string): ParsedForm {
  const root = emptyObject()
  const pushed = new Map<FormParams, number>()
  let pairs = 0
  for (const [key, value] of new URLSearchParams(text)) {
    if (++pairs > MAX_PAIRS) return { ok: false, message: `Too many parameters (more than ${MAX_PAIRS}).`, param: key }
    const segments = splitKey(key)
    if (segments === undefined || segments.length > MAX_DEPTH) return { ok: false, message: `Invalid parameter name: ${key}`, param: key }
    let node = root
    for (let i = 0; i < segments.length; i++) {
      let segment = segments[i] as string
      if (segment === '') {
        // `a[]`: the next free index of this list.
        const next = pushed.get(node) ?? 0
        pushed.set(node, next + 1)
        segment = String(next)
      }
      const last = i === segments.length - 1
      const existing = node[segment]
      if (last) {
        if (existing !== undefined && typeof existing !== 'string') {
          return { ok: false, message: `Invalid value for ${segments.slice(0, i + 1).join('.')}: a value and a hash at once`, param: key }
        }
        node[segment] = value
        break
      }
      if (existing === undefined) {
        const child = emptyObject()
        node[segment] = child
        node = child
      } else if (typeof existing === 'string' || Array.isArray(existing)) {
        return { ok: false, message: `Invalid value for ${segments.slice(0, i + 1).join('.')}: a value and a hash at once`, param: key }
      } else {
        node = existing
      }
    }
  }
  return { ok: true, params: arrays(root, false) as FormParams }
}
