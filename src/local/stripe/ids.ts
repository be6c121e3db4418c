import { randomBytes } from 'node:crypto'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/**
 * `length` random letters and digits (uniform: bytes of 248 or more are drawn again).
 *
 * @example
 * randomAlphanumeric(14) // 'NffrFeUfNV2Hib'
 */
export function randomAlphanumeric(length: number): string {
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= 248) continue
      out += ALPHABET[byte % ALPHABET.length]
      if (out.length === length) break
    }
  }
  return out
}

/** The id families the stand-in mints, with the length of their random part as Stripe's ids have it. */
const SHAPES = {
  customer: ['cus_', 14],
  subscription: ['sub_', 24],
  subscriptionItem: ['si_', 14],
  checkoutSession: ['cs_test_', 58],
  event: ['evt_', 24],
  request: ['req_', 14],
  apiKey: ['sk_test_', 99],
  webhookSecret: ['whsec_', 32]
} as const satisfies Record<string, readonly [string, number]>

/** Which kind of id {@link stripeId} mints. */
export type StripeIdKind = keyof typeof SHAPES

/**
 * A fresh id that looks like Stripe's: `cus_` + 14 letters and digits, `sub_` + 24, `cs_test_` + 58, ...
 *
 * @example
 * stripeId('customer') // 'cus_NffrFeUfNV2Hib'
 * stripeId('checkoutSession') // 'cs_test_a1B2...'
 */
export function stripeId(kind: StripeIdKind): string {
  const [prefix, length] = SHAPES[kind]
  return prefix + randomAlphanumeric(length)
}
