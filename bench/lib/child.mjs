// A forked bench child with request/response over IPC. Its stdout is
// discarded (/dev/null), like the log lines a Lambda ships; the tail of its
// stderr is kept for error messages.
import { fork } from 'node:child_process'

export class BenchChild {
  #child
  #pending = new Map()
  #nextId = 1
  #stderrTail = ''
  #ready
  #exited = false

  constructor(script, env, label) {
    this.label = label
    this.#child = fork(script, [], { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: ['--expose-gc'] })
    this.#child.stderr.setEncoding('utf8')
    this.#child.stderr.on('data', (chunk) => {
      this.#stderrTail = (this.#stderrTail + chunk).slice(-4000)
    })
    this.#ready = new Promise((resolve, reject) => {
      this.#child.on('message', (message) => {
        if (message.type === 'ready') return resolve(message)
        const waiter = this.#pending.get(message.id)
        if (waiter === undefined) return
        this.#pending.delete(message.id)
        if (message.type === 'error') waiter.reject(new Error(`${label}: ${message.error}`))
        else waiter.resolve(message)
      })
      this.#child.on('exit', (code, signal) => {
        this.#exited = true
        const error = new Error(`${label} exited (${signal ?? code})\n${this.#stderrTail}`)
        reject(error)
        for (const waiter of this.#pending.values()) waiter.reject(error)
        this.#pending.clear()
      })
    })
    // An unobserved rejection here would crash the parent before someone awaits ready().
    this.#ready.catch(() => {})
  }

  ready(timeoutMs = 60_000) {
    return withTimeout(this.#ready, timeoutMs, `${this.label}: not ready within ${timeoutMs} ms\n${this.#stderrTail}`)
  }

  request(message, timeoutMs = 60_000) {
    if (this.#exited) return Promise.reject(new Error(`${this.label} has exited\n${this.#stderrTail}`))
    const id = this.#nextId++
    const reply = new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject }))
    this.#child.send({ ...message, id })
    return withTimeout(reply, timeoutMs, `${this.label}: no answer to ${message.type} within ${timeoutMs} ms`)
  }

  close() {
    if (this.#exited) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#child.kill('SIGKILL')
        resolve()
      }, 5_000)
      this.#child.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      this.#child.send({ type: 'exit' })
    })
  }
}

export function withTimeout(promise, ms, message) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** The environment every Lambda-like child starts from: nothing inherited from the caller's shell but PATH and HOME. */
export function lambdaBaseEnv(functionName, extra = {}) {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    TZ: 'UTC',
    AWS_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    // The SDK warns once per process on Node < 22; Lambda runs nodejs22.x, where it stays quiet.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra
  }
}
