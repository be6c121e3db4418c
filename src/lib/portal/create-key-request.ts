import type { APIGatewayProxyEventV2 } from 'aws-lambda'
import { parseDurationSeconds } from '../runtime/duration'
import { HttpError } from '../runtime/errors'

/** The optional body of `POST /create-key`. Identity never comes from here. */
export interface CreateKeyRequest {
  readonly name: string | undefined
  /**
   * Accepted and validated, never used: the Moesif portal's Keys page sends
   * `{ email }`, so refusing it would break the real frontend. Who the key is
   * for comes from the verified ID token only, never from the body.
   */
  readonly email: string | undefined
  /** Requested lifetime in seconds; it can only shorten the configured one. */
  readonly expiresInSeconds: number | undefined
}

const MAX_BODY_BYTES = 4096
const ALLOWED_FIELDS = new Set(['name', 'email', 'expiresIn'])

function badBody(message: string): HttpError {
  return new HttpError(400, 'ERR_BAD_BODY', message)
}

function optionalString(body: Record<string, unknown>, field: string, max: number): string | undefined {
  const value = body[field]
  if (value === undefined || value === null) return undefined
  // Control characters have no place in a key name or an address, and would garble logs and the portal.
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value.length > max || /[\u0000-\u001f\u007f]/.test(value)) {
    throw badBody(`${field} must be a string of at most ${max} printable characters`)
  }
  return value.trim() === '' ? undefined : value.trim()
}

/**
 * Parse and validate the body of `POST /create-key`: empty, or a JSON object
 * `{ name?, email?, expiresIn? }` of at most 4 KB, where `expiresIn` is a
 * number of seconds or a duration such as `7d`. Anything else is a 400.
 *
 * @example
 * parseCreateKeyRequest({ body: '{"name":"ci","expiresIn":"7d"}' } as APIGatewayProxyEventV2)
 */
export function parseCreateKeyRequest(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): CreateKeyRequest {
  if (event.body === undefined || event.body === null || event.body === '') return { name: undefined, email: undefined, expiresInSeconds: undefined }
  // Refuse oversized bodies before decoding them: base64 is 4 characters per 3 bytes.
  if (event.isBase64Encoded && event.body.length > Math.ceil(MAX_BODY_BYTES / 3) * 4 + 4) {
    throw new HttpError(413, 'ERR_BODY_TOO_LARGE', `Body must be at most ${MAX_BODY_BYTES} bytes`)
  }
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES) throw new HttpError(413, 'ERR_BODY_TOO_LARGE', `Body must be at most ${MAX_BODY_BYTES} bytes`)
  if (raw.trim() === '') return { name: undefined, email: undefined, expiresInSeconds: undefined }

  let body: unknown
  try {
    body = JSON.parse(raw)
  } catch {
    throw badBody('Body must be JSON')
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badBody('Body must be a JSON object')
  const record = body as Record<string, unknown>
  for (const field of Object.keys(record)) {
    if (!ALLOWED_FIELDS.has(field)) throw badBody(`Unknown field ${JSON.stringify(field.slice(0, 40))}; allowed: name, email, expiresIn`)
  }

  let expiresInSeconds: number | undefined
  const expiresIn = record.expiresIn
  if (expiresIn !== undefined && expiresIn !== null) {
    expiresInSeconds = typeof expiresIn === 'number' || typeof expiresIn === 'string' ? parseDurationSeconds(expiresIn) : undefined
    if (expiresInSeconds === undefined || expiresInSeconds < 1) {
      throw badBody('expiresIn must be a positive number of seconds or a duration such as 7d, 12h or 15m')
    }
  }
  return { name: optionalString(record, 'name', 100), email: optionalString(record, 'email', 320), expiresInSeconds }
}
