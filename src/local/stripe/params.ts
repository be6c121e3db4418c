/**
 * Reading typed parameters out of decoded form parameters, with the 400s
 * Stripe answers for a wrong type: a string where a hash was expected, an
 * integer that is not one, a `limit` out of 1..100.
 */
import { fail, invalidRequest, ok, type StripeResult } from './errors'
import type { FormParams, FormValue } from './form-body'

/**
 * The string parameter `name` (`undefined` when absent; an empty string counts as absent, as Stripe unsets with it).
 *
 * @example
 * const email = stringParam(params, 'email')
 * if (!email.ok) return email
 */
export function stringParam(params: FormParams, name: string, label: string = name): StripeResult<string | undefined> {
  const value = params[name]
  if (value === undefined || value === '') return ok(undefined)
  if (typeof value !== 'string') return fail(invalidRequest(`Invalid string: ${label} must be a string, not a hash or list.`, label))
  return ok(value)
}

/**
 * The integer parameter `name`, within `min`..`max`.
 *
 * @example
 * integerParam(params, 'limit', 1, 100) // ok(undefined) when absent
 */
export function integerParam(params: FormParams, name: string, min: number, max: number, label: string = name): StripeResult<number | undefined> {
  const value = params[name]
  if (value === undefined || value === '') return ok(undefined)
  if (typeof value !== 'string' || !/^-?\d+$/.test(value))
    return fail(invalidRequest(`Invalid integer: ${typeof value === 'string' ? value : '(hash)'}`, label, 'parameter_invalid_integer'))
  const number = Number(value)
  if (number < min) return fail(invalidRequest(`This value must be greater than or equal to ${min}.`, label, 'parameter_invalid_integer'))
  if (number > max) return fail(invalidRequest(`This value must be less than or equal to ${max}.`, label, 'parameter_invalid_integer'))
  return ok(number)
}

/**
 * The boolean parameter `name` (`true` / `false`).
 *
 * @example
 * booleanParam(params, 'active') // ok(true) for active=true
 */
export function booleanParam(params: FormParams, name: string): StripeResult<boolean | undefined> {
  const value = params[name]
  if (value === undefined || value === '') return ok(undefined)
  if (value === 'true') return ok(true)
  if (value === 'false') return ok(false)
  return fail(invalidRequest(`Invalid boolean: ${typeof value === 'string' ? value : '(hash)'}`, name))
}

/**
 * `metadata[...]`: string keys to string values (at most 50, keys up to 40 and values up to 500 characters, as Stripe allows).
 * An empty value means "remove this key" on an update; callers decide.
 *
 * @example
 * metadataParam(params) // ok({ authUserId: 'auth0|alice' })
 */
export function metadataParam(params: FormParams, name: string = 'metadata'): StripeResult<Record<string, string> | undefined> {
  const value = params[name]
  if (value === undefined || value === '') return ok(undefined)
  if (typeof value === 'string' || Array.isArray(value)) return fail(invalidRequest(`Invalid hash: ${name} must be a hash of keys to strings.`, name))
  const out: Record<string, string> = {}
  const keys = Object.keys(value)
  if (keys.length > 50) return fail(invalidRequest('Metadata can have at most 50 keys.', name))
  for (const key of keys) {
    const entry = value[key] as FormValue
    if (typeof entry !== 'string') return fail(invalidRequest(`Invalid value for ${name}[${key}]: must be a string.`, `${name}[${key}]`))
    if (key.length > 40) return fail(invalidRequest('Metadata keys can be at most 40 characters long.', `${name}[${key}]`))
    if (entry.length > 500) return fail(invalidRequest('Metadata values can be at most 500 characters long.', `${name}[${key}]`))
    out[key] = entry
  }
  return ok(out)
}

/**
 * `expand[]`: the paths to expand (an empty list when absent).
 *
 * @example
 * expandParam(params) // ok(['data.product'])
 */
export function expandParam(params: FormParams): StripeResult<string[]> {
  const value = params.expand
  if (value === undefined || value === '') return ok([])
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined
  if (list === undefined || list.some((item) => typeof item !== 'string'))
    return fail(invalidRequest('Invalid array: expand must be a list of strings.', 'expand'))
  return ok(list as string[])
}

/**
 * A list of hashes such as `line_items[0][price]`, `line_items[1][price]`.
 *
 * @example
 * hashListParam(params, 'line_items') // ok([{ price: 'price_basic', quantity: '1' }])
 */
export function hashListParam(params: FormParams, name: string): StripeResult<FormParams[] | undefined> {
  const value = params[name]
  if (value === undefined || value === '') return ok(undefined)
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'object' || Array.isArray(item))) {
    return fail(invalidRequest(`Invalid array: ${name} must be a list of hashes (${name}[0][...]).`, name))
  }
  return ok(value as FormParams[])
}
