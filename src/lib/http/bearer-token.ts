/**
 * Find a header case-insensitively. API Gateway lowercases header names for
 * payload 2.0, but serverless-offline hands the authorizer the original case.
 *
 * @example
 * headerValue({ Authorization: 'Bearer x' }, 'authorization') // 'Bearer x'
 */
export function headerValue(headers: Readonly<Record<string, string | undefined>> | null | undefined, name: string): string | undefined {
  if (headers == null) return undefined
  const direct = headers[name]
  if (typeof direct === 'string') return direct
  const wanted = name.toLowerCase()
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted && typeof value === 'string') return value
  }
  return undefined
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i
const BARE = /^\S+$/

/**
 * Take the token out of an `Authorization` value: `Bearer <jwt>` or a bare
 * `<jwt>` (as the reference authorizer accepts). Returns `undefined` for an
 * empty value or any other scheme.
 *
 * @example
 * tokenFromAuthorization('Bearer eyJ...') // 'eyJ...'
 */
export function tokenFromAuthorization(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  const bearer = BEARER.exec(trimmed)
  if (bearer !== null) return bearer[1]
  // A bare scheme word ("Bearer" with nothing after it) is a missing token, not a token.
  return BARE.test(trimmed) && !/^bearer$/i.test(trimmed) ? trimmed : undefined
}
