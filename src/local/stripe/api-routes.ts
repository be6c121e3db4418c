/**
 * The Stripe API calls the stand-in answers, from method, path and decoded
 * parameters to the answer's JSON or Stripe's error answer. Authentication,
 * body reading, idempotency and faults happen before this (stand-in.ts).
 */
import { fail, invalidRequest, missingParam, ok, unrecognizedUrl, type StripeResult } from './errors'
import type { FormParams } from './form-body'
import { booleanParam, expandParam, hashListParam, integerParam, metadataParam, stringParam } from './params'
import { parseCustomerSearchQuery } from './search-query'
import type { CheckoutSessionRequest, ListPage, RequestContext, StripeStandInStore } from './store'

/** One API call, authenticated and decoded. */
export interface ApiRequest {
  method: string
  /** The path without the query, e.g. `/v1/customers/cus_NffrFeUfNV2Hib`. */
  path: string
  /** Query parameters for GET and DELETE, body parameters for POST. */
  params: FormParams
  context: RequestContext
  /** The request's `Stripe-Version`, or the account's. */
  apiVersion: string
}

/**
 * The first API version (2026-03-25.dahlia) with the Checkout `ui_mode` values `hosted_page`,
 * `embedded_page`, `elements` and `form`; before it, `hosted`, `embedded` and `custom`.
 *
 * @example
 * const renamed = apiVersion.slice(0, 10) >= DAHLIA // true for '2026-10-28.endive'
 */
export const DAHLIA = '2026-03-25'

function listPage(params: FormParams): StripeResult<ListPage> {
  const limit = integerParam(params, 'limit', 1, 100)
  if (!limit.ok) return limit
  const startingAfter = stringParam(params, 'starting_after')
  if (!startingAfter.ok) return startingAfter
  const endingBefore = stringParam(params, 'ending_before')
  if (!endingBefore.ok) return endingBefore
  if (startingAfter.value !== undefined && endingBefore.value !== undefined) {
    return fail(invalidRequest('You may only specify one of these parameters: ending_before, starting_after.', 'ending_before'))
  }
  const page: ListPage = {}
  if (limit.value !== undefined) page.limit = limit.value
  if (startingAfter.value !== undefined) page.startingAfter = startingAfter.value
  if (endingBefore.value !== undefined) page.endingBefore = endingBefore.value
  return ok(page)
}

function stringList(params: FormParams, name: string): StripeResult<string[] | undefined> {
  const value = params[name]
  if (value === undefined || value === '') return ok(undefined)
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined
  if (list === undefined || list.some((item) => typeof item !== 'string'))
    return fail(invalidRequest(`Invalid array: ${name} must be a list of strings.`, name))
  return ok(list as string[])
}

/** Run `answer`, then expand the `expand[]` paths in what it answered. */
function expanded<T extends object>(store: StripeStandInStore, params: FormParams, answer: StripeResult<T>): StripeResult<unknown> {
  if (!answer.ok) return answer
  const paths = expandParam(params)
  if (!paths.ok) return paths
  return store.expand(answer.value, paths.value)
}

function customerFields(
  params: FormParams
): StripeResult<{ email?: string; name?: string; description?: string; metadata?: Record<string, string> }> {
  const fields: { email?: string; name?: string; description?: string; metadata?: Record<string, string> } = {}
  for (const name of ['email', 'name', 'description'] as const) {
    const value = stringParam(params, name)
    if (!value.ok) return value
    if (value.value !== undefined) {
      if (name === 'email' && value.value.length > 512)
        return fail(invalidRequest('Invalid email address: too long (at most 512 characters).', 'email'))
      fields[name] = value.value
    }
  }
  const metadata = metadataParam(params)
  if (!metadata.ok) return metadata
  if (metadata.value !== undefined) fields.metadata = metadata.value
  return ok(fields)
}

