/**
 * Text the local tools print for people (the `[local]` lines of `npm start`,
 * portal-token's and the load test's messages) often carries values someone
 * else chose: a company id from an ID token, a path, an error message. A
 * newline in one would start a line that looks like the tool's own (a fake
 * `[local] moesif event:`), an ESC could recolour or erase the terminal, and a
 * bidirectional override could reorder what is shown. {@link printable} makes
 * such a value one visible line.
 */

/**
 * Control characters (C0, DEL, C1), format characters (bidi overrides and
 * isolates, zero-width characters, the BOM, soft hyphen), line and paragraph
 * separators, lone surrogates, private-use and unassigned code points.
 */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/gu

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function escape(character: string): string {
  const short = SHORT_ESCAPES[character]
  if (short !== undefined) return short
  const code = character.codePointAt(0) ?? 0
  if (code <= 0xff) return `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`
  if (code <= 0xffff) return `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`
  return `\\u{${code.toString(16).toUpperCase()}}`
}

/**
 * `value` as one line of visible text: every non-printable character is
 * written as an escape (`\n`, `\r`, `\t`, `\x1B`, `\u202E`, `\u{E0041}`);
 * everything else, backslashes included, is left as it is. A value that is
 * not a string is converted with `String()` first.
 *
 * @example
 * printable('acme\n[local] moesif event: fake') // 'acme\\n[local] moesif event: fake'
 */
export function printable(value: unknown): string {
  return String(value).replace(NON_PRINTABLE, escape)
}
