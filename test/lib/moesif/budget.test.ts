/** moesifBudget: one request's Moesif time, on fake timers. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { moesifBudget } from '../../../src/lib/moesif/budget'

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void
  let reject!: (error: Error) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Whether `promise` has settled, after letting pending callbacks run. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false
  void promise.then(
    () => (settled = true),
    () => (settled = true)
  )
  await vi.advanceTimersByTimeAsync(0)
  return settled
}

describe('moesifBudget', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('gives maxWaitMs until the clock starts, then counts down to 0 and aborts its signal', async () => {
    // Prepare
    const budget = moesifBudget(100)
    const work = deferred()
    budget.track(work.promise)

    // Act
    await vi.advanceTimersByTimeAsync(500) // the handler takes its time: not counted
    const beforeDrain = budget.remaining()
    const draining = budget.drain()
    await vi.advanceTimersByTimeAsync(40)
    const midway = budget.remaining()
    const abortedMidway = budget.signal.aborted
    await vi.advanceTimersByTimeAsync(60)

    // Assess
    expect(beforeDrain).toBe(100)
    expect(midway).toBe(60)
    expect(abortedMidway).toBe(false)
    expect(await isSettled(draining)).toBe(true)
    expect(budget.expired).toBe(true)
    expect(budget.signal.aborted).toBe(true)
    expect(budget.remaining()).toBe(0)
  })

  it('resolves as soon as all tracked work settles, rejections included, and is spent then', async () => {
    // Prepare
    const budget = moesifBudget(100)
    const ok = deferred()
    const failing = deferred()
    budget.track(ok.promise)
    const tracked = budget.track(failing.promise)
    const handled = tracked.catch((error: unknown) => error)

    // Act
    const draining = budget.drain()
    await vi.advanceTimersByTimeAsync(10)
    ok.resolve()
    const afterOne = await isSettled(draining)
    failing.reject(new Error('send failed'))
    const afterBoth = await isSettled(draining)

    // Assess
    expect(tracked).toBe(failing.promise)
    expect(await handled).toEqual(new Error('send failed'))
    expect(afterOne).toBe(false)
    expect(afterBoth).toBe(true)
    expect(budget.expired).toBe(true)
  })

  it('waits for work tracked after the clock started, within the same deadline', async () => {
    // Prepare
    const budget = moesifBudget(100)
    const first = deferred()
    const later = deferred()
    budget.track(first.promise)
    const draining = budget.drain()

    // Act
    await vi.advanceTimersByTimeAsync(10)
    budget.track(later.promise)
    first.resolve()
    const whileLaterRuns = await isSettled(draining)
    await vi.advanceTimersByTimeAsync(90)

    // Assess: the later work never settled; the deadline still ended the wait.
    expect(whileLaterRuns).toBe(false)
    expect(await isSettled(draining)).toBe(true)
  })

  it('does not wait at all with maxWaitMs 0, nor with nothing tracked', async () => {
    // Prepare
    const zero = moesifBudget(0)
    zero.track(new Promise(() => undefined))
    const idle = moesifBudget(100)

    // Act
    const zeroDrain = zero.drain()
    const idleDrain = idle.drain()

    // Assess
    expect(await isSettled(zeroDrain)).toBe(true)
    expect(await isSettled(idleDrain)).toBe(true)
    expect(zero.drain()).toBe(zeroDrain)
  })

  it('refuses a negative or non-finite maxWaitMs', () => {
    expect(() => moesifBudget(-1)).toThrow(TypeError)
    expect(() => moesifBudget(Number.NaN)).toThrow(TypeError)
    expect(() => moesifBudget(Number.POSITIVE_INFINITY)).toThrow(TypeError)
  })
})
