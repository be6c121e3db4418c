import { describe, expect, it } from 'vitest'
import { corsAllowed, isLocalOnlyPath, summarizeServerlessError } from '../../src/local/offline-hooks'

describe('summarizeServerlessError', () => {
  it('finds the resolver message in what serverless says when serverless.yml cannot be resolved', () => {
    // As osls 4.3.1 words it for PORTAL_ORIGINS=* (captured from `npm start`).
    const message = [
      'Cannot resolve serverless.yml: Variables resolution errored with:',
      '  - Cannot resolve variable at "provider.httpApi.cors.allowedOrigins": Cannot resolve "portalOrigins" out of "serverless-env.cjs": Received rejection: Error: PORTAL_ORIGINS must be a comma-separated list of origins such as https://portal.example.com (scheme, host and port only); got an entry that is not one',
      '    at module.exports.portalOrigins (/work/main/config/serverless-env.cjs:59:13)',
      '    at async Promise.all (index 0),',
      '  - Cannot resolve variable at "provider.iam.role.statements": Value not found at "file" source'
    ].join('\n')
    expect(summarizeServerlessError(message)).toBe(
      'PORTAL_ORIGINS must be a comma-separated list of origins such as https://portal.example.com (scheme, host and port only); got an entry that is not one (resolving provider.httpApi.cors.allowedOrigins in serverless.yml)'
    )
  })

  it('otherwise keeps the first problem listed, or the first line', () => {
    expect(summarizeServerlessError('Cannot resolve serverless.yml: errored with:\n  - Value not found at "env" source\n  - another')).toBe(
      'Value not found at "env" source'
    )
    expect(summarizeServerlessError('listen EADDRINUSE: address already in use 127.0.0.1:3000\n    at Server.setupListenHandle')).toBe(
      'listen EADDRINUSE: address already in use 127.0.0.1:3000'
    )
    expect(summarizeServerlessError('')).toBe('unknown error')
  })
})

describe('CORS answers (serverless-offline reflects any Origin; API Gateway only the configured ones)', () => {
  const portal = ['http://127.0.0.1:4000']

  it('keeps CORS headers for a PORTAL_ORIGINS origin on an API route only', () => {
    expect(corsAllowed('http://127.0.0.1:4000', '/create-key', portal)).toBe(true)
    expect(corsAllowed('https://evil.example', '/create-key', portal)).toBe(false)
    expect(corsAllowed('https://evil.example', '/v1/whoami', portal)).toBe(false)
  })

  it('never for the console and /local/* (their own page needs none)', () => {
    for (const path of ['/', '/local/login', '/local/moesif-events', '/local/console.js']) {
      expect(isLocalOnlyPath(path)).toBe(true)
      expect(corsAllowed('http://127.0.0.1:4000', path, portal)).toBe(false)
    }
    expect(isLocalOnlyPath('/localx')).toBe(false)
    expect(isLocalOnlyPath('/keys')).toBe(false)
  })
})
