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
      return await startOnce(env, stateDir, options.readyTimeoutMs ?? 90_000)
    } catch (error) {
      if (attempt >= 3 || !(error instanceof PortTakenError)) throw error
    }
  }
}

class PortTakenError extends Error {}

async function startOnce(env: Record<string, string>, stateDir: string, readyTimeoutMs: number): Promise<LocalStack> {
  const port = await freePort()
  const lambdaPort = await freePort()
  let output = ''
  const child: ChildProcess = spawn(process.execPath, ['scripts/run-ts.mjs', 'src/local/start.ts'], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmpdir(),
      LOCAL_STATE_DIR: stateDir,
      // No rebuild-on-change: an edit elsewhere in the tree must not swap bundles under a running test.
      ESBUILD_WATCH_PATTERN: '.no-watch',
      PORT: String(port),
      LAMBDA_PORT: String(lambdaPort),
      ...env
    },
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
