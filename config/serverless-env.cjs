// Resolved by serverless.yml at package/offline time. Kept in JS because the
// framework's variable syntax cannot split a comma-separated list.
'use strict'

const DEFAULT_ORIGINS = 'http://127.0.0.1:4000'

/**
 * A setting as the functions read it: the plain name, then the reference
 * plugin's PLUGIN_ name, with an empty value counting as unset, as at run time.
 */
function setting(name) {
  for (const candidate of [name, `PLUGIN_${name}`]) {
    const value = (process.env[candidate] || '').trim()
    if (value !== '') return value
  }
  return ''
}

module.exports.jwtAlgorithm = () => setting('JWT_ALGORITHM') || 'HS256'

// JWT_VERIFY_KEY is packaged into the template: a public key only.
module.exports.jwtVerifyKey = () => {
  const value = setting('JWT_VERIFY_KEY')
  if (/PRIVATE KEY-----/.test(value)) {
    throw new Error('JWT_VERIFY_KEY holds a private key. It is packaged into the template, so give it the public key only (openssl pkey -pubout).')
  }
  return value
}
module.exports.jwtSecretSsmParameter = () => setting('JWT_SECRET_SSM_PARAMETER')
module.exports.jwtVerifyKeySsmParameter = () => setting('JWT_VERIFY_KEY_SSM_PARAMETER')
module.exports.jwtSecretArn = () => setting('JWT_SECRET_ARN')

// API Gateway caches an authorizer answer per key for this long; 0 to 3600 s.
module.exports.authorizerCacheTtl = () => {
  const raw = (process.env.AUTHORIZER_CACHE_TTL || '').trim()
  if (raw === '') return 30
  const seconds = Number(raw)
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 3600) {
    throw new Error('AUTHORIZER_CACHE_TTL must be a whole number of seconds from 0 to 3600')
  }
  return seconds
}

// The browser origins API Gateway's CORS allows. Checked here, at package time:
// a value such as https://portal.example.com/ (a URL, not an origin) would never match.
module.exports.portalOrigins = () => {
  const origins = (process.env.PORTAL_ORIGINS || DEFAULT_ORIGINS)
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean)
  for (const origin of origins) {
    let parsed
    try {
      parsed = new URL(origin)
    } catch {
      parsed = undefined
    }
    if (parsed === undefined || parsed.origin !== origin) {
      throw new Error(
        `PORTAL_ORIGINS must be a comma-separated list of origins such as https://portal.example.com (scheme, host and port only); got an entry that is not one`
      )
    }
  }
  return origins
}

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

const keyTableArn = { 'Fn::GetAtt': ['KeysTable', 'Arn'] }

function ssmParameterArn(name) {
  if (name.startsWith('arn:')) return name
  // SSM ARNs have no double slash: /a/b becomes parameter/a/b.
  return { 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/${name.replace(/^\//, '')}` }
}

function secretArn(value) {
  if (value.startsWith('arn:')) return value
  // A name: Secrets Manager appends a random 6-character suffix to the ARN.
  return { 'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${value}-??????` }
}

// The role's statements: the key table and its index, plus read access to
// exactly the configured SSM parameter(s) or secret, and nothing else.
module.exports.iamStatements = () => {
  const statements = [
    {
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
      Resource: [keyTableArn, { 'Fn::Join': ['/', [keyTableArn, 'index', '*']] }]
    }
  ]
  const parameters = [setting('JWT_SECRET_SSM_PARAMETER'), setting('JWT_VERIFY_KEY_SSM_PARAMETER')].filter(Boolean)
  if (parameters.length > 0) statements.push({ Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: parameters.map(ssmParameterArn) })
  if (setting('JWT_SECRET_ARN')) {
    statements.push({ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [secretArn(setting('JWT_SECRET_ARN'))] })
  }
  return statements
}
