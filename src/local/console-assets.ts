import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { HttpError } from '../lib/runtime/errors'

/**
 * The local key console's static files: one page, its script and its
 * stylesheet, plain files under `src/local/console/` with no build step. Local
 * stage only (config/local-functions.cjs); never packaged.
 */

/** Route path to file name and content type. Nothing else under the folder is ever served. */
export const CONSOLE_ASSETS: Readonly<Record<string, { readonly file: string; readonly contentType: string }>> = Object.freeze({
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/local/console.js': { file: 'console.js', contentType: 'text/javascript; charset=utf-8' },
  '/local/console.css': { file: 'console.css', contentType: 'text/css; charset=utf-8' }
})

/**
 * The page shows an API key once and holds ID tokens in memory: scripts only
 * from this origin (no inline script, so an injected string cannot run), no
 * framing, no referrer, no caching.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store'
} as const

/**
 * Answer a console route with its file from `dir`, read on every request so
 * an edit shows on reload. An unknown path throws a 404 {@link HttpError}.
 *
 * @example
 * const response = await consoleAsset('src/local/console', '/') // 200 text/html
 */
export async function consoleAsset(dir: string, path: string): Promise<APIGatewayProxyStructuredResultV2> {
  const asset = Object.hasOwn(CONSOLE_ASSETS, path) ? CONSOLE_ASSETS[path] : undefined
  if (asset === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', 'Not Found')
  const body = await readFile(join(dir, asset.file), 'utf8')
  return { statusCode: 200, headers: { 'content-type': asset.contentType, ...SECURITY_HEADERS }, body }
}
