/**
 * The patch of @middy/core 6.4.5 (patches/@middy+core+6.4.5.patch, see
 * patches/README.md): node:stream, node:stream/promises and node:stream/web
 * are loaded only for a streaming handler, and a handler without an early
 * timeout is awaited directly. Everything middy does must still work:
 * streamed responses, the early timeout, early responses, after and onError
 * middlewares, the plugin hooks.
 */
import { execFileSync } from 'node:child_process'
import { PassThrough } from 'node:stream'
import { ReadableStream } from 'node:stream/web'
import middy from '@middy/core'
import type { Context } from 'aws-lambda'
import { afterEach, describe, expect, it } from 'vitest'

/** Builtin modules (as process.moduleLoadList names them) a fresh Node has loaded after running `code` as an ES module. */
function modulesLoadedBy(code: string): string[] {
  // Read the list before writing it: process.stdout itself loads node:stream.
  const report = `const loaded = JSON.stringify(process.moduleLoadList);\nconst { writeSync } = await import('node:fs');\nwriteSync(1, loaded)`
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', `${code}\n${report}`], {
    encoding: 'utf8'
  })
  return JSON.parse(out) as string[]
}

const STREAM_MODULES = ['NativeModule stream', 'NativeModule stream/promises', 'NativeModule stream/web']

describe('@middy/core patch: stream modules only for streaming handlers', () => {
  it('loads none of them to import middy, build a buffered handler and invoke it', () => {
    const loaded = modulesLoadedBy(`
      const { default: middy } = await import('@middy/core')
      const handler = middy({ timeoutEarlyInMillis: 0 }).use({ before: async () => {} }).handler(async () => 'ok')
      if (await handler({}, {}) !== 'ok') throw new Error('wrong answer')`)
    expect(loaded.filter((name) => STREAM_MODULES.includes(name))).toEqual([])
  })

  it('loads them while a streaming handler is built, before its first request', () => {
    const loaded = modulesLoadedBy(`
      globalThis.awslambda = { streamifyResponse: (fn) => fn, HttpResponseStream: { from: (stream) => stream } }
      const { default: middy } = await import('@middy/core')
      middy({ streamifyResponse: true }).handler(async () => 'ok')
      await new Promise((resolve) => setTimeout(resolve, 50))`)
    expect(STREAM_MODULES.filter((name) => !loaded.includes(name))).toEqual([])
  })
})

describe('@middy/core patch: streamed responses still work', () => {
  type StreamingHandler = (event: unknown, stream: PassThrough, context: Partial<Context>) => Promise<void>
  const metadata: unknown[] = []

  afterEach(() => {
    delete (globalThis as { awslambda?: unknown }).awslambda
    metadata.length = 0
  })

  /** A streaming middy handler, with the Lambda runtime's `awslambda` global stood in for. */
  function streaming(respond: () => unknown): StreamingHandler {
    ;(globalThis as { awslambda?: unknown }).awslambda = {
      streamifyResponse: (fn: StreamingHandler) => fn,
      HttpResponseStream: {
        from: (stream: PassThrough, meta: unknown) => {
          metadata.push(meta)
          return stream
        }
      }
    }
    return middy({ streamifyResponse: true }).handler(async () => respond()) as unknown as StreamingHandler
  }

  async function streamed(handler: StreamingHandler): Promise<string> {
    const sink = new PassThrough()
    const chunks: Buffer[] = []
    sink.on('data', (chunk: Buffer) => chunks.push(chunk))
    await handler({}, sink, { getRemainingTimeInMillis: () => 10_000 })
    return Buffer.concat(chunks).toString()
  }

  it('streams a string body', async () => {
    expect(await streamed(streaming(() => 'hello'))).toBe('hello')
  })

  it('streams a string longer than one chunk', async () => {
    const long = 'x'.repeat(50_000)
    expect(await streamed(streaming(() => long))).toBe(long)
  })

  it('streams an HTTP response: status and headers as metadata, then the body', async () => {
    const body = await streamed(streaming(() => ({ statusCode: 201, headers: { 'content-type': 'text/plain' }, body: 'created' })))
    expect(body).toBe('created')
    expect(metadata).toEqual([{ statusCode: 201, headers: { 'content-type': 'text/plain' } }])
  })

  it('streams a web ReadableStream body', async () => {
    const web = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('from a web stream'))
        controller.close()
      }
    })
    expect(await streamed(streaming(() => web))).toBe('from a web stream')
  })

  it('still refuses a body that is not a stream or a string', async () => {
    await expect(streamed(streaming(() => 42))).rejects.toThrow('handler response not a ReadableStream')
  })
})

