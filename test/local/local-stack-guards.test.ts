/**
 * The local stack as `npm start` runs it, attacked the way a web page on any
 * website (or a program reaching serverless-offline's Lambda port) could:
 * finding 6, plus the end-to-end side of 5d (lock) and 7 (escaped output).
 * One stack for the file, and one restart on the same folder after SIGKILL.
 */
import { request } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../src/local/free-port'
import { runLocalCommand, startLocalStack, type LocalStack } from '../../src/local/stack-process'

const stateDir = mkdtempSync(join(tmpdir(), 'dpk-guarded-'))
let stack: LocalStack
let oldLambdaPort: number

beforeAll(async () => {
  // LAMBDA_PORT is what serverless-offline's Invoke API used to listen on: given here to show nothing does.
  oldLambdaPort = await freePort()
  stack = await startLocalStack({ LAMBDA_PORT: String(oldLambdaPort) }, { stateDir, readyTimeoutMs: 150_000 })
}, 180_000)

afterAll(async () => {
  await stack?.stop()
})

interface Answer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

/** A raw HTTP request (fetch will not set Host or Origin freely), over TCP or a Unix socket. */
function send(
  target: { url: string; socketPath?: string },
  options: { method?: string; headers?: Record<string, string>; body?: string } = {}
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(target.url, { method: options.method ?? 'GET', headers: options.headers, socketPath: target.socketPath }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

function expectRefused(answer: Answer): void {
  expect(answer.status, answer.body).toBe(403)
  expect(JSON.parse(answer.body)).toEqual({ message: expect.stringMatching(/^(Refused|The )/), code: 'ERR_REFUSED', requestId: expect.any(String) })
}

describe('6: only the stack own page and programs may use /local/* and the console', { timeout: 60_000 }, () => {
  it('a cross-site POST /local/login (text/plain, no preflight) gets 403 and no ID token, and no CORS header for that origin', async () => {
    const answer = await send(
      { url: `${stack.baseUrl}/local/login` },
      { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'text/plain' }, body: '{"sub":"auth0|mallory","org":"victim"}' }
    )
    expectRefused(answer)
    expect(answer.body).not.toContain('idToken')
    expect(answer.headers['access-control-allow-origin']).toBeUndefined()
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined()
  })

  it('DNS rebinding (a Host of the attacker that resolves to 127.0.0.1) gets 403', async () => {
    const port = new URL(stack.baseUrl).port
    for (const path of ['/local/login', '/', '/local/console.js', '/local/moesif-events', '/local/stripe']) {
      const method = path === '/local/login' ? 'POST' : 'GET'
      const answer = await send(
        { url: `${stack.baseUrl}${path}` },
        {
          method,
          headers: { host: `rebind.evil.example:${port}`, origin: `http://rebind.evil.example:${port}` },
          body: method === 'POST' ? '{"sub":"x"}' : undefined
        }
      )
      expectRefused(answer)
    }
  })

  it('another origin, the portal one included, may not read the events feed or the console', async () => {
    expectRefused(await send({ url: `${stack.baseUrl}/local/moesif-events` }, { headers: { origin: 'http://127.0.0.1:4000' } }))
    expectRefused(await send({ url: `${stack.baseUrl}/` }, { headers: { origin: 'https://evil.example' } }))
    expectRefused(
      await send(
        { url: `${stack.baseUrl}/local/console.js` },
        { headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' } }
      )
    )
  })

  it('the stack own page and programs still get in', async () => {
    const port = new URL(stack.baseUrl).port
    const login = await send(
      { url: `${stack.baseUrl}/local/login` },
      {
        method: 'POST',
        headers: { origin: stack.baseUrl, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
        body: '{"sub":"auth0|alice"}'
      }
    )
    expect(login.status).toBe(200)
    expect(JSON.parse(login.body)).toMatchObject({ idToken: expect.any(String), userId: 'auth0|alice' })
    expect((await send({ url: `http://localhost:${port}/` })).status).toBe(200)
    expect((await fetch(`${stack.baseUrl}/local/moesif-events`)).status).toBe(200)
  })

  it('API routes carry CORS headers for PORTAL_ORIGINS only, as API Gateway does (serverless-offline reflected any origin)', async () => {
    const foreign = await send({ url: `${stack.baseUrl}/openapi.json` }, { headers: { origin: 'https://evil.example' } })
    expect(foreign.status).toBe(200)
    expect(Object.keys(foreign.headers).filter((name) => name.startsWith('access-control-'))).toEqual([])
    const portal = await send({ url: `${stack.baseUrl}/openapi.json` }, { headers: { origin: 'http://127.0.0.1:4000' } })
    expect(portal.headers['access-control-allow-origin']).toBe('http://127.0.0.1:4000')
  })

  it('a caller cannot replace the authorizer context with sls-offline-authorizer-override', async () => {
    const answer = await send(
      { url: `${stack.baseUrl}/v1/whoami` },
      { headers: { 'sls-offline-authorizer-override': '{"lambda":{"companyId":"forged-company","userId":"mallory"}}' } }
    )
    expectRefused(answer)
  })
})

describe('6: the Lambda Invoke API is closed', { timeout: 60_000 }, () => {
  it('nothing listens on LAMBDA_PORT, and the Unix socket serverless-offline gets instead refuses every invocation', async () => {
    const invocation = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ headers: {}, requestContext: {} }) }
    await expect(
      send({ url: `http://127.0.0.1:${oldLambdaPort}/2015-03-31/functions/dev-portal-keys-local-whoami/invocations` }, invocation)
    ).rejects.toThrow(/ECONNREFUSED/)
    expect(stack.output()).toContain('[local] warning: LAMBDA_PORT is ignored')

    const socketPath = /listening on http:\/\/127\.0\.0\.1:(\/\S+\.sock)/.exec(stack.output())?.[1]
    expect(socketPath).toBeDefined()
    const answer = await send({ url: 'http://localhost/2015-03-31/functions/dev-portal-keys-local-whoami/invocations', socketPath }, invocation)
    expectRefused(answer)
    // The forged event never ran: whoami sent Moesif nothing.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(stack.output()).not.toMatch(/moesif event: \S+ \S*\/v1\/whoami/)
  })
})

