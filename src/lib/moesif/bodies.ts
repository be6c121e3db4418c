/**
 * Which request and response bodies can be logged to Moesif safely, and what
 * replaces those that cannot.
 *
 * A body is the caller's (or the handler's) data, so it can be anything: JSON
 * nested thousands of levels deep (10 KB is enough to overflow any recursive
 * walk: JSON.stringify, structuredClone, moesifapi's cleanObject), megabytes
 * of text, invalid base64 flagged as base64. Every call must still produce its
 * event, so `withMoesif` screens both bodies before moesif-aws-lambda sees
 * them, and a body that fails is replaced by a marker string
 * (`"[body not logged: <reason>]"`) while `metadata.body_not_logged` says why,
 * per part: `{ request?: reason, response?: reason }`.
 *
 * What passes is bounded: at most {@link MOESIF_MAX_BODY_BYTES} bytes, JSON
 * nested at most {@link MOESIF_MAX_BODY_DEPTH} levels, base64 well formed.
 * Text that is not JSON, or not valid UTF-16 (lone surrogates), is fine: the
 * library sends non-JSON as base64, and JSON.stringify escapes lone surrogates.
 */

/** Largest body logged, in UTF-8 bytes of the body as received (base64 text for base64 bodies). */
export const MOESIF_MAX_BODY_BYTES = 64 * 1024

/** Deepest JSON nesting logged (objects and arrays); deeper bodies are replaced. Matches the masking walk's limit. */
export const MOESIF_MAX_BODY_DEPTH = 64

/** The two bodies of an event. */
export type BodyPart = 'request' | 'response'

/** Why each body was not logged, as sent in `metadata.body_not_logged`. */
export type BodiesNotLogged = Partial<Record<BodyPart, string>>

/** Reasons a body is not logged (the strings sent to Moesif). */
export const BODY_NOT_LOGGED = Object.freeze({
  tooLarge: `larger than ${MOESIF_MAX_BODY_BYTES} bytes`,
  tooDeep: `JSON nested deeper than ${MOESIF_MAX_BODY_DEPTH} levels`,
  invalidBase64: 'flagged base64 but not valid base64',
  notString: 'not a string',
  notMaskable: 'not JSON, so MOESIF_MASK_FIELDS cannot be applied',
  unserializable: 'event could not be serialized with it',
  noLibraryEvent: 'event built without moesif-aws-lambda, which failed'
})

/** What a body that is not logged is replaced with. */
export function bodyNotLoggedMarker(reason: string): string {
  return `[body not logged: ${reason}]`
}

/** A body as moesif-aws-lambda will read it: the original when it is safe, the marker (as JSON text) when not. */
export interface ScreenedBody {
  body: string | undefined
  isBase64Encoded: boolean
  /** Set when the body was replaced. */
  notLogged?: string
}

/**
 * Screen a Lambda event's or result's `body` (with its `isBase64Encoded`) for
 * moesif-aws-lambda. A replaced body is the marker as a JSON string, which the
 * library parses back into the marker. O(length), no parsing, no recursion.
 *
 * @example
 * screenBody('['.repeat(5000) + ']'.repeat(5000), false)
 * // { body: '"[body not logged: JSON nested deeper than 64 levels]"', isBase64Encoded: false, notLogged: 'JSON nested deeper than 64 levels' }
 */
export function screenBody(body: unknown, isBase64Encoded: unknown): ScreenedBody {
  if (body === undefined || body === null || body === '') return { body: undefined, isBase64Encoded: false }
  const reason = unloggableReason(body, isBase64Encoded === true)
  if (reason === undefined) return { body: body as string, isBase64Encoded: isBase64Encoded === true }
  return { body: JSON.stringify(bodyNotLoggedMarker(reason)), isBase64Encoded: false, notLogged: reason }
}

function unloggableReason(body: unknown, isBase64Encoded: boolean): string | undefined {
  if (typeof body !== 'string') return BODY_NOT_LOGGED.notString
  // UTF-8 never takes fewer bytes than UTF-16 code units, so the length check spares counting huge bodies.
  if (body.length > MOESIF_MAX_BODY_BYTES || Buffer.byteLength(body) > MOESIF_MAX_BODY_BYTES) return BODY_NOT_LOGGED.tooLarge
  if (isBase64Encoded) return isBase64(body) ? undefined : BODY_NOT_LOGGED.invalidBase64
  return nestingExceeds(body, MOESIF_MAX_BODY_DEPTH) ? BODY_NOT_LOGGED.tooDeep : undefined
}

/** Standard, padded base64 (what API Gateway and Moesif use). */
function isBase64(text: string): boolean {
  return text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text)
}

/**
 * Whether `text`, read as JSON, nests objects and arrays deeper than `limit`.
 * Brackets inside strings do not count. Text that is not JSON may be reported
 * too deep; that only costs its body.
 */
export function nestingExceeds(text: string, limit: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c /* \ */) i++
      else if (c === 0x22 /* " */) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > limit) return true
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--
    }
  }
  return false
}

/**
 * `metadata` with `body_not_logged` extended by `reasons` (a copy; the input is
 * not mutated). Returns `metadata` itself when there is nothing to add.
 */
export function withBodiesNotLogged(metadata: Record<string, unknown> | undefined, reasons: BodiesNotLogged): Record<string, unknown> | undefined {
  if (reasons.request === undefined && reasons.response === undefined) return metadata
  const existing = metadata?.body_not_logged
  const merged = { ...(typeof existing === 'object' && existing !== null ? existing : {}), ...reasons }
  return { ...metadata, body_not_logged: merged }
}
