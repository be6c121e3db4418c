import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Catch a mistyped setting (`JWT_ALGORTHM=HS512`) before it is silently
 * ignored. Pure functions, but for {@link projectSettingNames}, which reads
 * the project's files; `npm start` prints the warnings (src/local/start.ts).
 */

/**
 * Prefixes of the names this project reads, plus those of the reference
 * portal's settings (`STRIPE_`, `APP_`): only names with one of them (in any
 * case) are judged when they come from the shell's environment, which holds
 * plenty of other programs' settings.
 */
export const SETTING_PREFIXES: readonly string[] = [
  'JWT_',
  'PLUGIN_JWT_',
  'PORTAL_',
  'AUTH0_',
  'OKTA_',
  'AUTH_',
  'MOESIF_',
  'KEYS_',
  'REVOCATION_',
  'AUTHORIZER_',
  'LOCAL_',
  'DYNAMODB_',
  'STRIPE_',
  'APP_',
  'MAX_',
  'LOG_',
  'HTTP_API_',
  'LAMBDA_',
  'ESBUILD_'
]

/** Names the local tools read that no source file spells out as a literal. */
const ALWAYS_KNOWN = ['PORT', 'LOCAL_STATE_DIR', 'ESBUILD_WORK_FOLDER', 'ESBUILD_WATCH_PATTERN']

