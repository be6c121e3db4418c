import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { HttpError } from '../../src/lib/runtime/errors'
import { CONSOLE_ASSETS, consoleAsset } from '../../src/local/console-assets'

const DIR = 'src/local/console'

describe('consoleAsset', () => {
  it('serves the page with a strict content security policy, and its script and stylesheet', async () => {
    const page = await consoleAsset(DIR, '/')
    const script = await consoleAsset(DIR, '/local/console.js')
    const styles = await consoleAsset(DIR, '/local/console.css')

    expect(page.statusCode).toBe(200)
    expect(page.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' })
    expect(page.headers?.['content-security-policy']).toMatch(/script-src 'self';/)
    expect(page.headers?.['content-security-policy']).toMatch(/frame-ancestors 'none'/)
    expect(script.headers?.['content-type']).toBe('text/javascript; charset=utf-8')
    expect(styles.headers?.['content-type']).toBe('text/css; charset=utf-8')
  })

  it.each(['/index.html', '/local/../../package.json', '/local/console.ts', '__proto__', '/local/'])('answers 404 for %s', async (path) => {
    await expect(consoleAsset(DIR, path)).rejects.toMatchObject({ statusCode: 404, code: 'ERR_NOT_FOUND' })
    await expect(consoleAsset(DIR, path)).rejects.toBeInstanceOf(HttpError)
  })

  it('keeps the page within its policy: scripts by src only, no inline handlers or styles, links to its own files', () => {
    const html = readFileSync(`${DIR}/index.html`, 'utf8')
    expect(html.match(/<script\b[^>]*>/g)).toEqual(['<script type="module" src="/local/console.js">'])
    expect(html).not.toMatch(/\son[a-z]+=/i)
    expect(html).not.toMatch(/\sstyle=|<style/i)
    expect(html).toContain('href="/local/console.css"')
    expect(Object.keys(CONSOLE_ASSETS).sort()).toEqual(['/', '/local/console.css', '/local/console.js'])
  })

  it('never keeps a token or key in storage, a cookie or a URL', () => {
    // Code only: the file's comments say what it never does, in those words.
    const script = readFileSync(`${DIR}/console.js`, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
    expect(script).not.toMatch(/localStorage|sessionStorage|document\.cookie|indexedDB|history\.(push|replace)State|location\.(hash|search)\s*=/)
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/)
  })
})
