import middy from '@middy/core'
import type { Context } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import { configMiddleware } from '../../../src/lib/runtime/config-middleware'
import type { Env } from '../../../src/lib/runtime/env'
import { lambdaContext } from '../../support/events'

interface TestConfig {
  readonly region: string | undefined
  readonly tags: string[]
}

/** A middy handler that answers with the config it was handed, plus a counter of loads. */
function handlerWith(load: (env: Env) => TestConfig | Promise<TestConfig>, env?: Env) {
  const loads = { count: 0 }
  const config = configMiddleware({
    load: (e) => {
      loads.count += 1
      return load(e)
    },
    ...(env === undefined ? {} : { env })
  })
  const handler = middy<unknown, TestConfig>()
    .use(config)
    .handler(async () => config.current())
  const invoke = (context: Context = lambdaContext()): Promise<TestConfig> => handler({}, context)
  return { invoke, loads }
}

describe('configMiddleware', () => {
  it('loads the config once across invocations and hands every one the same object', async () => {
    // Prepare
    const { invoke, loads } = handlerWith((env) => ({ region: env.REGION, tags: ['a'] }), { REGION: 'eu-west-1' })
    // Act
    const first = await invoke()
    const second = await invoke()
    const third = await invoke()
    // Assess
    expect(loads.count).toBe(1)
    expect(first).toEqual({ region: 'eu-west-1', tags: ['a'] })
    expect(second).toBe(first)
    expect(third).toBe(first)
  })

  it('loads once for concurrent first invocations', async () => {
    // Prepare
    const { invoke, loads } = handlerWith(async () => {
      await new Promise((resolve) => setTimeout(resolve, 10))
      return { region: 'x', tags: [] }
    })
    // Act
    const results = await Promise.all([invoke(), invoke(), invoke()])
    // Assess
    expect(loads.count).toBe(1)
    expect(new Set(results).size).toBe(1)
  })

  it('freezes the config', async () => {
    const { invoke } = handlerWith(() => ({ region: 'eu-west-1', tags: [] }))
    const config = await invoke()
    expect(Object.isFrozen(config)).toBe(true)
    expect(() => {
      ;(config as { region: string | undefined }).region = 'us-east-1'
    }).toThrow(TypeError)
  })

  it('does not cache a failure: the next invocation loads again', async () => {
    // Prepare
    let attempts = 0
    const { invoke, loads } = handlerWith(() => {
      attempts += 1
      if (attempts === 1) throw new Error('secret store throttled')
      return { region: 'eu-west-1', tags: [] }
    })
    // Act
    const first = invoke()
    await expect(first).rejects.toThrow('secret store throttled')
    const second = await invoke()
    const third = await invoke()
    // Assess
    expect(second.region).toBe('eu-west-1')
    expect(third).toBe(second)
    expect(loads.count).toBe(2)
  })

  it('does not cache an async failure either', async () => {
    let attempts = 0
    const { invoke, loads } = handlerWith(async () => {
      attempts += 1
      if (attempts < 3) throw new Error(`failure ${attempts}`)
      return { region: 'r', tags: [] }
    })
    await expect(invoke()).rejects.toThrow('failure 1')
    await expect(invoke()).rejects.toThrow('failure 2')
    await expect(invoke()).resolves.toMatchObject({ region: 'r' })
    expect(loads.count).toBe(3)
  })

  it('reads process.env when no env is given', async () => {
    // Prepare
    let seen: Env | undefined
    const { invoke } = handlerWith((env) => {
      seen = env
      return { region: undefined, tags: [] }
    })
    // Act
    await invoke()
    // Assess
    expect(seen).toBe(process.env)
  })

  it('refuses current() before a load has succeeded, naming the cause', async () => {
    // Prepare
    const config = configMiddleware({
      load: () => {
        throw new Error('bad setting')
      }
    })
    const handler = middy<unknown, unknown>()
      .use(config)
      .handler(async () => config.current())
    // Act + Assess
    expect(() => config.current()).toThrow(/before the config was loaded/)
    await expect(handler({}, lambdaContext())).rejects.toThrow('bad setting')
    expect(() => config.current()).toThrow(TypeError)
  })

  it.each([
    ['a missing load', {}],
    ['a string load', { load: 'loadApiKeyConfig' }],
    ['a null load', { load: null }]
  ])('throws a TypeError at once (cold start) for %s', (_name, options) => {
    expect(() => configMiddleware(options as unknown as Parameters<typeof configMiddleware>[0])).toThrow(TypeError)
  })
})
