/**
 * `npm start` refuses, before anything listens, what used to start "ready"
 * and then hang or fail every request, and ends with one clear line:
 * findings 5a (serverless-offline failing), 5b (a broken identity-provider
 * setting), 5c (a mistyped name) and 5d (a second start on the same state
 * folder, a state folder git does not ignore). Each case runs src/local/start.ts
 * the way `npm start` does (src/local/stack-process.ts), in a clean environment.
 */
import { createServer, type Server } from 'node:net'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../../src/local/free-port'
import { runLocalCommand, type LocalCommandResult } from '../../src/local/stack-process'
import { LOCK_FILE } from '../../src/local/state-lock'

const START = 'src/local/start.ts'
const newStateDir = (): string => mkdtempSync(join(tmpdir(), 'dpk-refuse-'))

async function start(env: Record<string, string>, options: { stateDir?: string; timeoutMs?: number } = {}): Promise<LocalCommandResult> {
  return runLocalCommand(
    START,
    [],
    { PORT: String(await freePort()), ...env },
    { stateDir: options.stateDir ?? newStateDir(), timeoutMs: options.timeoutMs ?? 30_000 }
  )
}

const lines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '')

/** Exit code 1 (not killed by the timeout), and exactly one `could not start` line, the last one, matching `reason`. */
function expectRefused(result: LocalCommandResult, reason: RegExp): void {
  const output = result.stderr + result.stdout
  expect(result.code, output).toBe(1)
  const verdicts = lines(result.stderr).filter((line) => line.includes('could not start'))
  expect(verdicts, output).toHaveLength(1)
  expect(lines(result.stderr).at(-1)).toBe(verdicts[0])
  expect(verdicts[0]).toMatch(/^\[local\] could not start: /)
  expect(verdicts[0]).toMatch(reason)
}

/** Nothing was started: no helper server, no serverless-offline. */
function expectNothingStarted(result: LocalCommandResult): void {
  expect(result.stderr).not.toMatch(/JWKS at|local collector at|dynalite at|starting serverless offline/)
}

describe('5a: serverless-offline failing to start ends npm start (it used to hang with nothing listening)', { timeout: 150_000 }, () => {
  it('PORTAL_ORIGINS=* is refused within seconds, before anything starts', async () => {
    const result = await start({ PORTAL_ORIGINS: '*' })
    expectRefused(result, /could not start: PORTAL_ORIGINS must be a comma-separated list of origins/)
    expectNothingStarted(result)
    expect(result.ms).toBeLessThan(20_000)
  })

  it('any error serverless reports (here a bad AUTHORIZER_CACHE_TTL, found while it resolves serverless.yml) ends it with one line', async () => {
    const result = await start({ AUTHORIZER_CACHE_TTL: 'soon' }, { timeoutMs: 100_000 })
    expectRefused(
      result,
      /could not start: serverless offline: AUTHORIZER_CACHE_TTL must be a whole number of seconds from 0 to 3600 \(resolving .* in serverless\.yml\)/
    )
    // serverless's own multi-line report (environment, docs, stack) is replaced by that line.
    expect(result.stderr + result.stdout).not.toMatch(/Docs: {8}github\.com|Variables resolution errored/)
  })

  it('a port already in use (serverless-offline exits itself) ends with the same kind of line', async () => {
    const port = await freePort()
    const taken: Server = createServer()
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve))
    try {
      const result = await runLocalCommand(START, [], { PORT: String(port) }, { stateDir: newStateDir(), timeoutMs: 120_000 })
      expectRefused(result, /could not start: serverless offline exited with code 1 \(its error is above\)/)
      expect(result.stderr + result.stdout).toMatch(/EADDRINUSE/)
    } finally {
      await new Promise((resolve) => taken.close(resolve))
    }
  })
})

