import { randomUUID } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

/**
 * A lock file naming the process that owns something local (the state folder
 * of a stack, the state file of the Stripe stand-in) and the URL it serves
 * on: created exclusively (`wx`, mode 0600), taken over when its process is
 * gone, removed when its owner exits. One implementation for both, so they
 * cannot drift.
 */

/** What a lock file holds (JSON). */
export interface PidLockInfo {
  readonly pid: number
  /** Where the owner serves, for the messages of whoever finds it. */
  readonly url: string
  readonly startedAt: string
  /** Tells two owners in one process apart (release removes only its own). */
  readonly token: string
}

/** A held lock. */
export interface PidLock {
  readonly path: string
  /** Remove the lock file if it is still this owner's. Idempotent; also done at exit. */
  readonly release: () => void
}

/** Whether a process with this id exists (EPERM: it exists, and belongs to someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * The lock file's content, or `undefined` when it is missing or unreadable.
 *
 * @example
 * readPidLock('.local/stack.lock') // { pid: 4242, url: 'http://127.0.0.1:3000', startedAt: '...', token: '...' }
 */
export function readPidLock(path: string): PidLockInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as Partial<PidLockInfo>
    if (typeof info.pid !== 'number') return undefined
    return {
      pid: info.pid,
      url: typeof info.url === 'string' ? info.url : 'unknown address',
      startedAt: String(info.startedAt ?? ''),
      token: String(info.token ?? '')
    }
  } catch {
    return undefined
  }
}

/**
 * The live owner named by the lock file at `path`, or `undefined` when none.
 *
 * @example
 * const owner = liveLockHolder('.local/stack.lock')
 */
export function liveLockHolder(path: string): PidLockInfo | undefined {
  const holder = readPidLock(path)
  return holder !== undefined && processAlive(holder.pid) ? holder : undefined
}

/**
 * Take the lock file at `path` for the owner serving on `url` (creating its
 * folder, 0700, if needed), or answer the live owner that holds it. A lock
 * whose process is gone (killed with SIGKILL, say) or that cannot be read is
 * taken over; with `takeOverSamePid`, so is one naming `pid` itself.
 *
 * @example
 * const taken = acquirePidLock('.local/stack.lock', { url: 'http://127.0.0.1:3000' })
 * if ('holder' in taken) throw new Error(`held by pid ${taken.holder.pid}`)
 */
export function acquirePidLock(
  path: string,
  options: { url: string; pid?: number; takeOverSamePid?: boolean }
): PidLock | { readonly holder: PidLockInfo } {
  const pid = options.pid ?? process.pid
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const info: PidLockInfo = { pid, url: options.url, startedAt: new Date().toISOString(), token: randomUUID() }
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number
    try {
      fd = openSync(path, 'wx', 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = readPidLock(path)
      if (holder !== undefined && !(options.takeOverSamePid === true && holder.pid === pid) && processAlive(holder.pid)) return { holder }
      // Stale (its process is gone) or unreadable (an owner killed mid-write): take it over.
      rmSync(path, { force: true })
      continue
    }
    try {
      writeSync(fd, JSON.stringify(info) + '\n')
    } finally {
      closeSync(fd)
    }
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      process.off('exit', release)
      if (readPidLock(path)?.token === info.token) rmSync(path, { force: true })
    }
    process.on('exit', release)
    return { path, release }
  }
  // Three rounds lost to other owners taking it over at the same moment.
  const holder = readPidLock(path)
  if (holder !== undefined) return { holder }
  throw new Error(`could not take the lock ${path}`)
}
