/**
 * Shared pieces of the Moesif tests: settings, payload 2.0 events, a Lambda
 * context, captured log lines, and a reset of moesif-aws-lambda's
 * process-wide config manager.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { createRequire } from 'node:module'
import type { Context } from 'aws-lambda'
import { setLogSink } from '../../../src/lib/runtime/logger'
import { MOESIF_DEFAULT_BASE_URI, type MoesifSettings } from '../../../src/lib/moesif/settings'
import type { ApiEvent } from '../../../src/lib/moesif/wrapper'

export const APPLICATION_ID = 'test-application-id'

/** What the tests read and reset of moesif-aws-lambda's process-wide config manager. */
export interface ConfigManagerState {
  _config?: unknown
  _configHash?: unknown
  _lastSeenHash?: unknown
  _loadingConfig?: boolean
  _lastConfigUpdate: number
}
export const configManager = createRequire(import.meta.url)('moesif-aws-lambda/lib/moesifConfigManager.js') as ConfigManagerState

/** Forget the library's sampling config, so each test fetches its own collector's. */
export function resetLibraryState(): void {
  configManager._config = undefined
  configManager._configHash = undefined
  configManager._lastSeenHash = undefined
  configManager._loadingConfig = false
  configManager._lastConfigUpdate = 0
}

export function settingsFor(overrides: Partial<MoesifSettings>): MoesifSettings {
  return {
    applicationId: APPLICATION_ID,
    baseUri: MOESIF_DEFAULT_BASE_URI,
    maxWaitMs: 100,
    logBody: true,
    maskFields: [],
    rulesTtlMs: 60_000,
    ...overrides
  }
}

export function apiEvent(
  overrides: { body?: string; isBase64Encoded?: boolean; headers?: Record<string, string>; authorizer?: Record<string, unknown> } = {}
): ApiEvent {
  const event: ApiEvent = {
    version: '2.0',
    routeKey: 'POST /v1/widgets',
    rawPath: '/v1/widgets',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', authorization: 'Bearer secret-key', ...overrides.headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api-id',
      authorizer: { lambda: overrides.authorizer ?? { orgId: 'org-42', userId: 'user-7' } },
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: { method: 'POST', path: '/v1/widgets', protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'vitest' },
      requestId: 'gateway-request-id',
      routeKey: 'POST /v1/widgets',
      stage: '$default',
      time: '28/Nov/2026:16:00:00 +0000',
      timeEpoch: Date.now()
    },
    isBase64Encoded: overrides.isBase64Encoded ?? false
  }
  if (overrides.body !== undefined) event.body = overrides.body
  return event
}

export function lambdaContext(awsRequestId: string): Context {
  return {
    awsRequestId,
    functionName: 'protected-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:protected-api',
    memoryLimitInMB: '128',
    logGroupName: '/aws/lambda/protected-api',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined
  }
}

/** Capture log lines (parsed) until the returned restore is called. */
export function captureLogs(): { lines: Record<string, unknown>[]; restore: () => void } {
  const lines: Record<string, unknown>[] = []
  const restore = setLogSink((line) => lines.push(JSON.parse(line) as Record<string, unknown>))
  return { lines, restore }
}

/** Lines of `level` whose message is `message`. */
export function linesOf(lines: readonly Record<string, unknown>[], level: string, message: string): Record<string, unknown>[] {
  return lines.filter((l) => l.level === level && l.message === message)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Record the process's uncaught exceptions and unhandled rejections while the
 * calling file's tests run (the library's old crash paths): the returned array
 * is emptied before each test, so `expect(crashes).toEqual([])` speaks of that test.
 */
export function recordCrashes(): unknown[] {
  const crashes: unknown[] = []
  const onCrash = (error: unknown): void => {
    crashes.push(error)
  }
  beforeAll(() => {
    process.on('uncaughtException', onCrash)
    process.on('unhandledRejection', onCrash)
  })
  afterAll(() => {
    process.off('uncaughtException', onCrash)
    process.off('unhandledRejection', onCrash)
  })
  beforeEach(() => {
    crashes.length = 0
  })
  return crashes
}