describe('5b: a broken identity-provider setting is refused before starting (it used to answer 500 to every create-key)', { timeout: 60_000 }, () => {
  it.each([
    [
      'AUTH_PROVIDER=Auth0 without AUTH0_DOMAIN',
      { AUTH_PROVIDER: 'Auth0' },
      /Invalid configuration: AUTH0_DOMAIN must be set when AUTH_PROVIDER=Auth0/
    ],
    ['OKTA_ORG_URL=not-a-url', { AUTH_PROVIDER: 'Okta', OKTA_ORG_URL: 'not-a-url' }, /Invalid configuration: OKTA_ORG_URL must be an absolute URL/],
    [
      'PORTAL_ISSUER without PORTAL_JWKS_URI',
      { PORTAL_ISSUER: 'https://login.example.com/', PORTAL_AUDIENCE: 'portal' },
      /Invalid configuration: PORTAL_JWKS_URI must be set/
    ]
  ])('%s', async (_name, env, reason) => {
    const result = await start(env)
    expectRefused(result, reason)
    expectNothingStarted(result)
  })

  it('warns that OKTA_ORG_URL means nothing without AUTH_PROVIDER (the local identity provider is used)', async () => {
    // A bad MOESIF_MAX_WAIT_MS (checked with the other settings, also before anything starts) only ends the start early.
    const result = await start({ OKTA_ORG_URL: 'https://acme.okta.com', MOESIF_MAX_WAIT_MS: 'soon' })
    expect(result.stderr).toContain('[local] warning: OKTA_ORG_URL is ignored without AUTH_PROVIDER (Auth0 or Okta)')
    expectRefused(result, /Invalid configuration: MOESIF_MAX_WAIT_MS must be a non-negative integer/)
    expectNothingStarted(result)
  })
})

describe('5c: a mistyped setting is reported with the name meant', { timeout: 60_000 }, () => {
  it('JWT_ALGORTHM in the environment: a warning suggesting JWT_ALGORITHM, before anything else', async () => {
    // PORTAL_ORIGINS=* only makes the start end right after the warnings.
    const result = await start({ JWT_ALGORTHM: 'HS512', PORTAL_ORIGINS: '*' })
    const output = lines(result.stderr)
    expect(output[0]).toBe(
      '[local] warning: JWT_ALGORTHM in the environment is not a setting dev-portal-keys reads (ignored): did you mean JWT_ALGORITHM?'
    )
    expect(output.filter((line) => line.includes('warning:'))).toHaveLength(1)
  })
})

describe('5d: the state folder', { timeout: 60_000 }, () => {
  const insideRepo = `dpk-state-not-ignored-${process.pid}`
  afterAll(() => rmSync(insideRepo, { recursive: true, force: true }))

  it('a second start on a folder a live stack holds says so, with its pid and how to run a second stack', async () => {
    // Prepare: the folder's lock held by a live process (this test's own).
    const stateDir = newStateDir()
    writeFileSync(join(stateDir, LOCK_FILE), JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:3000', startedAt: new Date().toISOString() }))

    const result = await start({}, { stateDir })

    expectRefused(result, new RegExp(`another local stack \\(pid ${process.pid}, http://127\\.0\\.0\\.1:3000\\) is using the state folder`))
    expect(result.stderr).toContain('LOCAL_STATE_DIR=.local-2 PORT=3100 npm start')
    expectNothingStarted(result)
    expect(JSON.parse(readFileSync(join(stateDir, LOCK_FILE), 'utf8')).pid).toBe(process.pid)
    expect(existsSync(join(stateDir, 'jwt-secret'))).toBe(false)
  })

  it('portal-token still works while a stack holds the folder (it takes no lock)', async () => {
    const stateDir = newStateDir()
    writeFileSync(join(stateDir, LOCK_FILE), JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:3000', startedAt: new Date().toISOString() }))
    const result = await runLocalCommand('src/local/portal-token.ts', ['--sub', 'auth0|alice', '--org', 'acme'], {}, { stateDir, timeoutMs: 30_000 })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
  })

  it('a folder inside the checkout that git does not ignore is refused by npm start and portal-token, and never created', async () => {
    const result = await runLocalCommand(START, [], { PORT: String(await freePort()) }, { stateDir: insideRepo, timeoutMs: 30_000 })
    expectRefused(
      result,
      new RegExp(`LOCAL_STATE_DIR ${insideRepo} is inside the git checkout .*, but git does not ignore it.*add /${insideRepo}/ to \\.gitignore`)
    )
    const token = await runLocalCommand('src/local/portal-token.ts', ['--sub', 'auth0|alice'], {}, { stateDir: insideRepo, timeoutMs: 30_000 })
    expect(token.code).toBe(1)
    expect(token.stderr).toContain(`add /${insideRepo}/ to .gitignore`)
    expect(existsSync(insideRepo)).toBe(false)
  })
})
