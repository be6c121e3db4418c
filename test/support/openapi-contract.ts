/**
 * Check real HTTP responses against the OpenAPI document: the status must be
 * one the operation declares, and the body must match that response's schema
 * (JSON Schema 2020-12, which is what OpenAPI 3.1 schemas are), or be empty
 * where the document declares no body.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020'
import { expect } from 'vitest'
import { OPENAPI_DOCUMENT, type OpenApiDocument, type OpenApiMethod, type OpenApiResponse } from '../../src/lib/http/openapi'

const DOCUMENT_ID = 'https://dev-portal-keys.invalid/openapi.json'
const METHODS: readonly OpenApiMethod[] = ['get', 'post', 'delete']

/**
 * Routes the local stage adds for the key console (config/local-functions.cjs).
 * Deliberately not in the OpenAPI document: they are not part of the API, and
 * `serverless package` for a deployed stage never includes them.
 */
export const LOCAL_ONLY_ROUTES: readonly string[] = Object.freeze([
  'GET /',
  'GET /local/console.js',
  'GET /local/console.css',
  'POST /local/login',
  'GET /local/moesif-events',
  'GET /local/stripe',
  'POST /local/stripe/subscribe',
  'POST /local/stripe/cancel'
])

/** The local-only functions, by the name their zip and CloudFormation resource take. */
export const LOCAL_ONLY_FUNCTIONS: readonly string[] = Object.freeze(['localConsole', 'localLogin', 'localMoesifEvents', 'localStripe'])

/** `METHOD /path` for every operation in a document, e.g. `DELETE /keys/{keyId}`. */
export function documentedRoutes(document: OpenApiDocument = OPENAPI_DOCUMENT): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method] !== undefined).map((method) => `${method.toUpperCase()} ${path}`)
  )
}

function createAjv(document: OpenApiDocument): Ajv2020 {
  // Strict: an OpenAPI 3.0-ism such as `nullable`, or a typo in a keyword, fails the compile instead of passing silently.
  const ajv = new Ajv2020({ strict: true, allErrors: true })
  // The top-level OpenAPI fields are not JSON Schema keywords; the document is registered only so
  // `#/components/schemas/...` references resolve against it.
  ajv.addVocabulary(['openapi', 'info', 'servers', 'tags', 'paths', 'components'])
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (value) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value))
  })
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i)
  ajv.addSchema(structuredClone(document) as object, DOCUMENT_ID)
  return ajv
}

const pointer = (...parts: string[]): string => '#/' + parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')

/** The contract of one document: which operation a request hits, and the validator of each declared response. */
export class OpenApiContract {
  readonly #document: OpenApiDocument
  readonly #ajv: Ajv2020
  readonly #validators = new Map<string, ValidateFunction>()
  /** Every operation whose responses were checked, as `METHOD /path` (for a coverage report). */
  readonly checked = new Set<string>()

  constructor(document: OpenApiDocument = OPENAPI_DOCUMENT) {
    this.#document = document
    this.#ajv = createAjv(document)
  }

