const UNIT_SECONDS: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86_400,
  day: 86_400,
  days: 86_400,
  w: 604_800,
  week: 604_800,
  weeks: 604_800,
  y: 31_557_600,
  yr: 31_557_600,
  yrs: 31_557_600,
  year: 31_557_600,
  years: 31_557_600
}

const DURATION = /^(\d{1,12})\s*([a-z]*)$/i

/**
 * Parse a duration such as `JWT_EXPIRES_IN`: a whole number of seconds
 * (`3600`) or a whole number with a unit (`30d`, `12h`, `15m`, `2 weeks`;
 * `y` is 365.25 days). Returns whole seconds, or `undefined` when unparseable.
 *
 * How this differs from the reference plugin, which hands the string to
 * jsonwebtoken (and so to the `ms` package):
 * - a bare number in a string (`"120"`) is 120 **seconds** here; jsonwebtoken
 *   reads it as 120 **milliseconds**, which would make keys that expire at
 *   once. A plain number is seconds in both.
 * - fractions (`1.5h`), negative values and millisecond units (`500ms`) are
 *   refused here; `ms` accepts them.
 * - every unit name `ms` knows for seconds and longer is accepted, in any case.
 *
 * @example
 * parseDurationSeconds('30d') // 2592000
 * parseDurationSeconds('120') // 120 (jsonwebtoken: 120 ms)
 * parseDurationSeconds('soon') // undefined
 */
export function parseDurationSeconds(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined
  const match = DURATION.exec(value.trim())
  if (match === null) return undefined
  const amount = Number(match[1])
  const unit = (match[2] ?? '').toLowerCase()
  const factor = unit === '' ? 1 : UNIT_SECONDS[unit]
  if (factor === undefined) return undefined
  const seconds = amount * factor
  return Number.isSafeInteger(seconds) ? seconds : undefined
}
