// Small statistics helpers. Every figure the bench reports is a median or a
// quantile over interleaved rounds, never a single timing.

/** The q-quantile (0..1) of numbers, by linear interpolation; NaN when empty. */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN
  const sorted = Float64Array.from(values).sort()
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo)
}

export const median = (values) => quantile(values, 0.5)

/** Deterministic PRNG (mulberry32), so a run's case order can be reproduced. */
export function seededRandom(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A shuffled copy (Fisher-Yates). */
export function shuffled(items, random) {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

/** Round to a number of significant-looking decimals for tables and JSON. */
export function round(value, decimals = 1) {
  if (!Number.isFinite(value)) return null
  const f = 10 ** decimals
  return Math.round(value * f) / f
}
