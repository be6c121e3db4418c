// What the revocation probe (bench/revocation-child.mjs) loads: the authorizer's own decision code
// and revocation check, bundled by bench/lib/prepare.mjs exactly like the authorizer.
export { authorizeApiKey } from '../../src/lib/authorizer/authorize-api-key'
export { revocationCheckFromEnv } from '../../src/lib/authorizer/revocation-check'
export { loadApiKeyConfig } from '../../src/lib/keys/api-key-config'
export { Logger } from '../../src/lib/runtime/logger'
