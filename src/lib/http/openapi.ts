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

/** The Moesif portal's authenticated routes: an ID token with an email, and their dependencies (identity provider, Stripe, Moesif). */
const portalApiErrors = {
  '401': response('PortalUnauthorized'),
  '403': {
    description: 'Stripe mode: the identity provider marks the email unverified (`ERR_EMAIL_NOT_VERIFIED`)',
    content: json(ref('Error'))
  },
  '404': response('PortalRouteOff'),
  '500': response('InternalError'),
  '503': response('PortalDependencyUnavailable')
} as const

/** The Moesif portal frontend sends `?email=`; it is accepted and ignored (who asks comes from the ID token). */
/** A decimal as Moesif may send it: a string (its catalog's form) or a number. */
const decimal: JsonSchema = { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'null' }] }

const ignoredEmail: JsonSchema = {
  name: 'email',
  in: 'query',
  required: false,
  description: "Sent by the portal frontend; ignored: the caller's identity comes from the ID token",
  schema: { type: 'string' }
}

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
    {
      name: 'portal',
      description:
        "The Moesif Developer Portal frontend's backend: plans, checkout, subscriptions, embedded charts (same paths and shapes as the reference backend)"
    },
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
    '/plans': {
      get: {
        operationId: 'listPlans',
        summary: "Moesif's billing catalog: the plans and prices the portal sells",
        description:
          "`GET /v1/~/billing/catalog/plans?includes=prices&provider=stripe` (`custom` in custom mode) of Moesif's management API, cached 60 s per container. Each plan keeps Moesif's fields, with its active prices only (`price_in_decimal` is in cents).",
        tags: ['portal'],
        security: [],
        responses: {
          '200': { description: 'The plans', content: json(ref('PlanCatalog')) },
          '404': response('PortalRouteOff'),
          '500': response('InternalError'),
          '503': { description: 'Moesif could not be reached (`ERR_MOESIF_UNAVAILABLE`)', content: json(ref('Error')) }
        }
      }
    },
    '/create-stripe-checkout-session': {
      post: {
        operationId: 'createCheckoutSession',
        summary: 'An embedded Stripe Checkout session for the caller (stripe mode)',
        description:
          "`price_id` must be an active price of an active plan of GET /plans. The caller's Stripe customer is found by the ID token's email, or made (`metadata.authUserId` = `sub`) and remembered. `ui_mode` is `embedded_page`; Stripe returns the customer to `<PORTAL_URL>/return?session_id={CHECKOUT_SESSION_ID}&price_id=<price>`.",
        tags: ['portal'],
        security: [{ portalIdToken: [] }],
        parameters: [
          { name: 'price_id', in: 'query', required: true, description: 'A price id of GET /plans', schema: { type: 'string' } },
          {
            name: 'quantity',
            in: 'query',
            required: false,
            description: 'Licensed prices only (default 1); ignored for a metered price',
            schema: { type: 'string', pattern: '^[0-9]{1,4}$' }
          },
          ignoredEmail
        ],
        responses: {
          '200': { description: 'The session, for `EmbeddedCheckoutProvider`', content: json(ref('CheckoutSessionSecret')) },
          '400': {
            description: 'No or a malformed `price_id` or `quantity` (`ERR_BAD_QUERY`), or a price not for sale (`ERR_BAD_PRICE`)',
            content: json(ref('Error'))
          },
          ...portalApiErrors
        }
      }
    },
    '/register/stripe/{checkout_session_id}': {
      post: {
        operationId: 'registerStripeCheckout',
        summary: "Register the caller's completed Stripe checkout (stripe mode)",
        description:
          "The session must belong to the caller's Stripe customer. When it is `complete` with a subscription, the Moesif company and user (both the customer id, the email in the user's metadata) are updated, once: a repeat changes nothing and answers the same. Never returns the session itself (no `client_secret`).",
        tags: ['portal'],
        security: [{ portalIdToken: [] }],
        parameters: [
          {
            name: 'checkout_session_id',
            in: 'path',
            required: true,
            description: 'The `session_id` Stripe put in the return URL',
            schema: { type: 'string' }
          }
        ],
        responses: {
          '201': { description: "The session's status", content: json(ref('CheckoutRegistration')) },
          '400': { description: 'Not a Checkout Session id (`ERR_BAD_SESSION_ID`)', content: json(ref('Error')) },
          ...portalApiErrors,
          '403': {
            description:
              'The session belongs to another customer, or the caller has none (`ERR_SESSION_NOT_YOURS`); or the email is marked unverified (`ERR_EMAIL_NOT_VERIFIED`)',
            content: json(ref('Error'))
          },
          '404': {
            description: 'No such session (`ERR_NOT_FOUND`), or the route is off here (not stripe mode)',
            content: json(ref('Error'))
          }
        }
      }
    },
    '/subscriptions': {
      get: {
        operationId: 'listSubscriptions',
        summary: "The caller's company's subscriptions, from Moesif",
        description:
          "`company.subscriptions` of `GET /v1/search/~/users/<id>` (the Stripe customer in stripe mode, the ID token's `sub` otherwise); `[]` when there are none.",
        tags: ['portal'],
        security: [{ portalIdToken: [] }],
        parameters: [ignoredEmail],
        responses: {
          '200': { description: 'The subscriptions, newest data from Moesif', content: json(ref('SubscriptionList')) },
          ...portalApiErrors
        }
      }
    },
    '/embed-charts/{authUserId}': {
      get: {
        operationId: 'embedCharts',
        summary: "The dashboard's two Moesif workspace tokens",
        description:
          "For MOESIF_TEMPLATE_WORKSPACE_ID_LIVE_EVENT_LOG and MOESIF_TEMPLATE_WORKSPACE_ID_TIME_SERIES, in that order: a 7-day access token with the template's `user_id` set to the caller's Moesif user. The path segment is ignored.",
        tags: ['portal'],
        security: [{ portalIdToken: [] }],
        parameters: [
          { name: 'authUserId', in: 'path', required: true, description: 'Sent by the portal frontend; ignored', schema: { type: 'string' } },
          ignoredEmail
        ],
        responses: {
          '200': { description: '`[liveEventLog, timeSeries]`', content: json(ref('EmbedTokens')) },
          ...portalApiErrors,
          '502': { description: 'Moesif did not hand out the tokens (`ERR_MOESIF_UNAVAILABLE`)', content: json(ref('Error')) }
        }
      }
    },
    '/stripe/customer': {
      get: {
        operationId: 'getStripeCustomer',
        summary: "The caller's Stripe customer (stripe mode)",
        description: "Stripe's customer object as Stripe answers it; the portal hands it to Moesif's browser `identifyUser`.",
        tags: ['portal'],
        security: [{ portalIdToken: [] }],
        parameters: [ignoredEmail],
        responses: {
          '200': { description: 'The customer', content: json(ref('StripeCustomer')) },
          ...portalApiErrors,
          '404': {
            description: 'No customer for this login yet (`ERR_NO_CUSTOMER`), or the route is off here (not stripe mode)',
            content: json(ref('Error'))
          }
        }
      }
    },
    '/register/custom': {
      post: {
        operationId: 'registerCustomSubscription',
        summary: 'Register a subscription (custom billing)',
        description:
          "APP_PAYMENT_PROVIDER=custom only. The company is the ID token's `sub`; `price_id` must be an active price of `plan_id` in GET /plans. Recorded first (POST /create-key then issues keys to the company), then sent to Moesif (`POST /v1/subscriptions`), awaited. Idempotent per company and price.",
        tags: ['portal'],
        security: [{ portalIdToken: [] }],
        requestBody: { required: true, content: json(ref('CustomRegistrationRequest')) },
        responses: {
          '201': { description: 'Registered', content: json(ref('Provisioned')) },
          '400': { description: 'A malformed body (`ERR_BAD_BODY`), or a price not for sale (`ERR_BAD_PRICE`)', content: json(ref('Error')) },
          '413': response('PayloadTooLarge'),
          ...portalApiErrors,
          '502': {
            description: 'Registered, but Moesif did not take the subscription (`ERR_MOESIF_UNAVAILABLE`): repeat the call',
            content: json(ref('Error'))
          }
        }
      }
    },
    '/okta/register': {
      post: {
        operationId: 'oktaRegister',
        summary: "The portal's Okta sign-up form: not offered",
        description: 'Create users in Okta (or turn on its self-service registration). Always 501.',
        tags: ['portal'],
        security: [],
        responses: {
          '501': { description: 'Not offered (`ERR_NOT_IMPLEMENTED`)', content: json(ref('Error')) },
          '500': response('InternalError')
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
          "The Lambda authorizer verifies the key (signature, expiry, revocation) before this runs, and hands on the identity. Each call is reported to Moesif by company and user. A Moesif governance rule may answer instead (see the README, Governance): with the rule's own status, JSON body and headers, and `X-Moesif-Blocked-By: <rule id>`; the API itself then never runs.",
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
      PlanCatalog: {
        type: 'object',
        required: ['hits'],
        properties: { hits: { type: 'array', items: ref('Plan') } }
      },
      Plan: {
        type: 'object',
        description: "A plan of Moesif's billing catalog; Moesif's other fields pass through",
        required: ['id', 'prices'],
        properties: {
          id: { type: 'string', description: 'The Moesif plan id (a Stripe product id in stripe mode)' },
          name: { type: 'string' },
          status: { type: 'string', description: 'The portal shows `active` plans only' },
          unit: { type: ['string', 'null'] },
          prices: { type: 'array', items: ref('Price') }
        }
      },
      Price: {
        type: 'object',
        description: "A price of a plan, as the portal's price tiles read it; Moesif's other fields pass through",
        required: ['id'],
        properties: {
          id: { type: 'string' },
          name: { type: ['string', 'null'] },
          status: { type: 'string' },
          plan_id: { type: 'string' },
          currency: { type: 'string' },
          price_in_decimal: { ...decimal, description: 'In cents (the portal divides by 100)' },
          pricing_model: { type: 'string' },
          period: { type: ['integer', 'null'] },
          period_units: { type: ['string', 'null'], description: '`d`, `w`, `M` or `y`' },
          usage_aggregator: { type: ['string', 'null'], description: 'Present (e.g. `sum`) for a metered price' },
          usage_type: { type: ['string', 'null'] },
          price_meter: { type: ['string', 'null'] },
          tiers: {
            type: ['array', 'null'],
            items: {
              type: 'object',
              properties: {
                up_to: { anyOf: [{ type: 'number' }, { const: 'inf' }] },
                unit_price_in_decimal: decimal,
                flat_price_in_decimal: decimal
              }
            }
          }
        }
      },
      CheckoutSessionSecret: {
        type: 'object',
        required: ['clientSecret'],
        additionalProperties: false,
        properties: {
          clientSecret: {
            type: 'string',
            pattern: '^cs_[A-Za-z0-9_]+_secret_[A-Za-z0-9_]+$',
            description: "The session's `client_secret`, for Stripe.js's embedded Checkout"
          }
        }
      },
      CheckoutRegistration: {
        type: 'object',
        required: ['id', 'status', 'customer_email'],
        additionalProperties: false,
        properties: {
          id: { type: 'string' },
          status: { enum: ['open', 'complete', 'expired'] },
          customer_email: { type: 'string', description: "Stripe's, else the caller's" }
        }
      },
      SubscriptionList: {
        type: 'array',
        items: {
          type: 'object',
          description: "A subscription of the caller's company, as Moesif has it; Moesif's other fields pass through",
          required: ['subscription_id', 'status', 'current_period_start', 'current_period_end', 'items'],
          properties: {
            subscription_id: { type: 'string' },
            status: { type: ['string', 'null'] },
            current_period_start: { type: ['string', 'null'], format: 'date-time' },
            current_period_end: { type: ['string', 'null'], format: 'date-time' },
            items: {
              type: 'array',
              items: {
                type: 'object',
                required: ['plan_id', 'price_id'],
                properties: { plan_id: { type: 'string' }, price_id: { type: 'string' } }
              }
            }
          }
        }
      },
      EmbedTokens: {
        type: 'array',
        minItems: 2,
        maxItems: 2,
        items: {
          type: 'object',
          required: ['_id', 'token'],
          properties: {
            _id: { type: 'string', description: 'The workspace id' },
            token: { type: 'string', description: 'Goes after `#` in the embed URL' }
          }
        }
      },
      StripeCustomer: {
        type: 'object',
        description: "Stripe's customer object",
        required: ['id', 'object'],
        properties: { id: { type: 'string', pattern: '^cus_' }, object: { const: 'customer' }, email: { type: ['string', 'null'] } }
      },
      CustomRegistrationRequest: {
        type: 'object',
        required: ['plan_id', 'price_id'],
        additionalProperties: false,
        properties: { plan_id: { type: 'string', maxLength: 255 }, price_id: { type: 'string', maxLength: 255 } }
      },
      Provisioned: {
        type: 'object',
        required: ['status'],
        additionalProperties: false,
        properties: { status: { const: 'provisioned' } }
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
        description:
          'No portal ID token, or an invalid one (`ERR_PORTAL_TOKEN_MISSING`, `ERR_PORTAL_TOKEN_INVALID`); `Bearer [object Object]`, what the Moesif portal frontend sends under Okta (`ERR_PORTAL_TOKEN_OBJECT`); on the portal routes, an ID token without an email (`ERR_EMAIL_REQUIRED`)',
        content: json(ref('Error'))
      },
      PortalRouteOff: {
        description:
          "The route is off in this deployment (`ERR_NOT_FOUND`): another billing mode, or Moesif's management API (or the dashboard's workspace ids) not configured. The message says which setting turns it on.",
        content: json(ref('Error'))
      },
      PortalDependencyUnavailable: {
        description:
          'The identity provider (`ERR_IDP_UNAVAILABLE`), Stripe (`ERR_BILLING_UNAVAILABLE`) or Moesif (`ERR_MOESIF_UNAVAILABLE`) could not be reached: try again',
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
