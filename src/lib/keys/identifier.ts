/** Longest user or company id accepted from a token. */
export const MAX_ID_LENGTH = 256

/**
 * C0 and C1 control characters, and the Unicode line and paragraph
 * separators: an id holding one could forge a line in a log or a terminal
 * (a fake "[local] moesif event:" line, say).
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

/**
 * Whether a claim value can serve as a user or company id: a non-empty string
 * of at most {@link MAX_ID_LENGTH} characters, with no control characters.
 *
 * @example
 * isIdentifier('auth0|alice') // true
 * isIdentifier('') // false
 * isIdentifier('acme\n[local] moesif event: forged') // false
 */
export function isIdentifier(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH && !CONTROL.test(value)
}
