// The local key console: plain browser JavaScript, no build step. Served only
// by the local stack (config/local-functions.cjs).
//
// Tokens and keys live in this module's memory only: never in a URL, in
// localStorage or sessionStorage, or in a cookie. Every value from the server
// is written with textContent, never as HTML (a key name is user input).
/* global crypto, FormData */

const $ = (id) => document.getElementById(id)

const state = {
  /** The portal ID token of the signed-in dev user. */
  idToken: undefined,
  companyId: undefined,
  /** The signed-in dev user's email (stripe mode finds the customer by it). */
  email: undefined,
  /** Keys created in this tab: keyId -> { apikey, label }. The only place a key is kept, so it can be called with. */
  sessionKeys: new Map()
}

/** One API call. `token` goes in the Authorization header; the body is parsed when it is JSON; `headers` are the response's. */
async function call(method, path, { token, body, headers = {} } = {}) {
  const init = { method, headers: { ...headers }, cache: 'no-store' }
  if (token !== undefined) init.headers.authorization = `Bearer ${token}`
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  const response = await fetch(path, init)
  const text = await response.text()
  let json
  try {
    json = text === '' ? undefined : JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, ok: response.ok, json, text, headers: response.headers }
}

function showError(message) {
  const error = $('error')
  error.textContent = message
  error.hidden = message === ''
}

function failure(what, result) {
  const detail = result.json?.code ? `${result.json.code}: ${result.json.message}` : (result.json?.message ?? result.text)
  return `${what} failed (HTTP ${result.status}${detail ? `, ${detail}` : ''})`
}

/** Run an action, showing any failure instead of throwing it into the console. */
function guarded(action) {
  return async (event) => {
    event?.preventDefault()
    showError('')
    try {
      await action(event)
    } catch (error) {
      showError(error instanceof Error ? error.message : String(error))
    }
  }
}

const when = (iso) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : '')

function cell(text, className) {
  const td = document.createElement('td')
  td.textContent = text
  if (className) td.className = className
  return td
}

// 1. Sign in ---------------------------------------------------------------

async function signIn(event) {
  const form = new FormData(event.target)
  const request = { sub: String(form.get('sub') ?? '').trim() }
  const email = String(form.get('email') ?? '').trim()
  const org = String(form.get('org') ?? '').trim()
  if (email !== '') request.email = email
  if (org !== '') request.org = org
  const result = await call('POST', '/local/login', { body: request })
  if (!result.ok) throw new Error(failure('Sign-in', result))
  signOut()
  state.idToken = result.json.idToken
  state.companyId = result.json.companyId
  state.email = result.json.email ?? undefined
  $('session').textContent = `Signed in as ${result.json.userId} (company ${result.json.companyId}) until ${when(result.json.expiresAt)}.`
  $('sign-out').hidden = false
  $('company-name').textContent = result.json.companyId
  $('keys-section').hidden = false
  $('call-section').hidden = false
  await refreshBilling()
  await refreshKeys()
}

function signOut() {
  state.idToken = undefined
  state.companyId = undefined
  state.email = undefined
  state.sessionKeys.clear()
  $('billing-section').hidden = true
  $('billing-status').textContent = ''
  hideNewKey()
  renderKeyChoices()
  $('key-rows').replaceChildren()
  $('session').textContent = 'Not signed in.'
  $('sign-out').hidden = true
  $('keys-section').hidden = true
  $('call-section').hidden = true
  $('whoami-result').hidden = true
  resetMoesif('Call the API to see the event the local Moesif collector captured.')
}

// Billing (APP_PAYMENT_PROVIDER=stripe) ---------------------------------------------
// The stack says its mode at GET /local/stripe; with the local Stripe stand-in,
// Subscribe and Cancel act for the signed-in user's email, and answer once the
// stand-in has delivered the webhooks to the stack.

async function refreshBilling() {
  const result = await call('GET', '/local/stripe', { token: state.idToken })
  if (!result.ok) {
    // Stripe mode, with the stand-in not answering (503), say.
    $('billing-section').hidden = false
    $('subscribe-form').hidden = true
    $('billing-note').textContent = failure('Reading the billing status', result)
    return
  }
  const mode = result.json
  $('billing-section').hidden = mode.provider !== 'stripe'
  if (mode.provider !== 'stripe') return
  $('subscribe-form').hidden = !mode.standIn || state.email === undefined
  if (!mode.standIn) {
    $('billing-note').textContent =
      `Stripe mode against ${mode.apiBase}: subscribe in that Stripe account. Keys belong to the Stripe customer with your email.`
    return
  }
  if (state.email === undefined) {
    $('billing-note').textContent = 'Stripe mode: sign in with an email, the one Stripe knows the customer by.'
    return
  }
  $('billing-note').textContent =
    `Stripe mode with the local stand-in: keys belong to the Stripe customer with the email ${state.email}, and need an active subscription.`
  const select = $('billing-price')
  if (select.options.length === 0) {
    select.replaceChildren(
      ...mode.prices.map((price) => {
        const option = document.createElement('option')
        option.value = price.id
        option.textContent = price.label
        return option
      })
    )
  }
  const customer = mode.customer
  if (!customer) {
    $('billing-status').textContent = `No Stripe customer has ${state.email} yet: Subscribe creates one.`
    return
  }
  // Keys are the customer's in stripe mode.
  $('company-name').textContent = customer.id
  const live = customer.subscriptions.filter((subscription) => subscription.status !== 'canceled')
  $('billing-status').textContent =
    live.length === 0
      ? `Customer ${customer.id}: no subscription.`
      : `Customer ${customer.id}: ${live.map((subscription) => `${subscription.id} (${subscription.status}, ${subscription.priceIds.join(', ')})`).join('; ')}.`
}

