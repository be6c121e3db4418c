import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateIdentityProviderKeys, type IdentityProviderKeys } from './identity-provider'

/** Secrets the local stack generates on first start and reuses after. */
export interface LocalState {
  /** HMAC secret for local API keys (86 characters: enough for HS512). */
  readonly jwtSecret: string
  readonly identityProvider: IdentityProviderKeys
}

function readOrCreate<T>(path: string, create: () => Promise<T> | T, parse: (text: string) => T, format: (value: T) => string): Promise<T> {
  if (existsSync(path)) return Promise.resolve(parse(readFileSync(path, 'utf8')))
  return Promise.resolve(create()).then((value) => {
    // 0600: these are private keys, even if only local ones.
    writeFileSync(path, format(value), { mode: 0o600 })
    return value
  })
}

/**
 * Load the git-ignored local secrets from `dir` (`.local/`), generating any
 * that are missing: an HS256 secret and a development identity provider's key
 * pair.
 *
 * @example
 * const state = await ensureLocalState('.local', (m) => console.error(m))
 */
export async function ensureLocalState(dir: string, progress: (message: string) => void = () => {}): Promise<LocalState> {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const secretPath = join(dir, 'jwt-secret')
  const idpPath = join(dir, 'identity-provider.json')
  if (!existsSync(secretPath) || !existsSync(idpPath)) progress(`generating local secrets under ${dir}/ (first start only)`)
  const jwtSecret = await readOrCreate(
    secretPath,
    () => randomBytes(64).toString('base64url'),
    (text) => text.trim(),
    (value) => value + '\n'
  )
  const identityProvider = await readOrCreate(
    idpPath,
    generateIdentityProviderKeys,
    (text) => JSON.parse(text) as IdentityProviderKeys,
    (value) => JSON.stringify(value, null, 2) + '\n'
  )
  return { jwtSecret, identityProvider }
}
