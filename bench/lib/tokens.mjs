// Keys, tokens and Lambda events for the bench. Keys are generated fresh on
// every run (never fixture secrets); tokens carry the claims our issuer sets.
import { createHmac, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto'

export const ALGORITHMS = ['HS256', 'RS256', 'ES256', 'EdDSA']
/** What the reference (jsonwebtoken with algorithms ["RS256","HS256"]) can verify at all. */
export const BASELINE_ALGORITHMS = new Set(['HS256', 'RS256'])
export const KID = 'bench-2026-11'

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

/** Key material for an algorithm: what our authorizer and the baseline are configured with. */
export function generateKeyMaterial(alg) {
  if (alg === 'HS256') {
    const secret = randomBytes(48).toString('base64url') // 64 characters, above the 32-byte minimum
    return { alg, secret, verifyKey: secret }
  }
  const [type, options] = {
    RS256: ['rsa', { modulusLength: 2048 }],
    ES256: ['ec', { namedCurve: 'P-256' }],
    EdDSA: ['ed25519', {}]
  }[alg]
  const { privateKey, publicKey } = generateKeyPairSync(type, {
    ...options,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' }
  })
  return { alg, privateKey, verifyKey: publicKey }
}

/** A compact JWS, signed with node:crypto. */
export function signToken(material, claims) {
  const input = `${b64url({ alg: material.alg, typ: 'JWT', kid: KID })}.${b64url(claims)}`
  let signature
  switch (material.alg) {
    case 'HS256':
      signature = createHmac('sha256', material.secret).update(input).digest()
      break
    case 'RS256':
      signature = sign('sha256', Buffer.from(input), material.privateKey)
      break
    case 'ES256':
      signature = sign('sha256', Buffer.from(input), { key: material.privateKey, dsaEncoding: 'ieee-p1363' })
      break
    case 'EdDSA':
      signature = sign(null, Buffer.from(input), material.privateKey)
      break
    default:
      throw new TypeError(`unsupported algorithm ${material.alg}`)
  }
  return `${input}.${signature.toString('base64url')}`
}

/** Claims as our issuer writes them: user, company, key id, issued and expiry. */
export function apiKeyClaims(i, nowSeconds) {
  return { sub: `auth0|bench-user-${i % 997}`, org_id: `org-${i % 53}`, jti: randomUUID(), iat: nowSeconds - 60, exp: nowSeconds + 30 * 86_400 }
}

/** The same token with one signature byte changed: well formed, bad signature. */
export function tamperSignature(token) {
  const dot = token.lastIndexOf('.')
  const signature = Buffer.from(token.slice(dot + 1), 'base64url')
  signature[signature.length >> 1] ^= 0x01
  return `${token.slice(0, dot + 1)}${signature.toString('base64url')}`
}

const ACCOUNT_ID = '123456789012'
const API_ID = 'r3pmxmplak'
const REGION = 'us-east-1'
const DOMAIN = `${API_ID}.execute-api.${REGION}.amazonaws.com`
export const METHOD_ARN = `arn:aws:execute-api:${REGION}:${ACCOUNT_ID}:${API_ID}/prod/GET/v1/whoami`

function requestContext(requestId, extra) {
  const now = Date.now()
  return {
    accountId: ACCOUNT_ID,
    apiId: API_ID,
    domainName: DOMAIN,
    domainPrefix: API_ID,
    http: { method: 'GET', path: '/v1/whoami', protocol: 'HTTP/1.1', sourceIp: '198.51.100.23', userAgent: 'bench/1' },
    requestId,
    routeKey: 'GET /v1/whoami',
    stage: 'prod',
    time: new Date(now).toUTCString(),
    timeEpoch: now,
    ...extra
  }
}

function headers(authorization) {
  return {
    accept: 'application/json',
    authorization,
    'content-length': '0',
    host: DOMAIN,
    'user-agent': 'bench/1',
    'x-amzn-trace-id': 'Root=1-65540000-0123456789abcdef01234567',
    'x-forwarded-for': '198.51.100.23',
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https'
  }
}

/** What API Gateway sends our authorizer: an HTTP API payload 2.0 REQUEST authorizer event. */
export function httpApiAuthorizerEvent(token, n) {
  const authorization = `Bearer ${token}`
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: METHOD_ARN,
    identitySource: [authorization],
    routeKey: 'GET /v1/whoami',
    rawPath: '/v1/whoami',
    rawQueryString: '',
    headers: headers(authorization),
    requestContext: requestContext(`bench${n}=`),
    pathParameters: {},
    stageVariables: {}
  }
}

/** What API Gateway sends the reference: a REST API TOKEN event; the reference expects the bare token. */
export function restTokenEvent(token) {
  return { type: 'TOKEN', authorizationToken: token, methodArn: METHOD_ARN }
}

/** What the protected API receives behind the authorizer: an HTTP API 2.0 proxy event with the authorizer context. */
export function protectedApiEvent(n) {
  return {
    version: '2.0',
    routeKey: 'GET /v1/whoami',
    rawPath: '/v1/whoami',
    rawQueryString: '',
    headers: headers('Bearer eyJhbGciOiJIUzI1NiJ9.e30.bench-not-a-real-key'),
    requestContext: requestContext(`bench-api${n}=`, {
      authorizer: { lambda: { orgId: 'org-7', userId: 'auth0|bench-user-7', keyId: randomUUID() } }
    }),
    isBase64Encoded: false
  }
}

/** A Lambda context stub with what the runtime provides (middy reads getRemainingTimeInMillis). */
export function lambdaContext(functionName, n, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/28/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {}
  }
}