/** A sentence about webhooks that did not reach the stack, or ''. */
function webhookProblems(webhooks) {
  const missed = webhooks.filter((webhook) => !webhook.delivered)
  return missed.length === 0 ? '' : ` Webhook not delivered: ${missed.map((webhook) => `${webhook.type} (${webhook.detail})`).join('; ')}.`
}

async function subscribe(event) {
  const priceId = String(new FormData(event.target).get('priceId') ?? '')
  const result = await call('POST', '/local/stripe/subscribe', { token: state.idToken, body: { priceId } })
  if (!result.ok) throw new Error(failure('Subscribing', result))
  await refreshBilling()
  const { customerId, subscriptionId, status, webhooks } = result.json
  $('billing-status').textContent = `Subscribed: customer ${customerId}, subscription ${subscriptionId} (${status}).${webhookProblems(webhooks)}`
  await refreshKeys()
}

async function cancelSubscription() {
  const result = await call('POST', '/local/stripe/cancel', { token: state.idToken })
  if (!result.ok) throw new Error(failure('Canceling', result))
  await refreshBilling()
  const { customerId, canceled, webhooks } = result.json
  const missed = webhookProblems(webhooks)
  const ids = canceled.map((subscription) => subscription.subscriptionId).join(', ')
  $('billing-status').textContent =
    canceled.length === 0
      ? `Customer ${customerId} has no subscription to cancel.`
      : missed === ''
        ? `Canceled ${ids}: the webhook revoked the keys of customer ${customerId}.`
        : `Canceled ${ids} of customer ${customerId}.${missed}`
  await refreshKeys()
}

// 2. Keys --------------------------------------------------------------------

async function refreshKeys() {
  const result = await call('GET', '/keys', { token: state.idToken })
  if (!result.ok) throw new Error(failure('Listing keys', result))
  const rows = result.json.keys.map((key) => {
    const tr = document.createElement('tr')
    tr.dataset.keyId = key.keyId
    tr.append(
      cell(key.name ?? '(unnamed)'),
      cell(when(key.createdAt)),
      cell(when(key.expiresAt)),
      cell(key.last4, 'mono'),
      cell(key.status, `status-${key.status}`)
    )
    const actions = document.createElement('td')
    if (key.status === 'active') {
      const revoke = document.createElement('button')
      revoke.type = 'button'
      revoke.className = 'danger small'
      revoke.textContent = 'Revoke'
      revoke.setAttribute('aria-label', `Revoke key ${key.name ?? '(unnamed)'} ending ${key.last4}`)
      revoke.addEventListener(
        'click',
        guarded(() => revokeKey(key.keyId))
      )
      actions.append(revoke)
    }
    tr.append(actions)
    return tr
  })
  $('key-rows').replaceChildren(...rows)
  $('no-keys').hidden = rows.length > 0
}

async function createKey(event) {
  const name = String(new FormData(event.target).get('name') ?? '').trim()
  const result = await call('POST', '/create-key', { token: state.idToken, body: name === '' ? {} : { name } })
  if (!result.ok) throw new Error(failure('Creating a key', result))
  const { apikey, keyId } = result.json
  state.sessionKeys.set(keyId, { apikey, label: `${name || '(unnamed)'} · …${apikey.slice(-4)}` })
  renderKeyChoices(keyId)
  // Shown once: replaced by the next key, cleared by "Done" or signing out.
  $('new-key-value').textContent = apikey
  $('new-key').hidden = false
  $('copy-key').textContent = 'Copy'
  await refreshKeys()
}

function hideNewKey() {
  $('new-key-value').textContent = ''
  $('new-key').hidden = true
}

async function copyKey() {
  const value = $('new-key-value').textContent
  try {
    await navigator.clipboard.writeText(value)
    $('copy-key').textContent = 'Copied'
  } catch {
    // No clipboard permission: select the key so Ctrl+C copies it.
    window.getSelection()?.selectAllChildren($('new-key-value'))
    $('copy-key').textContent = 'Press Ctrl+C'
  }
}

async function revokeKey(keyId) {
  const result = await call('DELETE', `/keys/${encodeURIComponent(keyId)}`, { token: state.idToken })
  if (!result.ok) throw new Error(failure('Revoking the key', result))
  await refreshKeys()
}

