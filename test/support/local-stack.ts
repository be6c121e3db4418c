// The end-to-end suites start the stack exactly as `npm start` does; the code lives with the local stack.
export { startLocalStack, type LocalStack } from '../../src/local/stack-process'

/**
 * Timeouts for suites that start the local stack, sized for a busy 2-core
 * machine: a start bundles the handlers with esbuild and boots
 * serverless-offline and dynalite in a child process, and the first call to
 * each function is a cold start in that process. These are ceilings only:
 * nothing waits for them, and no test asserts on elapsed time.
 */
export const STACK_TIMEOUTS = {
  /**
   * Per stack started (and stopped) in one hook or test: above startLocalStack's own
   * 150 s readiness wait, so its error, which carries the stack's output, is the one reported.
   */
  perStackStart: 210_000,
  /** A test that only calls a running stack. */
  call: 90_000
} as const

/**
 * The timeout of a hook or test that starts `stacks` stacks, one after the
 * other or side by side (on two cores, side by side is barely faster).
 *
 * @example
 * beforeAll(async () => {
 *   stack = await startLocalStack(env)
 * }, stackStartTimeout())
 */
export function stackStartTimeout(stacks = 1): number {
  return stacks * STACK_TIMEOUTS.perStackStart
}