describe('@middy/core patch: buffered handlers behave as before', () => {
  const context = (remainingMs = 10_000): Context => ({ getRemainingTimeInMillis: () => remainingMs }) as unknown as Context

  it('answers with the handler’s result, through before and after middlewares in order, and awaits requestEnd', async () => {
    const order: string[] = []
    const handler = middy({
      timeoutEarlyInMillis: 0,
      requestEnd: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        order.push('requestEnd')
      }
    })
      .use({ before: async () => void order.push('before'), after: async () => void order.push('after 1') })
      .use({ after: async () => void order.push('after 2') })
      .handler(async () => {
        order.push('handler')
        return 'ok'
      })
    expect(await handler({}, context())).toBe('ok')
    expect(order).toEqual(['before', 'handler', 'after 2', 'after 1', 'requestEnd'])
  })

  it('runs the before stack in order, with the plugin hooks around each middleware', async () => {
    const order: string[] = []
    const handler = middy({
      timeoutEarlyInMillis: 0,
      beforeMiddleware: (name: string) => void order.push(`hook before ${name}`),
      afterMiddleware: (name: string) => void order.push(`hook after ${name}`)
    })
      .before(async function first() {
        order.push('first')
      })
      .before(function second() {
        order.push('second')
      })
      .handler(async () => {
        order.push('handler')
        return 'ok'
      })
    expect(await handler({}, context())).toBe('ok')
    expect(order).toEqual(['hook before first', 'first', 'hook after first', 'hook before second', 'second', 'hook after second', 'handler'])
  })

  it('stops the before stack at an early response', async () => {
    const order: string[] = []
    const handler = middy({ timeoutEarlyInMillis: 0 })
      .before(async () => {
        order.push('first')
        return undefined
      })
      .before(() => {
        order.push('second')
        return 'early'
      })
      .before(() => void order.push('third'))
      .after(() => void order.push('after'))
      .handler(async () => 'late')
    expect(await handler({}, context())).toBe('early')
    expect(order).toEqual(['first', 'second'])
  })

  it('takes an early response from a before middleware and skips the handler', async () => {
    let called = false
    const handler = middy({ timeoutEarlyInMillis: 0 })
      .before(async () => 'early')
      .handler(async () => {
        called = true
        return 'late'
      })
    expect(await handler({}, context())).toBe('early')
    expect(called).toBe(false)
  })

  it('hands a thrown error to onError, and rethrows what onError leaves unanswered', async () => {
    const recovered = middy({ timeoutEarlyInMillis: 0 })
      .onError(async (request) => {
        request.response = `recovered from ${(request.error as Error).message}`
      })
      .handler(async () => {
        throw new Error('boom')
      })
    expect(await recovered({}, context())).toBe('recovered from boom')
    const unanswered = middy({ timeoutEarlyInMillis: 0 }).handler(() => {
      throw new Error('sync boom')
    })
    await expect(unanswered({}, context())).rejects.toThrow('sync boom')
  })

  it('still times out early when a timeout is set, and passes the abort signal', async () => {
    let signal: AbortSignal | undefined
    const handler = middy({ timeoutEarlyInMillis: 5 }).handler(async (_event, _context, options) => {
      signal = options.signal
      return new Promise(() => {})
    })
    await expect(handler({}, context(30))).rejects.toMatchObject({ name: 'TimeoutError' })
    expect(signal?.aborted).toBe(true)
  })

  it('clears the early-timeout timer when the handler answers first', async () => {
    const handler = middy({ timeoutEarlyInMillis: 5 }).handler(async () => 'quick')
    expect(await handler({}, context(1000))).toBe('quick')
  })
})