function checkoutRequest(params: FormParams, apiVersion: string): StripeResult<CheckoutSessionRequest> {
  const text = (name: string): StripeResult<string | undefined> => stringParam(params, name)
  const mode = text('mode')
  if (!mode.ok) return mode
  if (mode.value === undefined) return fail(missingParam('mode'))
  if (!['payment', 'setup', 'subscription'].includes(mode.value))
    return fail(invalidRequest('Invalid mode: must be one of payment, setup, or subscription', 'mode'))
  if (mode.value !== 'subscription') return fail(invalidRequest('The local Stripe stand-in supports mode=subscription only.', 'mode'))

  const dahlia = apiVersion.slice(0, 10) >= DAHLIA
  const uiModes = dahlia ? ['elements', 'embedded_page', 'form', 'hosted_page'] : ['custom', 'embedded', 'hosted']
  const uiMode = text('ui_mode')
  if (!uiMode.ok) return uiMode
  const ui = uiMode.value ?? (dahlia ? 'hosted_page' : 'hosted')
  if (!uiModes.includes(ui)) {
    return fail(
      invalidRequest(
        `Invalid ui_mode: must be one of ${uiModes.slice(0, -1).join(', ')}, or ${uiModes.at(-1)} (API version ${apiVersion})`,
        'ui_mode'
      )
    )
  }
  const embedded = ui !== 'hosted' && ui !== 'hosted_page'

  const request: CheckoutSessionRequest = { mode: mode.value, uiMode: ui, embedded, lineItems: [], metadata: {}, subscriptionMetadata: {} }
  for (const [name, field] of [
    ['customer', 'customer'],
    ['customer_email', 'customerEmail'],
    ['client_reference_id', 'clientReferenceId'],
    ['return_url', 'returnUrl'],
    ['success_url', 'successUrl'],
    ['cancel_url', 'cancelUrl']
  ] as const) {
    const value = text(name)
    if (!value.ok) return value
    if (value.value !== undefined) request[field] = value.value
  }
  if ((request.clientReferenceId?.length ?? 0) > 200)
    return fail(invalidRequest('client_reference_id can be at most 200 characters long.', 'client_reference_id'))
  for (const [name, url] of [
    ['return_url', request.returnUrl],
    ['success_url', request.successUrl],
    ['cancel_url', request.cancelUrl]
  ] as const) {
    if (url === undefined) continue
    let parsed: URL | undefined
    try {
      parsed = new URL(url)
    } catch {
      parsed = undefined
    }
    if (parsed === undefined || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:'))
      return fail(invalidRequest('Not a valid URL', name, 'url_invalid'))
  }
  const redirect = text('redirect_on_completion')
  if (!redirect.ok) return redirect
  if (redirect.value !== undefined) {
    if (!['always', 'if_required', 'never'].includes(redirect.value)) {
      return fail(invalidRequest('Invalid redirect_on_completion: must be one of always, if_required, or never', 'redirect_on_completion'))
    }
    if (!embedded) return fail(invalidRequest(`redirect_on_completion can only be used when ui_mode is not ${ui}.`, 'redirect_on_completion'))
    request.redirectOnCompletion = redirect.value as 'always' | 'if_required' | 'never'
  }
  if (embedded) {
    for (const name of ['success_url', 'cancel_url'] as const) {
      if (params[name] !== undefined) return fail(invalidRequest(`${name} is not allowed when ui_mode is ${ui}.`, name))
    }
    if (request.returnUrl === undefined && request.redirectOnCompletion !== 'never') {
      return fail(
        invalidRequest(`return_url is required when ui_mode is ${ui} (unless redirect_on_completion is never).`, 'return_url', 'parameter_missing')
      )
    }
  } else if (request.returnUrl !== undefined) {
    return fail(invalidRequest(`return_url is not allowed when ui_mode is ${ui}: use success_url.`, 'return_url'))
  }

  const lines = hashListParam(params, 'line_items')
  if (!lines.ok) return lines
  for (const [index, line] of (lines.value ?? []).entries()) {
    if (line.price_data !== undefined)
      return fail(
        invalidRequest('The local Stripe stand-in sells catalog prices only: use price, not price_data.', `line_items[${index}][price_data]`)
      )
    const price = stringParam(line, 'price', `line_items[${index}][price]`)
    if (!price.ok) return price
    const quantity = integerParam(line, 'quantity', 0, 999_999, `line_items[${index}][quantity]`)
    if (!quantity.ok) return quantity
    const item: { price?: string; quantity?: number } = {}
    if (price.value !== undefined) item.price = price.value
    if (quantity.value !== undefined) item.quantity = quantity.value
    request.lineItems.push(item)
  }
  const metadata = metadataParam(params)
  if (!metadata.ok) return metadata
  request.metadata = Object.fromEntries(Object.entries(metadata.value ?? {}).filter(([, value]) => value !== ''))
  const subscriptionData = params.subscription_data
  if (subscriptionData !== undefined && subscriptionData !== '') {
    if (typeof subscriptionData === 'string' || Array.isArray(subscriptionData))
      return fail(invalidRequest('Invalid hash: subscription_data', 'subscription_data'))
    const subscriptionMetadata = metadataParam(subscriptionData, 'metadata')
    if (!subscriptionMetadata.ok) return subscriptionMetadata
    request.subscriptionMetadata = Object.fromEntries(Object.entries(subscriptionMetadata.value ?? {}).filter(([, value]) => value !== ''))
  }
  return ok(request)
}

/**
 * Answer one Stripe API call: the JSON body of a 200, or the Stripe error answer.
 *
 * @example
 * const answer = routeStripeApi(store, { method: 'GET', path: '/v1/customers', params: { email: 'alice@acme.test' }, context, apiVersion })
 */
export function routeStripeApi(store: StripeStandInStore, request: ApiRequest): StripeResult<unknown> {
  const { method, path, params, context } = request
  const segments = path.split('/').slice(2).map(decodeURIComponent)
  const [resource, id, action, ...extra] = segments
  const unknown = (): StripeResult<unknown> => fail(unrecognizedUrl(method, path))
  if (extra.length > (resource === 'checkout' ? 1 : 0)) return unknown()

  switch (resource) {
    case 'customers': {
      if (id === 'search' && action === undefined && method === 'GET') {
        const query = stringParam(params, 'query')
        if (!query.ok) return query
        if (query.value === undefined) return fail(missingParam('query'))
        const parsed = parseCustomerSearchQuery(query.value)
        if (!parsed.ok) return fail(invalidRequest(parsed.message, 'query'))
        const limit = integerParam(params, 'limit', 1, 100)
        if (!limit.ok) return limit
        const page = stringParam(params, 'page')
        if (!page.ok) return page
        return expanded(store, params, store.searchCustomers(parsed.query, limit.value ?? 10, page.value))
      }
      if (action !== undefined) return unknown()
      if (id === undefined) {
        if (method === 'GET') {
          const page = listPage(params)
          if (!page.ok) return page
          const email = stringParam(params, 'email')
          if (!email.ok) return email
          return expanded(store, params, store.listCustomers(email.value === undefined ? {} : { email: email.value }, page.value))
        }
        if (method === 'POST') {
          const fields = customerFields(params)
          if (!fields.ok) return fields
          return expanded(store, params, store.createCustomer(fields.value, context))
        }
        return unknown()
      }
      if (method === 'GET') return expanded(store, params, store.customer(id))
      if (method === 'POST') {
        const fields = customerFields(params)
        if (!fields.ok) return fields
        return expanded(store, params, store.updateCustomer(id, fields.value, context))
      }
      if (method === 'DELETE') return store.deleteCustomer(id, context)
      return unknown()
    }
    case 'subscriptions': {
      if (action !== undefined) return unknown()
      if (id === undefined) {
        if (method !== 'GET') return unknown()
        const page = listPage(params)
        if (!page.ok) return page
        const filter: { customer?: string; status?: string; price?: string } = {}
        for (const name of ['customer', 'status', 'price'] as const) {
          const value = stringParam(params, name)
          if (!value.ok) return value
          if (value.value !== undefined) filter[name] = value.value
        }
        return expanded(store, params, store.listSubscriptions(filter, page.value))
      }
      if (method === 'GET') return expanded(store, params, store.subscription(id))
      if (method === 'DELETE') return expanded(store, params, store.cancelSubscription(id, context))
      if (method === 'POST') {
        const cancelAtPeriodEnd = booleanParam(params, 'cancel_at_period_end')
        if (!cancelAtPeriodEnd.ok) return cancelAtPeriodEnd
        const metadata = metadataParam(params)
        if (!metadata.ok) return metadata
        const fields: { cancelAtPeriodEnd?: boolean; metadata?: Record<string, string> } = {}
        if (cancelAtPeriodEnd.value !== undefined) fields.cancelAtPeriodEnd = cancelAtPeriodEnd.value
        if (metadata.value !== undefined) fields.metadata = metadata.value
        return expanded(store, params, store.updateSubscription(id, fields, context))
      }
      return unknown()
    }
    case 'checkout': {
      // /v1/checkout/sessions[/:id[/expire]]
      if (id !== 'sessions') return unknown()
      const [sessionId, sessionAction] = [action, extra[0]]
      if (sessionId === undefined) {
        if (method !== 'POST') return unknown()
        const parsed = checkoutRequest(params, request.apiVersion)
        if (!parsed.ok) return parsed
        return expanded(store, params, store.createCheckoutSession(parsed.value))
      }
      if (sessionAction === undefined && method === 'GET') return expanded(store, params, store.checkoutSession(sessionId))
      if (sessionAction === 'expire' && method === 'POST') return expanded(store, params, store.expireCheckoutSession(sessionId, context))
      return unknown()
    }
    case 'prices':
    case 'products': {
      if (action !== undefined || method !== 'GET') return unknown()
      if (id !== undefined) return resource === 'prices' ? expanded(store, params, store.price(id)) : expanded(store, params, store.product(id))
      const page = listPage(params)
      if (!page.ok) return page
      const active = booleanParam(params, 'active')
      if (!active.ok) return active
      if (resource === 'products') {
        const ids = stringList(params, 'ids')
        if (!ids.ok) return ids
        return expanded(
          store,
          params,
          store.listProducts(
            { ...(active.value === undefined ? {} : { active: active.value }), ...(ids.value === undefined ? {} : { ids: ids.value }) },
            page.value
          )
        )
      }
      const filter: { active?: boolean; product?: string; type?: string; currency?: string; lookupKeys?: string[] } = {}
      if (active.value !== undefined) filter.active = active.value
      for (const name of ['product', 'type', 'currency'] as const) {
        const value = stringParam(params, name)
        if (!value.ok) return value
        if (value.value !== undefined) filter[name] = value.value
      }
      const lookupKeys = stringList(params, 'lookup_keys')
      if (!lookupKeys.ok) return lookupKeys
      if (lookupKeys.value !== undefined) filter.lookupKeys = lookupKeys.value
      return expanded(store, params, store.listPrices(filter, page.value))
    }
    case 'events': {
      if (action !== undefined || method !== 'GET') return unknown()
      if (id !== undefined) return expanded(store, params, store.event(id))
      const page = listPage(params)
      if (!page.ok) return page
      const type = stringParam(params, 'type')
      if (!type.ok) return type
      const types = stringList(params, 'types')
      if (!types.ok) return types
      return expanded(
        store,
        params,
        store.listEvents(
          { ...(type.value === undefined ? {} : { type: type.value }), ...(types.value === undefined ? {} : { types: types.value }) },
          page.value
        )
      )
    }
    default:
      return unknown()
  }
}
