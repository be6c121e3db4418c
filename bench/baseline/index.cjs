/* eslint-disable @typescript-eslint/no-require-imports -- a faithful copy of a CommonJS reference */
// The reference: the Moesif Developer Portal's AWS Lambda authorizer
// (github.com/Moesif/moesif-developer-portal, resources/aws-authorizer/index.js),
// reproduced for the bench with jsonwebtoken@8.5.1 as its package pins.
//
// Kept as the reference has it, on purpose:
// - a callback handler `(event, context, callback)` for a REST API TOKEN
//   authorizer; `event.authorizationToken` goes to `jwt.verify` as is, so a
//   "Bearer " prefix is NOT stripped (such a call is denied as malformed):
//   clients of the reference send the bare token;
// - `process.env.JWT_VERIFY_KEY` read on every call and handed to
//   `jwt.verify` as a string (the HS256 secret or the RS256 public PEM), with
//   `algorithms: ["RS256", "HS256"]`;
// - `principalId = decoded.org_id`, an Allow policy for `event.methodArn`;
//   `callback("Unauthorized")` on any failure;
// - the token and the principal are logged on every call (console.log).
//
// Left out: `require("dotenv").config()` (there is no .env in a Lambda) and
// the `jwks-rsa` client (used only when JWT_VERIFY_KEY is unset; not installed
// here). Both would only add to the reference's size and cold start, so their
// absence favours the baseline.
const jwt = require('jsonwebtoken')

module.exports.handler = function (event, _context, callback) {
  const token = event.authorizationToken
  const secret = process.env.JWT_VERIFY_KEY

  console.log(token)

  jwt.verify(token, secret, { algorithms: ['RS256', 'HS256'] }, function (err, decoded) {
    if (err) {
      callback('Unauthorized')
      console.log('Unauthorized')
    } else {
      callback(null, generatePolicy(decoded.org_id, 'Allow', event.methodArn))
    }
  })
}

function generatePolicy(principalId, effect, resource) {
  const authResponse = {}
  console.log(principalId)

  authResponse.principalId = principalId
  if (effect && resource) {
    const policyDocument = {}
    policyDocument.Version = '2012-10-17'
    policyDocument.Statement = []
    const statementOne = {}
    statementOne.Action = 'execute-api:Invoke'
    statementOne.Effect = effect
    statementOne.Resource = resource
    policyDocument.Statement[0] = statementOne
    authResponse.policyDocument = policyDocument
  }

  return authResponse
}
