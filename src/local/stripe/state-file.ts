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
import { randomUUID } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import type { StripeStandInState } from './store'

/** What the lock file holds (JSON). */
export interface StandInLockInfo {
  readonly pid: number
  /** Where the owning stand-in serves, e.g. `http://127.0.0.1:12111`. */
  readonly url: string
  readonly startedAt: string
  /** Tells two stand-ins of one process apart. */
  readonly token: string
}

/** A held lock. */
export interface StandInLock {
  readonly path: string
  /** Remove the lock file if it is still this stand-in's. Idempotent. */
  release(): void
}

/**
 * The lock file of a state file.
 *
 * @example
 * lockPathOf('.local/stripe.json') // '.local/stripe.json.lock'
 */
export function lockPathOf(statePath: string): string {
  return `${statePath}.lock`
}

function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function readLock(path: string): StandInLockInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as Partial<StandInLockInfo>
    if (typeof info.pid !== 'number' || typeof info.url !== 'string') return undefined
    return { pid: info.pid, url: info.url, startedAt: String(info.startedAt ?? ''), token: String(info.token ?? '') }
  } catch {
    return undefined
  }
}

/**
 * The stand-in that owns `statePath` right now (its lock names a live
 * process), or `undefined` when none does.
 *
 * @example
 * const running = findRunningStripeStandIn('.local/stripe.json') // { pid: 4242, url: 'http://127.0.0.1:12111', ... }
 */
export function findRunningStripeStandIn(statePath: string): StandInLockInfo | undefined {
  const holder = readLock(lockPathOf(statePath))
  return holder !== undefined && processAlive(holder.pid) ? holder : undefined
}

/**
 * Take the lock of `statePath` for a stand-in serving on `url`, or answer the
 * live stand-in that holds it. A lock whose process is gone is taken over.
 *
 * @example
 * const lock = acquireStandInLock('.local/stripe.json', 'http://127.0.0.1:12111')
 * if ('holder' in lock) throw new Error(`already served by ${lock.holder.url}`)
 */
export function acquireStandInLock(statePath: string, url: string): StandInLock | { holder: StandInLockInfo } {
  const path = lockPathOf(statePath)
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const token = randomUUID()
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number
    try {
      fd = openSync(path, 'wx', 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = readLock(path)
      if (holder !== undefined && processAlive(holder.pid)) return { holder }
      rmSync(path, { force: true })
      continue
    }
    try {
      writeSync(fd, JSON.stringify({ pid: process.pid, url, startedAt: new Date().toISOString(), token }) + '\n')
    } finally {
      closeSync(fd)
    }
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      process.off('exit', release)
      if (readLock(path)?.token === token) rmSync(path, { force: true })
    }
    process.on('exit', release)
    return { path, release }
  }
  const holder = readLock(path)
  if (holder !== undefined) return { holder }
  throw new Error(`could not take the lock ${path}`)
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