  /** The documented path template a concrete path matches, e.g. `/keys/abc` to `/keys/{keyId}`. Exact paths win over templates. */
  pathTemplateFor(method: OpenApiMethod, path: string): string | undefined {
    const candidates = Object.keys(this.#document.paths).filter((template) => this.#document.paths[template]?.[method] !== undefined)
    if (candidates.includes(path)) return path
    return candidates.find((template) => {
      const pattern = template
        .split(/\{[^}]+\}/)
        .map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]+')
      return new RegExp(`^${pattern}$`).test(path)
    })
  }

  /** The declared response for a status (falling back to `default`), with `$ref`s to `components.responses` followed. */
  #declaredResponse(
    template: string,
    method: OpenApiMethod,
    status: number
  ): { response: Exclude<OpenApiResponse, { $ref: string }>; at: string[] } | undefined {
    const responses = this.#document.paths[template]?.[method]?.responses ?? {}
    const key = String(status) in responses ? String(status) : 'default' in responses ? 'default' : undefined
    if (key === undefined) return undefined
    let at = ['paths', template, method, 'responses', key]
    let response = responses[key] as OpenApiResponse
    while ('$ref' in response) {
      const name = /^#\/components\/responses\/([^/]+)$/.exec(response.$ref)?.[1]
      const target = name === undefined ? undefined : this.#document.components.responses[name]
      if (name === undefined || target === undefined) throw new Error(`unresolvable response reference ${response.$ref}`)
      at = ['components', 'responses', name]
      response = target
    }
    return { response, at }
  }

  #validator(at: string[]): ValidateFunction {
    const ref = DOCUMENT_ID + pointer(...at, 'content', 'application/json', 'schema')
    let validate = this.#validators.get(ref)
    if (validate === undefined) {
      validate = this.#ajv.compile({ $ref: ref })
      this.#validators.set(ref, validate)
    }
    return validate
  }

  /**
   * Compile the schema of every declared JSON response (strict mode throws on
   * a bad one) and return how many there are.
   *
   * @example
   * expect(new OpenApiContract().compileAll()).toBeGreaterThan(0)
   */
  compileAll(): number {
    let count = 0
    for (const [template, item] of Object.entries(this.#document.paths)) {
      for (const method of METHODS) {
        for (const status of Object.keys(item[method]?.responses ?? {})) {
          const declared = this.#declaredResponse(template, method, Number(status))
          if (declared?.response.content?.['application/json'] === undefined) continue
          this.#validator(declared.at)
          count++
        }
      }
    }
    return count
  }

  /**
   * Problems with one response to `method url`, or `[]` when it matches the
   * document. Reads a clone, so the caller can still read the body.
   *
   * @example
   * expect(await contract.problems('GET', `${baseUrl}/keys`, response)).toEqual([])
   */
  async problems(method: string, url: string, response: Response): Promise<string[]> {
    const lower = method.toLowerCase() as OpenApiMethod
    const path = new URL(url).pathname
    const template = METHODS.includes(lower) ? this.pathTemplateFor(lower, path) : undefined
    if (template === undefined) return [`${method} ${path} is not in the OpenAPI document`]
    const operation = `${method.toUpperCase()} ${template}`
    this.checked.add(operation)
    const declared = this.#declaredResponse(template, lower, response.status)
    if (declared === undefined) return [`${operation}: status ${response.status} is not declared`]

    const text = await response.clone().text()
    const schema = declared.response.content?.['application/json']
    if (schema === undefined)
      return text === '' ? [] : [`${operation} ${response.status}: declares no body, got ${JSON.stringify(text.slice(0, 200))}`]
    const contentType = response.headers.get('content-type') ?? ''
    if (!/^application\/json\b/i.test(contentType))
      return [`${operation} ${response.status}: content-type ${JSON.stringify(contentType)}, expected application/json`]
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      return [`${operation} ${response.status}: body is not JSON: ${JSON.stringify(text.slice(0, 200))}`]
    }
    const validate = this.#validator(declared.at)
    if (validate(body)) return []
    return (validate.errors ?? []).map(
      (error) => `${operation} ${response.status}: body${error.instancePath} ${error.message ?? 'is invalid'} (${error.schemaPath})`
    )
  }

  /**
   * Fail the test unless the response matches the document.
   *
   * @example
   * await contract.expectResponse('POST', `${baseUrl}/create-key`, response)
   */
  async expectResponse(method: string, url: string, response: Response): Promise<Response> {
    expect(await this.problems(method, url, response), `${method} ${url} -> ${response.status} against the OpenAPI document`).toEqual([])
    return response
  }

  /**
   * `fetch`, then {@link expectResponse} on what came back. A drop-in for
   * `fetch(url, init)` in the end-to-end tests.
   *
   * @example
   * const response = await contract.fetch(`${baseUrl}/keys`, { headers: { authorization: `Bearer ${idToken}` } })
   */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(url, init)
    return this.expectResponse(init.method ?? 'GET', url, response)
  }
}

/** The contract of the project's own document, shared by the end-to-end suites. */
export const openApiContract = new OpenApiContract()
