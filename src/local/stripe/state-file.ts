/**
 * Where a stand-in keeps its state between runs, and how a second process
 * finds the running one. The running stand-in is the only writer of the state
 * file (`statePath`, JSON, mode 0600: it holds the stand-in's API key and
 * webhook secret): it rewrites it after every change, atomically (a temporary
 * file renamed over it). Next to it, `<statePath>.lock` names the process that
 * owns the file and the URL it serves on. Another process (a CLI) does not
 * edit the file: it reads the lock and the key, and asks the running
 * stand-in over HTTP (its `/_stand-in/*` admin endpoints), which serialises
 * every change through one event loop. With no stand-in running, the CLI may
 * start one on the same `statePath` itself.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { StripeStandInState } from './store'
import { acquirePidLock, liveLockHolder, type PidLock, type PidLockInfo } from '../pid-lock'

/** What the lock file holds (JSON): the owning stand-in's pid, URL and token. */
export type StandInLockInfo = PidLockInfo

/** A held lock. */
export type StandInLock = PidLock

/**
 * The lock file of a state file.
 *
 * @example
 * lockPathOf('.local/stripe.json') // '.local/stripe.json.lock'
 */
export function lockPathOf(statePath: string): string {
  return `${statePath}.lock`
}

/**
 * The stand-in that owns `statePath` right now (its lock names a live
 * process), or `undefined` when none does.
 *
 * @example
 * const running = findRunningStripeStandIn('.local/stripe.json') // { pid: 4242, url: 'http://127.0.0.1:12111', ... }
 */
export function findRunningStripeStandIn(statePath: string): StandInLockInfo | undefined {
  return liveLockHolder(lockPathOf(statePath))
}

/**
 * Take the lock of `statePath` for a stand-in serving on `url`, or answer the
 * live stand-in that holds it. A lock whose process is gone is taken over.
 *
 * @example
 * const lock = acquireStandInLock('.local/stripe.json', 'http://127.0.0.1:12111')
 * if ('holder' in lock) throw new Error(`already served by ${lock.holder.url}`)
 */
export function acquireStandInLock(statePath: string, url: string): StandInLock | { readonly holder: StandInLockInfo } {
  return acquirePidLock(lockPathOf(statePath), { url })
}

/**
 * Read a state file: the state, `undefined` when there is none yet, or, for
 * a file that is not a stand-in's state, the reason (the caller moves it aside).
 *
 * @example
 * const loaded = loadStandInState('.local/stripe.json')
 */
export function loadStandInState(path: string): { state: StripeStandInState } | { problem: string } | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  try {
    const state = JSON.parse(text) as Partial<StripeStandInState>
    if (state.version !== 1 || typeof state.apiKey !== 'string' || typeof state.customers !== 'object' || state.customers === null) {
      return { problem: 'not a version 1 stand-in state' }
    }
    return {
      state: {
        version: 1,
        apiKey: state.apiKey,
        webhookSecret: String(state.webhookSecret ?? ''),
        customers: state.customers,
        subscriptions: state.subscriptions ?? {},
        checkoutSessions: state.checkoutSessions ?? {},
        events: state.events ?? []
      }
    }
  } catch (error) {
    return { problem: (error as Error).message }
  }
}

/**
 * Write a state file atomically (a temporary file in the same folder, renamed over it), readable by its owner only.
 *
 * @example
 * saveStandInState('.local/stripe.json', store.state)
 */
export function saveStandInState(path: string, state: StripeStandInState): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(state) + '\n', { mode: 0o600 })
  renameSync(tmp, path)
}

/**
 * Move an unreadable state file aside (to `<path>.corrupt-<time>`) so a fresh one can start; answers the new name.
 *
 * @example
 * const kept = moveAside('.local/stripe.json') // '.local/stripe.json.corrupt-1767225600000'
 */
export function moveAside(path: string): string {
  const target = `${path}.corrupt-${Date.now()}`
  renameSync(path, target)
  return target
}
