// Resolved by serverless.yml at package/offline time. Kept in JS because the
// framework's variable syntax cannot split a comma-separated list.
'use strict'

const DEFAULT_ORIGINS = 'http://127.0.0.1:4000'

module.exports.portalOrigins = () =>
  (process.env.PORTAL_ORIGINS || DEFAULT_ORIGINS)
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean)