async function revokeAll() {
  if (!window.confirm(`Revoke every key of company ${state.companyId}, including keys made elsewhere?`)) return
  const result = await call('DELETE', '/keys', { token: state.idToken })
  if (!result.ok) throw new Error(failure('Revoking all keys', result))
  await refreshKeys()
}

// 3. Call the API and show the Moesif event ------------------------------------

function renderKeyChoices(selected) {
  const select = $('whoami-key')
  const options = [...state.sessionKeys].map(([keyId, { label }]) => {
    const option = document.createElement('option')
    option.value = keyId
    option.textContent = label
    return option
  })
  const paste = document.createElement('option')
  paste.value = 'paste'
  paste.textContent = 'Paste a key…'
  select.replaceChildren(...options, paste)
  select.value = selected ?? options[0]?.value ?? 'paste'
  $('pasted-key-label').hidden = select.value !== 'paste'
}

async function callWhoami(event) {
  const form = new FormData(event.target)
  const choice = String(form.get('key'))
  const apikey = choice === 'paste' ? String(form.get('pasted') ?? '').trim() : state.sessionKeys.get(choice)?.apikey
  if (!apikey) throw new Error('Choose a key, or paste one.')
  // A header of our own finds this call's event among the collector's.
  const callId = crypto.randomUUID()
  resetMoesif('Waiting for the Moesif event…')
  const result = await call('GET', '/v1/whoami', { token: apikey, headers: { 'x-console-call-id': callId } })
  // Set by a Moesif governance rule that blocked the call (src/lib/moesif/governance.ts): the rule's id.
  const blockedBy = result.headers.get('x-moesif-blocked-by')
  $('whoami-status').textContent = String(result.status)
  $('whoami-status').className = `status ${result.ok ? 'ok' : 'denied'}`
  $('whoami-blocked-by').textContent = blockedBy ?? ''
  $('whoami-blocked').hidden = blockedBy === null
  $('whoami-body').textContent = result.json === undefined ? result.text : JSON.stringify(result.json, null, 2)
  $('whoami-headers').replaceChildren(...headerRows([...result.headers]))
  $('whoami-result').hidden = false
  if (blockedBy === null && (result.status === 401 || result.status === 403)) {
    resetMoesif('No Moesif event: API Gateway answered for the authorizer, which refused the key, so the API (and Moesif with it) never ran.')
    return
  }
  await showMoesifEvent(callId)
}

function resetMoesif(note) {
  $('moesif-note').textContent = note
  $('moesif-note').hidden = false
  $('moesif-event').hidden = true
}

const headerOf = (headers, name) => Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1]

/** Table rows for [name, value] pairs, sorted by name. */
function headerRows(entries) {
  return entries
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => {
      const tr = document.createElement('tr')
      tr.append(cell(name, 'mono'), cell(String(value), 'mono'))
      return tr
    })
}

async function showMoesifEvent(callId) {
  // The client sends in the background (at most MOESIF_MAX_WAIT_MS inline), so poll briefly.
  for (let attempt = 0; attempt < 20; attempt++) {
    const result = await call('GET', '/local/moesif-events')
    if (!result.ok) {
      resetMoesif(
        result.json?.code === 'ERR_NO_LOCAL_COLLECTOR'
          ? 'Events go to Moesif itself here (MOESIF_APPLICATION_ID is set): look in Moesif.'
          : failure('Reading the collector', result)
      )
      return
    }
    const found = result.json.events.find((e) => headerOf(e.request.headers, 'x-console-call-id') === callId)
    if (found) {
      renderMoesifEvent(found)
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  resetMoesif('No Moesif event arrived within 5 s.')
}

function renderMoesifEvent(event) {
  $('moesif-call').textContent = `${event.request.verb} ${new URL(event.request.uri, window.location.href).pathname} → ${event.response.status}`
  $('moesif-company').textContent = event.company_id ?? '(none)'
  $('moesif-user').textContent = event.user_id ?? '(none)'
  $('moesif-blocked-by').textContent = event.blocked_by ?? '(not blocked)'
  $('moesif-headers').replaceChildren(...headerRows(Object.entries(event.request.headers ?? {})))
  $('moesif-raw').textContent = JSON.stringify(event, null, 2)
  $('moesif-note').hidden = true
  $('moesif-event').hidden = false
}

// Wiring ------------------------------------------------------------------------

$('sign-in-form').addEventListener('submit', guarded(signIn))
$('sign-out').addEventListener('click', () => signOut())
$('subscribe-form').addEventListener('submit', guarded(subscribe))
$('cancel-subscription').addEventListener('click', guarded(cancelSubscription))
$('create-form').addEventListener('submit', guarded(createKey))
$('copy-key').addEventListener('click', guarded(copyKey))
$('hide-key').addEventListener('click', () => hideNewKey())
$('revoke-all').addEventListener('click', guarded(revokeAll))
$('whoami-form').addEventListener('submit', guarded(callWhoami))
$('whoami-key').addEventListener('change', () => {
  $('pasted-key-label').hidden = $('whoami-key').value !== 'paste'
})
document.body.dataset.ready = 'true'
