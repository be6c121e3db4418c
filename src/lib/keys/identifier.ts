/** Longest user or company id accepted from a token. */
export const MAX_ID_LENGTH = 256

/**
 * Whether a claim value can serve as a user or company id: a non-empty string
 * of at most {@link MAX_ID_LENGTH} characters.
 *
 * @example
 * isIdentifier('auth0|alice') // true
 * isIdentifier('') // false
 */
export function isIdentifier(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH
}
