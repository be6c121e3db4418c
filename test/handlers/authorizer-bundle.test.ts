/**
 * The authorizer as it is deployed: one CommonJS bundle built from
 * node_modules (so with the @middy/core patch), with the esbuild settings of
 * serverless.yml's custom.esbuild. Its cold start must not load what it does
 * not use: no node:stream/web (only middy's streaming responses need it), and
 * no key-store code (SigV4 signing, the DynamoDB client) without KEYS_TABLE.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadApiKeyConfig } from '../../src/lib/keys/api-key-config'
import { issueApiKey } from '../../src/lib/keys/issue-api-key'
import { authorizerEvent } from '../support/events'
import { envFor } from '../support/keys'

let dir: string
let bundle: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'authorizer-bundle-'))
  bundle = join(dir, 'authorizer.cjs')
  // serverless.yml, custom.esbuild.
  await build({
    entryPoints: ['src/handlers/authorizer.ts'],
    outfile: bundle,
    bundle: true,
    minify: true,
    sourcemap: false,
    target: 'node22',
    platform: 'node',
    format: 'cjs',
    external: ['@aws-sdk/*'],
    logLevel: 'silent'
  })
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** Load the bundle in a fresh Node, invoke it once, and report what it loaded and answered. */
const CHILD = `
const Module = require('node:module')
const required = []
const load = Module._load
Module._load = function (request, ...rest) {
  required.push(request)
  return load.call(this, request, ...rest)
}
const { handler } = require(process.env.BUNDLE)
handler(JSON.parse(process.env.EVENT), { awsRequestId: 'cold-1', getRemainingTimeInMillis: () => 10000 }).then((answer) => {
  const builtins = process.moduleLoadList.filter((name) => name.startsWith('NativeModule '))
  require('node:fs').writeSync(2, JSON.stringify({ answer, required, builtins }))
})
`

describe('authorizer bundle: what a cold start loads', () => {
  it('loads no node:stream/web and no key-store code without KEYS_TABLE, and still answers and warns', async () => {
    // Prepare
    const env = envFor('HS256', { JWT_KID: 'k-1' })
    const issued = await issueApiKey(
      loadApiKeyConfig(env, 'sign'),
      { userId: 'auth0|alice', companyId: 'acme' },
      { nowSeconds: Math.floor(Date.now() / 1000) }
    )
    const event = authorizerEvent({ headers: { authorization: `Bearer ${issued.apikey}` } })
    // Act
    const child = spawnSync(process.execPath, ['-e', CHILD], {
      env: { PATH: process.env.PATH, ...env, LOG_LEVEL: 'INFO', BUNDLE: bundle, EVENT: JSON.stringify(event) },
      encoding: 'utf8'
    })
    // Assess
    const report = JSON.parse(child.stderr) as { answer: { isAuthorized: boolean }; required: string[]; builtins: string[] }
    expect(report.answer.isAuthorized).toBe(true)
    // node:crypto itself loads node:stream and node:stream/promises (its Hash is a stream); node:stream/web is middy's alone.
    expect(report.builtins).toContain('NativeModule crypto')
    expect(report.builtins).not.toContain('NativeModule stream/web')
    // aws4 (the key store's SigV4 signing) is the only code in the bundle that requires querystring.
    expect(report.required).not.toContain('querystring')
    expect(child.stdout).toContain('"message":"revocation disabled: KEYS_TABLE is not set, so only signature and expiry are checked"')
  })
})
