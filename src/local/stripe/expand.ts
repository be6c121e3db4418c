/**
 * Stripe's `expand[]` parameter: each path (`customer`, `data.product`,
 * `items.data.price.product`) names a field holding an id that the answer
 * should carry as the full object instead, or an "includable" field that is
 * left out unless asked for (a price's `tiers`). A list's items are under `data`.
 */
import { fail, invalidRequest, ok, type StripeResult } from './errors'

/**
 * Look up what `owner[field]` expands to: `{ value }` (the object behind the
 * id it holds, or the includable value), `'leave'` to leave the field as it
 * is (an includable field this object does not have), or `undefined` when
 * the field cannot be expanded.
 */
export type ExpandResolver = (owner: Record<string, unknown>, field: string) => { value: unknown } | 'leave' | undefined

const MAX_LEVELS = 4

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function expandAt(node: unknown, segments: readonly string[], path: string, resolve: ExpandResolver): StripeResult<void> {
  if (Array.isArray(node)) {
    for (const item of node) {
      const result = expandAt(item, segments, path, resolve)
      if (!result.ok) return result
    }
    return ok(undefined)
  }
  if (!isRecord(node)) return ok(undefined)
  const [field, ...rest] = segments as [string, ...string[]]
  if (rest.length > 0) return expandAt(node[field], rest, path, resolve)
  const current = node[field]
  if (current === null || isRecord(current)) return ok(undefined)
  const expanded = resolve(node, field)
  if (expanded === undefined) return fail(invalidRequest(`This property cannot be expanded (${path}).`, 'expand'))
  if (expanded !== 'leave') node[field] = structuredClone(expanded.value)
  return ok(undefined)
}

/**
 * Expand `paths` in `root` in place (clone it first if it is stored state).
 * A path that names no expandable field is Stripe's 400 "This property cannot
 * be expanded"; a field that is null stays null.
 *
 * @example
 * const answer = structuredClone(session)
 * const result = applyExpand(answer, ['customer', 'subscription'], resolver)
 * if (!result.ok) return result
 */
export function applyExpand(root: Record<string, unknown>, paths: readonly string[], resolve: ExpandResolver): StripeResult<void> {
  for (const path of paths) {
    const segments = path.split('.')
    if (segments.some((segment) => segment === '') || segments.filter((segment) => segment !== 'data').length > MAX_LEVELS) {
      return fail(invalidRequest(`You cannot expand more than ${MAX_LEVELS} levels of a property (${path}), nor an empty one.`, 'expand'))
    }
    const result = expandAt(root, segments, path, resolve)
    if (!result.ok) return result
  }
  return ok(undefined)
}
