// Resolved by serverless.yml at package/offline time. Kept in JS because the
// framework's variable syntax cannot split a comma-separated list.
'use strict'

const DEFAULT_ORIGINS = 'http://127.0.0.1:4000'

module.exports.portalOrigins = () =>
  (process.env.PORTAL_ORIGINS || DEFAULT_ORIGINS)
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean)

// JWT_PREVIOUS_KEYS is baked into the template at package time. Public JWKs
// may travel that way; an HMAC ("oct") key is a secret and must not, so
// packaging a deployed stage with one fails here rather than leak it.
module.exports.previousKeysForDeploy = () => {
  const value = process.env.JWT_PREVIOUS_KEYS || process.env.PLUGIN_JWT_PREVIOUS_KEYS || ''
  if (/"kty"\s*:\s*"oct"/.test(value) || /"(d|p|q|dp|dq|qi|k)"\s*:/.test(value)) {
    throw new Error(
      'JWT_PREVIOUS_KEYS holds secret key material (an "oct" key or private members). ' +
        'Only public JWKs may be packaged into a deployed stage; rotate HMAC secrets by moving to an asymmetric algorithm, or keep the old secret out of the template.'
    )
  }
  return value
}