const NAME = '[A-Za-z_][A-Za-z0-9_]*'
/** `NAME=` or `# NAME=` at the start of a line (`.env.example` documents optional settings commented out). */
const EXAMPLE_LINE = new RegExp(`^[ \\t]*(?:#[ \\t]*)?(${NAME})[ \\t]*=`, 'gm')
/** `process.env.NAME`, `process.env['NAME']`, `${env:NAME` and quoted upper-case names with an underscore ('JWT_SECRET'). */
const SOURCE_PATTERNS = [
  /process\.env\.([A-Z][A-Z0-9_]*)/g,
  /process\.env\[\s*['"`]([A-Z][A-Z0-9_]*)['"`]\s*\]/g,
  /\$\{env:([A-Z][A-Z0-9_]*)/g,
  /['"]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)['"]/g
]

/**
 * Source text without its comments, which may quote a name (a typo in an
 * example, say) that no code reads: `#` comments in YAML, block and line
 * comments elsewhere. Naive about comment markers inside strings, which
 * costs at most a name or two on that line.
 */
function withoutComments(source: string, yaml: boolean): string {
  if (yaml) return source.replace(/(^|\s)#.*$/gm, '$1')
  return source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:\\'"`])\/\/.*$/gm, '$1')
}

/**
 * The names `.env.example` documents: every `NAME=` or `# NAME=` line.
 *
 * @example
 * namesInEnvExample('JWT_ALGORITHM=HS256\n# KEYS_TABLE=t\n') // ['JWT_ALGORITHM', 'KEYS_TABLE']
 */
export function namesInEnvExample(text: string): string[] {
  return [...text.matchAll(EXAMPLE_LINE)].map((match) => match[1] as string)
}

/**
 * The setting names a source file (TypeScript, CommonJS, or serverless.yml
 * with `yaml`) reads, outside comments: `process.env.X`, `${env:X}`, and
 * quoted upper-case names with one of {@link SETTING_PREFIXES}
 * (`readEnv(env, 'JWT_KID')`, `setting('JWT_SECRET_ARN')`).
 *
 * @example
 * namesReadBy("readEnv(env, 'JWT_KID') ?? process.env.PORT") // ['JWT_KID', 'PORT']
 */
export function namesReadBy(source: string, options: { yaml?: boolean } = {}): string[] {
  const code = withoutComments(source, options.yaml ?? false)
  const names = new Set<string>()
  for (const [index, pattern] of SOURCE_PATTERNS.entries()) {
    for (const match of code.matchAll(pattern)) {
      const name = match[1] as string
      // A quoted constant is a setting only when it has one of our prefixes (not 'ERR_CONFIG').
      if (index < SOURCE_PATTERNS.length - 1 || hasSettingPrefix(name)) names.add(name)
    }
  }
  return [...names]
}

/**
 * The known names: those given, plus the `PLUGIN_` form of every `JWT_` name
 * (the reference plugin's spelling, which the code also reads) and the local
 * tools' own.
 *
 * @example
 * knownSettingNames(['JWT_KID']).has('PLUGIN_JWT_KID') // true
 */
export function knownSettingNames(names: Iterable<string>): Set<string> {
  const known = new Set<string>(ALWAYS_KNOWN)
  for (const name of names) {
    known.add(name)
    if (name.startsWith('JWT_')) known.add(`PLUGIN_${name}`)
  }
  return known
}

/** Whether `name` (in any case) starts with one of {@link SETTING_PREFIXES}. */
export function hasSettingPrefix(name: string): boolean {
  const upper = name.toUpperCase()
  return SETTING_PREFIXES.some((prefix) => upper.startsWith(prefix))
}

/**
 * Optimal string alignment distance (Levenshtein plus the swap of two
 * neighbours, the commonest typo): `JWT_ALGORTHM` is 1 from `JWT_ALGORITHM`.
 *
 * @example
 * editDistance('JTW_KID', 'JWT_KID') // 1
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      const row = d[i] as number[]
      const above = d[i - 1] as number[]
      row[j] = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1)
      }
    }
  }
  return (d[rows - 1] as number[])[cols - 1] as number
}

/** How far a name may be from a known one and still count as a typo of it: 2, or 1 for short names. */
function tolerance(name: string): number {
  return name.length <= 6 ? 1 : 2
}

/**
 * The known name `name` most likely meant, or `undefined` when none is close
 * (within 2 edits, 1 for names of six characters or fewer; case is ignored,
 * so `jwt_secret` means `JWT_SECRET`). Ties go to the first in sorted order.
 *
 * @example
 * suggestSettingName('JWT_ALGORTHM', known) // 'JWT_ALGORITHM'
 */
export function suggestSettingName(name: string, known: ReadonlySet<string>): string | undefined {
  const upper = name.toUpperCase()
  let best: { name: string; distance: number } | undefined
  for (const candidate of [...known].sort()) {
    const distance = editDistance(upper, candidate)
    if (distance <= tolerance(candidate) && (best === undefined || distance < best.distance)) best = { name: candidate, distance }
  }
  return best?.name
}

/** A name that looks like a setting but is not one this project reads. */
export interface UnknownSetting {
  readonly name: string
  readonly source: '.env' | 'environment'
  /** The known name it probably meant, if one is close. */
  readonly suggestion: string | undefined
}

/**
 * Find the names that look like ours but are not. From `.env` (a file
 * written for this project, from .env.example): every unknown name with one
 * of {@link SETTING_PREFIXES}, and any other unknown name close to a known
 * one (`PROT`). From the environment, which also carries other programs'
 * `LOG_DIR` or `APP_ENV`: only prefixed names close to a known one.
 *
 * @example
 * unknownSettings({ dotEnv: ['JWT_ALGORTHM'], environment: ['PATH', 'LOG_LEVL'], known })
 * // [{ name: 'JWT_ALGORTHM', source: '.env', suggestion: 'JWT_ALGORITHM' }, { name: 'LOG_LEVL', source: 'environment', suggestion: 'LOG_LEVEL' }]
 */
export function unknownSettings(input: {
  readonly dotEnv: Iterable<string>
  readonly environment: Iterable<string>
  readonly known: ReadonlySet<string>
}): UnknownSetting[] {
  const found: UnknownSetting[] = []
  const seen = new Set<string>()
  const judge = (name: string, source: UnknownSetting['source']): void => {
    if (input.known.has(name) || seen.has(name)) return
    const prefixed = hasSettingPrefix(name)
    if (source === 'environment' && !prefixed) return
    const suggestion = suggestSettingName(name, input.known)
    if (suggestion === undefined && (source === 'environment' || !prefixed)) return
    seen.add(name)
    found.push({ name, source, suggestion })
  }
  for (const name of input.dotEnv) judge(name, '.env')
  for (const name of input.environment) judge(name, 'environment')
  return found
}

/**
 * The warning line for one unknown name.
 *
 * @example
 * describeUnknownSetting({ name: 'JWT_ALGORTHM', source: '.env', suggestion: 'JWT_ALGORITHM' })
 * // 'JWT_ALGORTHM in .env is not a setting dev-portal-keys reads (ignored): did you mean JWT_ALGORITHM?'
 */
export function describeUnknownSetting(unknown: UnknownSetting): string {
  const where = unknown.source === '.env' ? 'in .env' : 'in the environment'
  const hint = unknown.suggestion === undefined ? 'see .env.example for the names' : `did you mean ${unknown.suggestion}?`
  return `${unknown.name} ${where} is not a setting dev-portal-keys reads (ignored): ${hint}`
}

/**
 * The known names of the project at `root`: those `.env.example` documents
 * and those serverless.yml, config/ and src/ read (see {@link namesReadBy}),
 * with {@link knownSettingNames}'s additions. Tests are not read.
 *
 * @example
 * const known = projectSettingNames(process.cwd())
 */
export function projectSettingNames(root: string): Set<string> {
  const read = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '')
  const names = namesInEnvExample(read(join(root, '.env.example')))
  names.push(...namesReadBy(read(join(root, 'serverless.yml')), { yaml: true }))
  for (const dir of ['config', 'src'].map((name) => join(root, name)).filter((path) => existsSync(path))) {
    for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      if (/\.(ts|cjs|js|mjs)$/.test(file)) names.push(...namesReadBy(read(join(dir, file))))
    }
  }
  return knownSettingNames(names)
}
