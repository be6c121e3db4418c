/**
 * Whether a URL points at this machine's loopback interface: the one place
 * plain http is allowed (local stand-ins, tests).
 *
 * @example
 * isLoopbackUrl(new URL('http://127.0.0.1:3000/')) // true
 */
export function isLoopbackUrl(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]'
}
