/**
 * Finding 5d: the state folder's lock (one `npm start` per folder) and the
 * rule that a state folder inside a checkout must be git-ignored.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { acquireStackLock, LOCK_FILE, processAlive, StateFolderLockedError, stateFolderGitProblem } from '../../src/local/state-lock'

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
})

/** A live process that is not this one: a sleeping node. */
async function liveProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  children.push(child)
  await new Promise((resolve) => child.once('spawn', resolve))
  return child
}

function writeLock(dir: string, pid: number): void {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid, url: 'http://127.0.0.1:3000', startedAt: new Date().toISOString() }))
}

describe('acquireStackLock', () => {
  it('takes the folder with a lock file holding its pid, and removes it on release', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'dpk-lock-')), 'state')
    const lock = acquireStackLock(dir, { url: 'http://127.0.0.1:3100' })
    expect(JSON.parse(readFileSync(lock.path, 'utf8'))).toMatchObject({ pid: process.pid, url: 'http://127.0.0.1:3100' })
    lock.release()
    expect(existsSync(lock.path)).toBe(false)
  })

  it('refuses while another live process holds it, naming its pid and how to run a second stack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dpk-lock-'))
    const other = await liveProcess()
    writeLock(dir, other.pid!)

    const attempt = (): unknown => acquireStackLock(dir, { url: 'http://127.0.0.1:3100' })

    expect(attempt).toThrow(StateFolderLockedError)
    expect(attempt).toThrow(`another local stack (pid ${other.pid}, http://127.0.0.1:3000) is using the state folder ${dir}`)
    expect(attempt).toThrow('LOCAL_STATE_DIR=.local-2 PORT=3100 npm start')
    // The holder's lock is left alone.
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(other.pid)
  })

  it('takes over a lock whose process was killed with SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dpk-lock-'))
    const killed = await liveProcess()
    writeLock(dir, killed.pid!)
    killed.kill('SIGKILL')
    await new Promise((resolve) => killed.once('exit', resolve))
    expect(processAlive(killed.pid!)).toBe(false)

    const lock = acquireStackLock(dir, { url: 'http://127.0.0.1:3000' })

    expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid)
    lock.release()
  })

  it('takes over a lock file it cannot read (a start killed while writing it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dpk-lock-'))
    writeFileSync(join(dir, LOCK_FILE), '{"pi')
    const lock = acquireStackLock(dir, { url: 'http://127.0.0.1:3000' })
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid)
    lock.release()
  })

  it('does not remove a lock another process has taken since', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dpk-lock-'))
    const lock = acquireStackLock(dir, { url: 'http://127.0.0.1:3000' })
    writeLock(dir, 1)
    lock.release()
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true)
  })
})

describe('stateFolderGitProblem', () => {
  const git = (cwd: string, ...args: string[]) => spawnSync('git', ['-C', cwd, ...args], { encoding: 'utf8' })
  const hasGit = git(process.cwd(), '--version').status === 0

  it.skipIf(!hasGit)('accepts the ignored folders of this checkout (.local, .local-2) and any folder outside it', () => {
    expect(stateFolderGitProblem('.local')).toBeUndefined()
    expect(stateFolderGitProblem('.local-2')).toBeUndefined()
    expect(stateFolderGitProblem(mkdtempSync(join(tmpdir(), 'dpk-outside-')))).toBeUndefined()
  })

  it.skipIf(!hasGit)('refuses a folder of this checkout that git does not ignore, saying what to add to .gitignore', () => {
    const name = `dpk-state-${process.pid}`
    const problem = stateFolderGitProblem(name)
    expect(problem).toMatch(new RegExp(`^LOCAL_STATE_DIR ${name} is inside the git checkout .*, but git does not ignore it`))
    expect(problem).toContain(`add /${name}/ to .gitignore`)
    // Judged without creating anything.
    expect(existsSync(name)).toBe(false)
    expect(stateFolderGitProblem('.')).toMatch(/is the root of the git checkout/)
  })

  it.skipIf(!hasGit)('judges by the checkout the folder is in: ignored or not by its .gitignore, and nested paths', () => {
    const repo = mkdtempSync(join(tmpdir(), 'dpk-repo-'))
    expect(git(repo, 'init', '-q').status).toBe(0)
    writeFileSync(join(repo, '.gitignore'), 'state/\n')
    expect(stateFolderGitProblem(join(repo, 'state'))).toBeUndefined()
    expect(stateFolderGitProblem('state/deeper', repo)).toBeUndefined()
    expect(stateFolderGitProblem(join(repo, 'other'))).toContain('add /other/ to .gitignore')
    // Only jwt-secret ignored is not enough: the identity provider's key would be committed.
    writeFileSync(join(repo, '.gitignore'), 'partial/jwt-secret\n')
    expect(stateFolderGitProblem(join(repo, 'partial'))).toContain('add /partial/ to .gitignore')
    rmSync(repo, { recursive: true, force: true })
  })
})
