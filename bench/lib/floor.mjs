// The floor: the least a JavaScript verifier on this Node can do per token
// with node:crypto and a pre-built KeyObject. It splits the token, parses the
// header, checks the algorithm, verifies the signature (HMAC with
// timingSafeEqual, or crypto.verify), parses the payload and checks exp.
// No size, kid, claim or logging work: nothing a production verifier can skip
// below this.
import { createHmac, createPublicKey, createSecretKey, timingSafeEqual, verify } from 'node:crypto'

export function createFloorVerifier(alg, verifyKey) {
  const key = alg === 'HS256' ? createSecretKey(Buffer.from(verifyKey, 'utf8')) : createPublicKey(verifyKey)
  const keyOptions = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key
  const digest = alg === 'EdDSA' ? null : 'sha256'
  return (token, nowSeconds) => {
    const first = token.indexOf('.')
    const second = token.indexOf('.', first + 1)
    if (first < 0 || second < 0) return undefined
    const header = JSON.parse(Buffer.from(token.slice(0, first), 'base64url').toString('utf8'))
    if (header.alg !== alg) return undefined
    const signature = Buffer.from(token.slice(second + 1), 'base64url')
    const input = token.slice(0, second)
    let valid
    if (alg === 'HS256') {
      const expected = createHmac('sha256', key).update(input).digest()
      valid = expected.length === signature.length && timingSafeEqual(expected, signature)
    } else {
      valid = verify(digest, Buffer.from(input), keyOptions, signature)
    }
    if (!valid) return undefined
    const claims = JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString('utf8'))
    return typeof claims.exp === 'number' && claims.exp > nowSeconds ? claims : undefined
  }
}
