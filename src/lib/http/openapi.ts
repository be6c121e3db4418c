/**
 * The OpenAPI 3.1 document of the deployed routes: the portal's key endpoints,
 * the JWKS, this document itself, and the sample protected API. `GET
 * /openapi.json` serves it as is.
 *
 * Three tests keep it from drifting: it is validated with a real OpenAPI
 * validator, its routes are compared both ways with the packaged template's,
 * and every response of the end-to-end suites is checked against its schema.
 */

/** A JSON Schema, dialect 2020-12 (what OpenAPI 3.1 schemas are). */
export type JsonSchema = { readonly [keyword: string]: unknown }

/** A response, or a reference to one in `components.responses`. */
export type OpenApiResponse =
  | {
      readonly description: string
      readonly headers?: Readonly<Record<string, { readonly description: string; readonly schema: JsonSchema }>>
      readonly content?: Readonly<Record<string, { readonly schema: JsonSchema }>>
    }
  | { readonly $ref: string }

/** One operation: a method on a path. */
export interface OpenApiOperation {
  readonly operationId: string
  readonly summary: string
  readonly description?: string
  readonly tags: readonly string[]
  /** `[]` for an open route; otherwise the scheme that authenticates it. */
  readonly security: readonly Readonly<Record<string, readonly string[]>>[]
  readonly parameters?: readonly JsonSchema[]
  readonly requestBody?: JsonSchema
  readonly responses: Readonly<Record<string, OpenApiResponse>>
}

/** The HTTP methods this API uses, as OpenAPI spells them. */
export type OpenApiMethod = 'get' | 'post' | 'delete'

/** The subset of an OpenAPI 3.1 document this project writes. */
export interface OpenApiDocument {
  readonly openapi: '3.1.0'
  readonly info: {
    readonly title: string
    readonly version: string
    readonly summary: string
    readonly description: string
    readonly license: { readonly name: string; readonly identifier: string }
  }
  readonly servers: readonly { readonly url: string; readonly description: string }[]
  readonly tags: readonly { readonly name: string; readonly description: string }[]
  readonly paths: Readonly<Record<string, Readonly<Partial<Record<OpenApiMethod, OpenApiOperation>>>>>
  readonly components: {
    readonly securitySchemes: Readonly<Record<string, JsonSchema>>
    readonly schemas: Readonly<Record<string, JsonSchema>>
    readonly responses: Readonly<Record<string, OpenApiResponse>>
  }
}

const json = (schema: JsonSchema) => ({ 'application/json': { schema } })
const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` })
const response = (name: string): OpenApiResponse => ({ $ref: `#/components/responses/${name}` })
const dateTime: JsonSchema = { type: 'string', format: 'date-time' }
const keyId: JsonSchema = { type: 'string', format: 'uuid', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }

/** The portal endpoints all fail the same ways. */
const portalErrors = {
  '401': response('PortalUnauthorized'),
  '500': response('InternalError'),
  '503': response('IdentityProviderUnavailable')
} as const

