// The floor verifier as an HTTP API authorizer handler, for the cold-start
// comparison: the least any node:crypto authorizer can load and run.
import { createFloorVerifier } from './floor.mjs'

const verifyToken = createFloorVerifier(process.env.JWT_ALGORITHM, process.env.JWT_VERIFY_KEY)

export const handler = async (event) => {
  const authorization = event.headers?.authorization ?? ''
  const claims = authorization.startsWith('Bearer ') ? verifyToken(authorization.slice(7), Date.now() / 1000) : undefined
  return claims === undefined
    ? { isAuthorized: false }
    : { isAuthorized: true, context: { orgId: claims.org_id, userId: claims.sub, keyId: claims.jti } }
}
