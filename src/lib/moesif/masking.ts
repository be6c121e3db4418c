/**
 * What Moesif may see of a call: moesif-aws-lambda sends every header and body
 * as is, so credentials and cookies are always masked here, and body fields
 * listed in `MOESIF_MASK_FIELDS` too.
 */
import type { MoesifEventData } from 'moesif-aws-lambda'
import { BODY_NOT_LOGGED, bodyNotLoggedMarker, withBodiesNotLogged, type BodiesNotLogged, type BodyPart } from './bodies'
import type { MoesifSettings } from './settings'

/** What a masked value is replaced with. */
export const MOESIF_MASK = '*****'

/** Headers that carry credentials or sessions; masked whatever the settings say. */
const ALWAYS_MASKED_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'])

/** Deeper JSON than this is masked wholesale rather than walked. */
const MAX_MASK_DEPTH = 64

/**
 * The `maskContent` hook: returns a copy of the event with credential headers
 * (`Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`,
 * `X-Api-Key`, any case) masked in request and response, bodies removed unless
 * `logBody`, and `maskFields` masked at any depth in JSON bodies. A body that
 * is not JSON cannot be field-masked, so when `maskFields` is not empty it is
 * replaced by the "[body not logged: ...]" marker and
 * `metadata.body_not_logged` says why (see `./bodies`). Keys such as
 * `__proto__` are copied as data. Never mutates its input.
 *
 * @example
 * const masked = maskMoesifEvent(eventData, { logBody: true, maskFields: ['password'] })
 * masked.request.headers.authorization // '*****'
 */
export function maskMoesifEvent(eventData: MoesifEventData, options: Pick<MoesifSettings, 'logBody' | 'maskFields'>): MoesifEventData {
  const fields = new Set(options.maskFields.map((field) => field.toLowerCase()))
  const notLogged: BodiesNotLogged = {}
  const request = maskPart(eventData.request, options.logBody, fields, notLogged, 'request')
  const response = maskPart(eventData.response, options.logBody, fields, notLogged, 'response')
  const metadata = withBodiesNotLogged(eventData.metadata, notLogged)
  return { ...eventData, request, response, ...(metadata === eventData.metadata ? {} : { metadata }) }
}

interface EventPart {
  headers: Record<string, unknown>
  body?: unknown
  transferEncoding?: 'base64' | undefined
}

function maskPart<T extends EventPart>(part: T, logBody: boolean, fields: ReadonlySet<string>, notLogged: BodiesNotLogged, which: BodyPart): T {
  const { body, transferEncoding, ...rest } = part
  const masked = { ...rest, headers: maskHeaders(part.headers) } as T
  if (!logBody || body === undefined || body === null) return masked
  const maskedBody = maskBody(body, transferEncoding, fields)
  if (maskedBody !== undefined) return { ...masked, ...maskedBody }
  notLogged[which] = BODY_NOT_LOGGED.notMaskable
  return { ...masked, body: bodyNotLoggedMarker(BODY_NOT_LOGGED.notMaskable) }
}

function maskHeaders(headers: unknown): Record<string, unknown> {
  if (typeof headers !== 'object' || headers === null) return {}
  // fromEntries defines properties, so a `__proto__` header stays a header.
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, ALWAYS_MASKED_HEADERS.has(name.toLowerCase()) ? MOESIF_MASK : value])
  )
}

function maskBody(
  body: unknown,
  transferEncoding: 'base64' | undefined,
  fields: ReadonlySet<string>
): Pick<EventPart, 'body' | 'transferEncoding'> | undefined {
  if (fields.size === 0) return { body, transferEncoding }
  if (transferEncoding !== 'base64') return { body: maskFieldsDeep(body, fields, 0) }
  // The library base64-encodes bodies it could not parse, and bodies API
  // Gateway delivered base64-encoded; the latter may still be JSON.
  if (typeof body !== 'string') return undefined
  try {
    return { body: maskFieldsDeep(JSON.parse(Buffer.from(body, 'base64').toString('utf8')), fields, 0) }
  } catch {
    return undefined
  }
}

function maskFieldsDeep(value: unknown, fields: ReadonlySet<string>, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (depth >= MAX_MASK_DEPTH) return MOESIF_MASK
  if (Array.isArray(value)) return value.map((item) => maskFieldsDeep(item, fields, depth + 1))
  // fromEntries defines properties: assigning out['__proto__'] would set the prototype and lose the key.
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, fields.has(key.toLowerCase()) ? MOESIF_MASK : maskFieldsDeep(item, fields, depth + 1)])
  )
}
