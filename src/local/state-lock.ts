import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, realpathSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { acquirePidLock, liveLockHolder, type PidLock, type PidLockInfo } from './pid-lock'

/**
 * The state folder (`LOCAL_STATE_DIR`, `.local` by default) holds the local
 * stack's secrets and dynalite's LevelDB files, which one process at a time
 * may open: a second `npm start` on the same folder used to die later with
 * "Database is closed". `npm start` now takes a lock file there first; other
 * commands (`portal-token`) only read the secrets, and take no lock.
 */

/** The lock file's name inside the state folder. */
export const LOCK_FILE = 'stack.lock'

/** What the lock file holds (JSON): the stack's pid and where it serves. */
export type StackLockInfo = PidLockInfo

/** Another live process holds the state folder. */
export class StateFolderLockedError extends Error {
  readonly holder: StackLockInfo
  constructor(dir: string, holder: StackLockInfo) {
    super(
      `another local stack (pid ${holder.pid}, ${holder.url}) is using the state folder ${dir}: stop it first, ` +
        `or run a second stack with a folder and port of its own, for example LOCAL_STATE_DIR=.local-2 PORT=3100 npm start ` +
        `(if pid ${holder.pid} is not a local stack, delete ${join(dir, LOCK_FILE)})`
    )
    this.name = 'StateFolderLockedError'
    this.holder = holder
  }
}

/** A held lock. */
export type StackLock = PidLock

export { processAlive } from './pid-lock'

/**
 * The stack that holds the state folder `dir` right now (its lock names a
 * live process), or `undefined` when none does. For the commands that drive
 * a running stack (`npm run -s stripe`); they take no lock.
 *
 * @example
 * const stack = findRunningStack('.local') // { pid: 4242, url: 'http://127.0.0.1:3000', startedAt: '...' }
 */
export function findRunningStack(dir: string): StackLockInfo | undefined {
  return liveLockHolder(join(dir, LOCK_FILE))
}

/**
 * Take the state folder's lock for this process (creating the folder, 0700,
 * if needed): `stack.lock`, created exclusively, holding the pid and `url`.
 * A lock whose process is gone (killed with SIGKILL, say) or that cannot be
 * read is taken over; one held by a live process throws
 * {@link StateFolderLockedError}, whose message says how to run a second stack.
 * The lock is released when this process exits.
 *
 * @example
 * const lock = acquireStackLock('.local', { url: 'http://127.0.0.1:3000' })
 */
export function acquireStackLock(dir: string, options: { url: string; pid?: number }): StackLock {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const taken = acquirePidLock(join(dir, LOCK_FILE), { ...options, takeOverSamePid: true })
  if ('holder' in taken) throw new StateFolderLockedError(dir, taken.holder)
  return taken
}

/** The files the local tools write into the state folder, which must all be git-ignored (stripe.json: the Stripe stand-in's key and webhook secret). */
const STATE_FILES = ['jwt-secret', 'identity-provider.json', join('dynamodb', 'CURRENT'), LOCK_FILE, 'stripe.json']

/**
 * Why the state folder must not be used, or `undefined` when it may: a
 * folder inside a git work tree (this checkout or another) whose files git
 * would not ignore, so the generated secrets could be committed. Outside a
 * work tree, or without git, there is nothing to check; inside one, a
 * `git check-ignore` that fails is a refusal too.
 *
 * @example
 * const problem = stateFolderGitProblem('.local-2') // 'LOCAL_STATE_DIR .local-2 is inside the git checkout ...'
 */
export function stateFolderGitProblem(dir: string, cwd: string = process.cwd()): string | undefined {
  const absolute = resolve(cwd, dir)
  let existing = absolute
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing)
  const top = spawnSync('git', ['-C', existing, 'rev-parse', '--show-toplevel'], { encoding: 'utf8' })
  if (top.error !== undefined || top.status !== 0) return undefined
  const root = realpathSync(top.stdout.trim())
  // Through real paths, so a symlinked checkout or temporary folder compares as git sees it.
  const inside = relative(root, join(realpathSync(existing), relative(existing, absolute)))
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) return undefined
  if (inside === '')
    return `LOCAL_STATE_DIR ${dir} is the root of the git checkout ${root}: give the local stack a folder of its own, such as .local-2`
  const paths = STATE_FILES.map((file) => join(inside, file))
  const check = spawnSync('git', ['-C', root, 'check-ignore', '-z', '--stdin'], { encoding: 'utf8', input: paths.join('\0') + '\0' })
  // 0: some are ignored, 1: none is. Inside a checkout, a git that cannot tell is no reason to write secrets there.
  if (check.error !== undefined || (check.status !== 0 && check.status !== 1)) {
    const detail = (check.stderr ?? '').trim().split('\n')[0] || String(check.error ?? `exit code ${check.status}`)
    return `LOCAL_STATE_DIR ${dir} is inside the git checkout ${root}, and git check-ignore could not say whether it is ignored (${detail})`
  }
  const ignored = new Set(check.stdout.split('\0').filter(Boolean))
  if (paths.every((path) => ignored.has(path))) return undefined
  return (
    `LOCAL_STATE_DIR ${dir} is inside the git checkout ${root}, but git does not ignore it, and it will hold secrets ` +
    `(the API-key secret, the identity provider's private key): add /${inside.split(sep).join('/')}/ to .gitignore, or use a folder outside the checkout`
  )
}
