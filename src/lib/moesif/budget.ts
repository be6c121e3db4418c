/**
 * The time one request may spend on Moesif beyond its handler: a per-request
 * budget of `MOESIF_MAX_WAIT_MS` shared by every piece of Moesif work on that
 * request (the event send, retries of buffered events, and anything added
 * later such as rule refreshes or profile updates).
 *
 * Work runs alongside the handler for free; the budget's clock starts when the
 * handler's result is ready (`drain()`), and the request then waits for the
 * tracked work for at most `maxWaitMs`. So whatever work is tracked, and
 * however much of it, the request is answered at most `maxWaitMs` after its
 * handler finished (plus timer jitter).
 */

/** One request's Moesif time budget; see {@link moesifBudget}. */
export interface MoesifBudget {
  /**
   * Milliseconds Moesif work may still hold the request. Until `drain()` the
   * clock has not started, so this is `maxWaitMs` (a lower bound: the deadline
   * can only be later); after it, what is left, down to 0. Use it to bound a
   * timeout, e.g. `AbortSignal.timeout(budget.remaining())`.
   */
  remaining(): number
  /** Aborted once the budget is spent, that is when the request is answered. Pass it to work worth nothing afterwards (`fetch(url, { signal })`). */
  readonly signal: AbortSignal
  /** Whether the budget is spent. */
  readonly expired: boolean
  /**
   * Count `work` as this request's Moesif work: `drain()` waits for it, within
   * the budget. Returns `work` itself; its rejection is the caller's to
   * handle (tracking never makes it unhandled, nor handles it for you).
   */
  track<T>(work: Promise<T>): Promise<T>
  /**
   * Start the clock (call it when the handler's result is ready) and resolve
   * once all tracked work, including work tracked meanwhile, has settled, or
   * `maxWaitMs` later, whichever comes first; the budget is then spent.
   * Never rejects; idempotent.
   */
  drain(): Promise<void>
}

/**
 * A fresh budget for one request.
 *
 * @example
 * const budget = moesifBudget(settings.maxWaitMs)
 * budget.track(refreshRules({ signal: budget.signal }))
 * const result = await handler(event, context)
 * await budget.drain() // at most maxWaitMs
 * return result
 */
export function moesifBudget(maxWaitMs: number): MoesifBudget {
  if (!Number.isFinite(maxWaitMs) || maxWaitMs < 0) throw new TypeError('moesifBudget: maxWaitMs must be a non-negative number of milliseconds')
  const controller = new AbortController()
  let deadline: number | undefined
  let pending = 0
  let onIdle: (() => void) | undefined
  let draining: Promise<void> | undefined

  const settled = (): void => {
    pending -= 1
    if (pending === 0) onIdle?.()
  }

  return {
    remaining() {
      if (controller.signal.aborted) return 0
      if (deadline === undefined) return maxWaitMs
      return Math.max(0, deadline - performance.now())
    },
    get signal() {
      return controller.signal
    },
    get expired() {
      return controller.signal.aborted
    },
    track(work) {
      pending += 1
      work.then(settled, settled)
      return work
    },
    drain() {
      draining ??= new Promise<void>((resolve) => {
        deadline = performance.now() + maxWaitMs
        const finish = (): void => {
          clearTimeout(timer)
          onIdle = undefined
          if (!controller.signal.aborted) controller.abort(new Error('moesif budget spent'))
          resolve()
        }
        // Unref'd: a pending budget never holds the process open.
        const timer = setTimeout(finish, maxWaitMs)
        timer.unref()
        if (pending === 0 || maxWaitMs === 0) finish()
        else onIdle = finish
      })
      return draining
    }
  }
}
