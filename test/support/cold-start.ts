/**
 * Load deployed handler modules as a Lambda cold start would: with exactly
 * `env` as their environment, from a fresh module graph (vi.resetModules, like
 * a new container), and with their log lines captured. The logger is imported
 * from the same fresh graph as the handlers, or the capture would attach to a
 * stale copy. Handlers read process.env when their config middleware first
 * runs, so load them after the environment is in place.
 */
import { onTestFinished, vi } from 'vitest'
import type { EnvRecord } from './keys'
import { useProcessEnv } from './process-env'

/** What a cold start loaded, and the log lines it has written since. */
export interface ColdStarted<M> {
  /** What `load` resolved to: a handler module, or several taken from the same fresh graph. */
  readonly module: M
  /** The log lines, appended to the array passed in (if one was). */
  readonly lines: string[]
}

/** A cold start its caller undoes: {@link coldStartModule}'s parts for a beforeAll. */
export interface ManualColdStart<M> extends ColdStarted<M> {
  /** Put the logger's previous sink back (call in afterAll; the environment stays stubbed until vi.unstubAllEnvs). */
  readonly restoreLogSink: () => void
}

/**
 * Cold-start what `load` imports, for as long as the caller wants: for a
 * handler shared by the tests of a file (started in beforeAll). Undo it with
 * `restoreLogSink()` and vi.unstubAllEnvs. Inside a test, prefer
 * {@link coldStartModule}.
 *
 * @example
 * const lines: string[] = []
 * const { module, restoreLogSink } = await loadColdStart(() => import('../../src/handlers/authorizer'), envFor('HS256'), lines)
 */
export async function loadColdStart<M>(load: () => Promise<M>, env: EnvRecord, lines: string[] = []): Promise<ManualColdStart<M>> {
  useProcessEnv(env)
  vi.resetModules()
  const { setLogSink } = await import('../../src/lib/runtime/logger')
  const restoreLogSink = setLogSink((line) => lines.push(line))
  try {
    return { module: await load(), lines, restoreLogSink }
  } catch (error) {
    restoreLogSink()
    throw error
  }
}

/**
 * Cold-start what `load` imports, inside a test: the log capture and the
 * environment are undone when the test finishes (after its afterEach hooks).
 *
 * @example
 * const { module, lines } = await coldStartModule(() => import('../../src/handlers/whoami'), { LOG_LEVEL: 'DEBUG' })
 */
export async function coldStartModule<M>(load: () => Promise<M>, env: EnvRecord, lines?: string[]): Promise<ColdStarted<M>> {
  // Registered first, so the environment is undone even if the import fails.
  onTestFinished(() => {
    vi.unstubAllEnvs()
  })
  const started = await loadColdStart(load, env, lines)
  // Test-finished hooks run last registered first: the sink goes back before the environment.
  onTestFinished(() => {
    started.restoreLogSink()
  })
  return { module: started.module, lines: started.lines }
}