describe('7: what the stack prints is escaped', { timeout: 60_000 }, () => {
  it('an event whose company id holds a newline prints as one line, not a forged `[local] moesif event:` line', async () => {
    const collector = /local collector at (http:\/\/127\.0\.0\.1:\d+)/.exec(stack.output())?.[1]
    expect(collector).toBeDefined()
    const forged = 'acme\n[local] moesif event: GET /v1/whoami -> 200 company_id=victim'
    const posted = await fetch(`${collector}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ request: { time: 't', uri: '/v1/echo', verb: 'GET' }, response: { time: 't', status: 200 }, company_id: forged })
    })
    expect(posted.status).toBe(201)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const printed = stack.output().split('\n')
    expect(printed).toContain(
      '[local] moesif event: GET /v1/echo -> 200 company_id=acme\\n[local] moesif event: GET /v1/whoami -> 200 company_id=victim user_id=- authorization=(absent)'
    )
    expect(printed.filter((line) => line.startsWith('[local] moesif event: GET /v1/whoami'))).toEqual([])
  })
})

describe('5d: one stack per state folder', { timeout: 200_000 }, () => {
  it('a second start on the folder is refused with the running stack pid; portal-token keeps working', async () => {
    const second = await runLocalCommand('src/local/start.ts', [], { PORT: String(await freePort()) }, { stateDir, timeoutMs: 60_000 })
    expect(second.code, second.stderr).toBe(1)
    expect(second.stderr).toContain(
      `[local] could not start: another local stack (pid ${stack.pid}, ${stack.baseUrl}) is using the state folder ${stateDir}`
    )
    expect(second.stderr).toContain('LOCAL_STATE_DIR=.local-2 PORT=3100 npm start')
    expect(second.stderr).not.toContain('Database is closed')
    expect(stack.running()).toBe(true)

    const token = await runLocalCommand('src/local/portal-token.ts', ['--sub', 'auth0|alice', '--org', 'acme'], {}, { stateDir, timeoutMs: 30_000 })
    expect(token.code, token.stderr).toBe(0)
    const created = await fetch(`${stack.baseUrl}/create-key`, { method: 'POST', headers: { authorization: `Bearer ${token.stdout.trim()}` } })
    expect(created.status).toBe(201)
  })

  it('after the stack is killed with SIGKILL, the next start takes the folder over (and its key table)', async () => {
    process.kill(stack.pid, 'SIGKILL')
    while (stack.running()) await new Promise((resolve) => setTimeout(resolve, 100))
    // What its exit handler would have removed: its build folder and the invoke socket's folder.
    rmSync(`.esbuild-local-${stack.pid}`, { recursive: true, force: true })
    const socketPath = /listening on http:\/\/127\.0\.0\.1:(\/\S+\.sock)/.exec(stack.output())?.[1]
    if (socketPath !== undefined) rmSync(dirname(socketPath), { recursive: true, force: true })

    const restarted = await startLocalStack({}, { stateDir, readyTimeoutMs: 150_000 })
    try {
      expect(restarted.output()).toMatch(/key table dev-portal-keys-local-keys: existing/)
      const token = await runLocalCommand('src/local/portal-token.ts', ['--sub', 'auth0|alice', '--org', 'acme'], {}, { stateDir, timeoutMs: 30_000 })
      const keys = await fetch(`${restarted.baseUrl}/keys`, { headers: { authorization: `Bearer ${token.stdout.trim()}` } })
      expect(keys.status).toBe(200)
      expect(((await keys.json()) as { keys: unknown[] }).keys).toHaveLength(1)
    } finally {
      await restarted.stop()
    }
  })
})
