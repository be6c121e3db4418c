import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './free-port'

/** A running `npm start` stack, started the same way the README starts it. */
export interface LocalStack {
  readonly baseUrl: string
  /** The stack's process id (serverless-offline, dynalite and the helpers all live in it). */
  readonly pid: number
  /** Whether the process is still running. */
  readonly running: () => boolean
  /** Everything the stack printed so far (stdout and stderr). */
  readonly output: () => string
  readonly stop: () => Promise<void>
}

/**
 * Start the local stack (`scripts/run-ts.mjs src/local/start.ts`, what
 * `npm start` execs) on free ports, with `env` layered over a clean
 * environment, and wait until serverless-offline says it is ready.
 *
 * @example
 * const stack = await startLocalStack({ JWT_ALGORITHM: 'HS256', JWT_SECRET: secret })
 */
export async function startLocalStack(
  env: Record<string, string>,
  options: { readyTimeoutMs?: number; stateDir?: string } = {}
): Promise<LocalStack> {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'dpk-state-'))
  // A port found free can be taken before the stack binds it (other stacks, or this one's own
  // ephemeral servers, start side by side): that one failure is retried on fresh ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(env, stateDir, options.readyTimeoutMs ?? 150_000)
    } catch (error) {
      if (attempt >= 3 || !(error instanceof PortTakenError)) throw error
    }
  }
}

class PortTakenError extends Error {}

/** The environment every local command starts from: nothing of the caller's shell but PATH and HOME. */
function cleanEnv(stateDir: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    LOCAL_STATE_DIR: stateDir,
    // No rebuild-on-change: an edit elsewhere in the tree must not swap bundles under a running test.
    ESBUILD_WATCH_PATTERN: '.no-watch'
  }
}

/** How a local command ended. */
export interface LocalCommandResult {
  /** The exit code; `null` when it was killed (after `timeoutMs`, or by a signal). */
  readonly code: number | null
  /** What it printed on stdout (portal-token: the token only). */
  readonly stdout: string
  /** What it printed on stderr (start.ts: every `[local]` line). */
  readonly stderr: string
  /** How long it ran. */
  readonly ms: number
}

/**
 * Run one of the local tools (`src/local/start.ts`, `src/local/portal-token.ts`)
 * the way npm runs it, in the same clean environment as {@link startLocalStack}
 * with `env` over it, and wait for it to end; after `timeoutMs` it is killed
 * (code `null`). For the starts that must fail fast, and for commands used
 * beside a running stack.
 *
 * @example
 * const result = await runLocalCommand('src/local/start.ts', [], { PORTAL_ORIGINS: '*' }, { stateDir, timeoutMs: 30_000 })
 */
export async function runLocalCommand(
  entry: string,
  args: readonly string[],
  env: Record<string, string>,
  options: { stateDir: string; timeoutMs: number }
): Promise<LocalCommandResult> {
  const started = performance.now()
  const child = spawn(process.execPath, ['scripts/run-ts.mjs', entry, ...args], {
    cwd: process.cwd(),
    env: { ...cleanEnv(options.stateDir), ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
  const code = await new Promise<number | null>((resolve) => child.once('close', (exitCode) => resolve(exitCode)))
  clearTimeout(timer)
  return { code, stdout, stderr, ms: performance.now() - started }
}

async function startOnce(env: Record<string, string>, stateDir: string, readyTimeoutMs: number): Promise<LocalStack> {
  const port = await freePort()
  let output = ''
  const child: ChildProcess = spawn(process.execPath, ['scripts/run-ts.mjs', 'src/local/start.ts'], {
    cwd: process.cwd(),
    env: { ...cleanEnv(stateDir), PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      child.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      child.kill('SIGTERM')
    })
  }

  const deadline = Date.now() + readyTimeoutMs
  while (!output.includes('Server ready')) {
    if (child.exitCode !== null) {
      const message = `local stack exited with ${child.exitCode}:\n${output}`
      throw output.includes('EADDRINUSE') ? new PortTakenError(message) : new Error(message)
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`local stack not ready in time:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    running: () => child.exitCode === null && child.signalCode === null,
    output: () => output,
    stop
  }
}
