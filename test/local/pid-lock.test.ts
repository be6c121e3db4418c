import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { acquirePidLock, liveLockHolder, processAlive, readPidLock } from '../../src/local/pid-lock'

const lockIn = () => join(mkdtempSync(join(tmpdir(), 'dpk-pid-lock-')), 'nested', 'thing.lock')

describe('acquirePidLock', () => {
  it('takes a free lock, names this process and its URL, and releases only its own', () => {
    const path = lockIn()
    const taken = acquirePidLock(path, { url: 'http://127.0.0.1:3000' })
    if ('holder' in taken) throw new Error('expected the lock')
    expect(readPidLock(path)).toMatchObject({ pid: process.pid, url: 'http://127.0.0.1:3000' })
    expect(liveLockHolder(path)?.pid).toBe(process.pid)
    taken.release()
    taken.release()
    expect(existsSync(path)).toBe(false)
  })

  it('answers the live holder instead of taking its lock, even within one process', () => {
    const path = lockIn()
    const first = acquirePidLock(path, { url: 'http://127.0.0.1:1' })
    const second = acquirePidLock(path, { url: 'http://127.0.0.1:2' })
    expect(second).toMatchObject({ holder: { pid: process.pid, url: 'http://127.0.0.1:1' } })
    if ('holder' in first) throw new Error('expected the lock')
    first.release()
  })

  it('takes over a lock naming its own pid only when asked to', () => {
    const path = lockIn()
    const first = acquirePidLock(path, { url: 'http://127.0.0.1:1' })
    const again = acquirePidLock(path, { url: 'http://127.0.0.1:2', takeOverSamePid: true })
    expect('holder' in again).toBe(false)
    expect(readPidLock(path)?.url).toBe('http://127.0.0.1:2')
    // The first owner's release must not remove the lock it no longer holds.
    if ('holder' in first) throw new Error('expected the lock')
    first.release()
    expect(existsSync(path)).toBe(true)
  })

  it('takes over a lock whose process is gone, and one that cannot be read', () => {
    const path = lockIn()
    const gone = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid
    expect(processAlive(gone)).toBe(false)
    acquirePidLock(path, { url: 'x', pid: gone })
    expect(liveLockHolder(path)).toBeUndefined()
    expect('holder' in acquirePidLock(path, { url: 'http://127.0.0.1:3' })).toBe(false)
    writeFileSync(path, 'not json')
    expect(readPidLock(path)).toBeUndefined()
    expect('holder' in acquirePidLock(path, { url: 'http://127.0.0.1:4' })).toBe(false)
    expect(readPidLock(path)?.url).toBe('http://127.0.0.1:4')
  })
})
