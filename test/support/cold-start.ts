import { onTestFinished, vi } from 'vitest'
import type { EnvRecord } from './keys'
import { useProcessEnv } from './process-env'

/**
 * Load a deployed handler module as a Lambda cold start would: with exactly
 * `env` as its environment, from a fresh module graph, and with its log lines
 * captured. The logger is imported from the same fresh graph as the handler,
 * or the capture would attach to a stale copy. Call it inside a test; the
 * capture and the environment are undone when the test finishes.
 *
 * @example
 * const { module, lines } = await coldStart<typeof WhoamiModule>('../../src/handlers/whoami.ts', { LOG_LEVEL: 'DEBUG' })
 */
export async function coldStart<M>(modulePath: string, env: EnvRecord): Promise<{ module: M; lines: string[] }> {
  useProcessEnv(env)
  vi.resetModules()
  const { setLogSink } = await import('../../src/lib/logger')
  const lines: string[] = []
  const restore = setLogSink((line) => lines.push(line))
  onTestFinished(() => {
    restore()
    vi.unstubAllEnvs()
  })
  const module = (await import(/* @vite-ignore */ new URL(modulePath, import.meta.url).href)) as M
  return { module, lines }
}