const document: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'dev-portal-keys',
    version: '0.1.0',
    summary: 'Revocable JWT API keys for a developer portal',
    description:
      "The portal's key endpoints (authenticated with the portal user's ID token), the public verification keys, and the sample protected API (authenticated with an API key, checked by the Lambda authorizer).",
    license: { name: 'Apache-2.0', identifier: 'Apache-2.0' }
  },
  servers: [{ url: '/', description: 'The HTTP API (the HttpApiUrl stack output; http://127.0.0.1:3000 under npm start)' }],
  tags: [
    { name: 'keys', description: "Issue, list and revoke the caller's company's API keys" },
    { name: 'billing', description: 'Stripe events that end a subscription' },
    { name: 'discovery', description: 'Public documents: verification keys and this description' },
    { name: 'sample API', description: 'The protected API a provider replaces with theirs' }
  ],
  paths: {
    '/create-key': {
      post: {
        operationId: 'createKey',
        summary: 'Issue an API key to the signed-in portal user',
        description:
          "The key carries the user's id and company id. It is returned once and never stored; only its last 4 characters are kept for display. `expiresIn` can only shorten the configured lifetime: more than `JWT_EXPIRES_IN` is a 400 that names the maximum.",
        tags: ['keys'],
        security: [{ portalIdToken: [] }],
        requestBody: { required: false, content: json(ref('CreateKeyRequest')) },
        responses: {
          '201': { description: 'The new key', content: json(ref('CreatedKey')) },
          '400': response('BadRequest'),
          '402': {
            description:
              "Stripe mode: no Stripe customer for the ID token's email, or no subscription in STRIPE_ALLOWED_STATUSES (`ERR_NO_SUBSCRIPTION`). The message can be shown as is.",
            content: json(ref('Error'))
          },
          '403': {
            description: 'Stripe mode: the identity provider marks the email unverified (`ERR_EMAIL_NOT_VERIFIED`)',
            content: json(ref('Error'))
          },
          '409': {
            description: 'The company already holds MAX_ACTIVE_KEYS_PER_COMPANY active keys: revoke some first (`ERR_TOO_MANY_KEYS`)',
            content: json(ref('Error'))
          },
          '413': response('PayloadTooLarge'),
          ...portalErrors
        }
      }
    },
    '/keys': {
      get: {
        operationId: 'listKeys',
        summary: "List the caller's company's keys, newest first",
        description: 'Metadata only: never a key.',
        tags: ['keys'],
        security: [{ portalIdToken: [] }],
        responses: {
          '200': { description: "The company's keys", content: json(ref('KeyList')) },
          ...portalErrors
        }
      },
      delete: {
        operationId: 'revokeAllKeys',
        summary: "Revoke every key of the caller's company issued up to now",
        description: 'Includes keys with no record (issued by the reference plugin). Keys created afterwards are not affected.',
        tags: ['keys'],
        security: [{ portalIdToken: [] }],
        responses: {
          '204': response('NoContent'),
          ...portalErrors
        }
      }
    },
    '/keys/{keyId}': {
      delete: {
        operationId: 'revokeKey',
        summary: "Revoke one key of the caller's company",
        description: "Idempotent. Another company's key answers 404, exactly like an unknown one.",
        tags: ['keys'],
        security: [{ portalIdToken: [] }],
        parameters: [
          { name: 'keyId', in: 'path', required: true, description: 'The `keyId` returned by POST /create-key', schema: { type: 'string' } }
        ],
        responses: {
          '204': response('NoContent'),
          '400': response('BadRequest'),
          '404': { description: "No such key in the caller's company", content: json(ref('Error')) },
          ...portalErrors
        }
      }
    },
    '/webhooks/stripe': {
      post: {
        operationId: 'stripeWebhook',
        summary: "Stripe events: a cancelled or lapsed subscription revokes the customer's keys",
        description:
          'Verified with the `Stripe-Signature` header and STRIPE_WEBHOOK_SECRET (300 s tolerance). On `customer.subscription.deleted`, or `customer.subscription.updated` to a status outside STRIPE_ALLOWED_STATUSES, every key of the customer is revoked as `DELETE /keys` does, unless another allowed subscription remains. Other events are acknowledged and ignored; redelivery is harmless.',
        tags: ['billing'],
        security: [],
        parameters: [{ name: 'Stripe-Signature', in: 'header', required: true, schema: { type: 'string' } }],
        requestBody: {
          required: true,
          content: json({ type: 'object', required: ['id', 'type'], properties: { id: { type: 'string' }, type: { type: 'string' } } })
        },
        responses: {
          '200': {
            description: 'Received',
            content: json({ type: 'object', required: ['received'], properties: { received: { const: true }, revoked: { type: 'boolean' } } })
          },
          '400': { description: 'A missing or bad Stripe-Signature (`ERR_BAD_SIGNATURE`)', content: json(ref('Error')) },
          '404': { description: 'Billing is not in stripe mode (`ERR_NOT_FOUND`)', content: json(ref('Error')) },
          '413': response('PayloadTooLarge'),
          '500': response('InternalError'),
          '503': {
            description: 'Stripe could not be reached to check the subscriptions (`ERR_BILLING_UNAVAILABLE`): Stripe retries',
            content: json(ref('Error'))
          }
        }
      }
    },
    '/.well-known/jwks.json': {
      get: {
        operationId: 'getJwks',
        summary: 'The public keys API keys are verified with',
        description:
          'Empty for HMAC algorithms (HS*): a shared secret is never published. During a rotation it holds the current and the previous keys.',
        tags: ['discovery'],
        security: [],
        responses: {
          '200': { description: 'A JWK set of public keys', content: json(ref('Jwks')) },
          '500': response('InternalError')
        }
      }
    },
    '/openapi.json': {
      get: {
        operationId: 'getOpenApiDocument',
        summary: 'This document',
        tags: ['discovery'],
        security: [],
        responses: {
          '200': {
            description: 'The OpenAPI 3.1 document',
            content: json({
              type: 'object',
              required: ['openapi', 'info', 'paths'],
              properties: { openapi: { const: '3.1.0' }, info: { type: 'object' }, paths: { type: 'object' } }
            })
          }
        }
      }
    },
    '/v1/whoami': {
      get: {
        operationId: 'whoami',
        summary: 'The sample protected API: who the API key belongs to',
        description:
          'The Lambda authorizer verifies the key (signature, expiry, revocation) before this runs, and hands on the identity. Each call is reported to Moesif by company and user.',
        tags: ['sample API'],
        security: [{ apiKey: [] }],
        responses: {
          '200': { description: "The key's company, user and key id", content: json(ref('CallerIdentity')) },
          '401': { description: 'No API key. Answered by API Gateway, not the API.', content: json(ref('GatewayError')) },
          '403': { description: 'A bad, expired or revoked API key. Answered by API Gateway, not the API.', content: json(ref('GatewayError')) },
          '500': {
            description:
              'A server fault: from the API (`{ message, code, requestId }`), or from API Gateway when the authorizer itself fails (misconfigured), never a denial',
            content: json({ anyOf: [ref('Error'), ref('GatewayError')] })
          }
        }
      }
    }
  },
  components: {
    securitySchemes: {
      portalIdToken: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          "The signed-in portal user's ID token from the portal's identity provider (Auth0, Okta, or the local one under npm start). User id: `sub`; company id: the `PORTAL_COMPANY_ID_CLAIM` claim (default `org_id`), else `sub`."
      },
      apiKey: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'An API key from POST /create-key: a JWT signed with the configured algorithm only.'
      }
    },
    schemas: {
      CreateKeyRequest: {
        type: 'object',
        description: 'Optional. Identity never comes from the body. At most 4 KB.',
        additionalProperties: false,
        properties: {
          name: { type: ['string', 'null'], maxLength: 100, description: 'A label for the key list' },
          email: { type: ['string', 'null'], maxLength: 320 },
          expiresIn: {
            description: 'Seconds, or a duration such as `7d`, `12h`, `15m`; can only shorten the configured lifetime',
            anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^\\s*\\d{1,12}\\s*[A-Za-z]*\\s*$' }, { type: 'null' }]
          }
        }
      },
      CreatedKey: {
        type: 'object',
        required: ['apikey', 'keyId', 'expiresAt'],
        additionalProperties: false,
        properties: {
          apikey: {
            type: 'string',
            pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$',
            description: 'The API key (a JWT). Shown once: it is not stored anywhere.'
          },
          keyId: { ...keyId, description: "The key's `jti`: what GET /keys lists and DELETE /keys/{keyId} takes" },
          expiresAt: dateTime
        }
      },
      KeySummary: {
        type: 'object',
        required: ['keyId', 'name', 'userId', 'createdAt', 'expiresAt', 'revokedAt', 'status', 'last4', 'kid', 'plan'],
        additionalProperties: false,
        properties: {
          keyId,
          name: { type: ['string', 'null'] },
          userId: { type: 'string', description: 'Who created the key' },
          createdAt: dateTime,
          expiresAt: dateTime,
          revokedAt: { type: ['string', 'null'], format: 'date-time' },
          status: { enum: ['active', 'revoked', 'expired'] },
          last4: { type: 'string', pattern: '^[A-Za-z0-9_-]{4}$', description: "The key's last 4 characters, for display" },
          kid: { type: ['string', 'null'], description: 'The signing key that signed it' },
          plan: {
            description: 'Stripe mode: the subscription the key was issued under (Stripe subscription, price and product ids); null otherwise',
            oneOf: [
              { type: 'null' },
              {
                type: 'object',
                required: ['subscriptionId', 'priceIds', 'productIds'],
                additionalProperties: false,
                properties: {
                  subscriptionId: { type: 'string' },
                  priceIds: { type: 'array', items: { type: 'string' } },
                  productIds: { type: 'array', items: { type: 'string' } }
                }
              }
            ]
          }
        }
      },
      KeyList: {
        type: 'object',
        required: ['keys'],
        additionalProperties: false,
        properties: { keys: { type: 'array', items: ref('KeySummary') } }
      },
      Jwks: {
        type: 'object',
        required: ['keys'],
        additionalProperties: false,
        properties: {
          keys: {
            type: 'array',
            items: {
              type: 'object',
              required: ['kty', 'alg', 'use'],
              properties: { kty: { enum: ['RSA', 'EC', 'OKP'] }, alg: { type: 'string' }, use: { const: 'sig' }, kid: { type: 'string' } },
              // Public keys only: no private members, no HMAC secret.
              propertyNames: { not: { enum: ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] } }
            }
          }
        }
      },
      CallerIdentity: {
        type: 'object',
        required: ['orgId', 'userId', 'keyId'],
        additionalProperties: false,
        properties: {
          orgId: { type: 'string', minLength: 1 },
          userId: { type: 'string' },
          keyId: { type: 'string', description: 'Empty for keys with no `jti` (issued by the reference plugin)' }
        }
      },
      Error: {
        type: 'object',
        description: 'Every error the functions answer. `code` is stable: switch on it, not on `message`.',
        required: ['message', 'code', 'requestId'],
        additionalProperties: false,
        properties: {
          message: { type: 'string' },
          code: { type: 'string', pattern: '^ERR_[A-Z0-9_]+$' },
          requestId: { type: 'string' }
        }
      },
      GatewayError: {
        type: 'object',
        description:
          'An answer from API Gateway itself (the authorizer denied, or failed): `{"message":"Unauthorized"}` on AWS; serverless-offline adds `statusCode` and `error`.',
        required: ['message'],
        properties: { message: { type: 'string' } }
      }
    },
    responses: {
      NoContent: { description: 'Done. No body.' },
      BadRequest: { description: 'A malformed body or key id (`ERR_BAD_BODY`, `ERR_BAD_KEY_ID`)', content: json(ref('Error')) },
      PayloadTooLarge: { description: 'A body over 4 KB (`ERR_BODY_TOO_LARGE`)', content: json(ref('Error')) },
      PortalUnauthorized: {
        description: 'No portal ID token, or an invalid one (`ERR_PORTAL_TOKEN_MISSING`, `ERR_PORTAL_TOKEN_INVALID`)',
        content: json(ref('Error'))
      },
      IdentityProviderUnavailable: {
        description: "The identity provider's JWKS could not be fetched (`ERR_UNAVAILABLE`), or, in stripe mode, Stripe (`ERR_BILLING_UNAVAILABLE`)",
        content: json(ref('Error'))
      },
      InternalError: {
        description: 'A server fault, such as a misconfiguration (`ERR_INTERNAL`). The detail is in the log only.',
        content: json(ref('Error'))
      }
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

/**
 * The OpenAPI 3.1 document, deeply frozen. Clone it before handing it to a
 * tool that dereferences in place.
 *
 * @example
 * jsonResponse(200, OPENAPI_DOCUMENT)
 */
export const OPENAPI_DOCUMENT: OpenApiDocument = deepFreeze(document)
