import { describe, expect, it } from 'vitest'
import {
  describeUnknownSetting,
  editDistance,
  hasSettingPrefix,
  knownSettingNames,
  namesInEnvExample,
  namesReadBy,
  projectSettingNames,
  suggestSettingName,
  unknownSettings
} from '../../src/local/setting-names'

const known = knownSettingNames(['JWT_ALGORITHM', 'JWT_SECRET', 'LOG_LEVEL', 'PORTAL_ISSUER', 'KEYS_TABLE', 'MOESIF_APPLICATION_ID'])

describe('namesInEnvExample', () => {
  it('reads every NAME= and # NAME= line, and nothing from prose comments', () => {
    const text = [
      '# dev-portal-keys settings. Copy to .env',
      'JWT_ALGORITHM=HS256',
      'JWT_SECRET=',
      '# Local only:',
      '# KEYS_TABLE=dev-portal-keys-local-keys',
      '#REVOCATION_CACHE_TTL=30',
      '  PORT = 3000',
      '# Seconds, or 30d / 12h / 15m'
    ].join('\n')
    expect(namesInEnvExample(text)).toEqual(['JWT_ALGORITHM', 'JWT_SECRET', 'KEYS_TABLE', 'REVOCATION_CACHE_TTL', 'PORT'])
  })
})

describe('namesReadBy', () => {
  it('finds process.env reads, ${env:} references and quoted prefixed names', () => {
    const source = [
      "const a = process.env.LOCAL_STATE_DIR || process.env['AWS_REGION']",
      'readEnv(env, \'JWT_KID\') ?? setting("MAX_ACTIVE_KEYS_PER_COMPANY")',
      "throw new HttpError(400, 'ERR_BAD_BODY', 'x')",
      'const url = "http://127.0.0.1:3000" // PORTAL_IN_A_COMMENT'
    ].join('\n')
    expect(namesReadBy(source).sort()).toEqual(['AWS_REGION', 'JWT_KID', 'LOCAL_STATE_DIR', 'MAX_ACTIVE_KEYS_PER_COMPANY'])
    expect(namesReadBy("    LOG_LEVEL: ${env:LOG_LEVEL, 'INFO'}\n    # ${env:JWT_IN_A_COMMENT}", { yaml: true })).toEqual(['LOG_LEVEL'])
  })

  it('skips names quoted in comments (a typo in an example must not become known)', () => {
    const source = "/**\n * @example\n * suggest('JWT_ALGORTHM') // 'JWT_ALGORITHM'\n */\nconst x = 1 // 'JWT_SECRT'\n"
    expect(namesReadBy(source)).toEqual([])
  })
})

describe('editDistance', () => {
  it.each([
    ['JWT_ALGORTHM', 'JWT_ALGORITHM', 1],
    ['JTW_SECRET', 'JWT_SECRET', 1],
    ['JWT_SECERT', 'JWT_SECRET', 1],
    ['LOG_LEVL', 'LOG_LEVEL', 1],
    ['PORTAL_ISUER', 'PORTAL_ISSUER', 1],
    ['KEY_TABLES', 'KEYS_TABLE', 2],
    ['PATH', 'PORT', 3],
    ['', 'ABC', 3]
  ])('%s to %s is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance)
    expect(editDistance(b, a)).toBe(distance)
  })
})

describe('suggestSettingName', () => {
  it('suggests the name meant, ignoring case', () => {
    expect(suggestSettingName('JWT_ALGORTHM', known)).toBe('JWT_ALGORITHM')
    expect(suggestSettingName('jwt_secret', known)).toBe('JWT_SECRET')
    expect(suggestSettingName('PLUGIN_JWT_ALGORTIHM', known)).toBe('PLUGIN_JWT_ALGORITHM')
    expect(suggestSettingName('KEY_TABLES', known)).toBe('KEYS_TABLE')
  })

  it('suggests nothing far away, and allows one edit only for short names (PATH is not PORT)', () => {
    expect(suggestSettingName('JWT_KEY_MATERIAL', known)).toBeUndefined()
    expect(suggestSettingName('PATH', known)).toBeUndefined()
    expect(suggestSettingName('PROT', known)).toBe('PORT')
  })
})

describe('unknownSettings', () => {
  it('warns about a typo in .env, with the name meant (JWT_ALGORTHM)', () => {
    const found = unknownSettings({ dotEnv: ['JWT_ALGORTHM', 'JWT_SECRET'], environment: ['JWT_ALGORTHM', 'PATH', 'HOME'], known })
    expect(found).toEqual([{ name: 'JWT_ALGORTHM', source: '.env', suggestion: 'JWT_ALGORITHM' }])
    expect(describeUnknownSetting(found[0]!)).toBe(
      'JWT_ALGORTHM in .env is not a setting dev-portal-keys reads (ignored): did you mean JWT_ALGORITHM?'
    )
  })

  it('warns about any unknown prefixed name in .env, and about other names only when they are close to a known one', () => {
    const found = unknownSettings({ dotEnv: ['MOESIF_APP_ID', 'PROT', 'AWS_PROFILE', 'SLS_DEBUG'], environment: [], known })
    expect(found).toEqual([
      { name: 'MOESIF_APP_ID', source: '.env', suggestion: undefined },
      { name: 'PROT', source: '.env', suggestion: 'PORT' }
    ])
    expect(describeUnknownSetting(found[0]!)).toMatch(/MOESIF_APP_ID in \.env is not a setting dev-portal-keys reads \(ignored\): see \.env\.example/)
  })

  it('warns about the environment only for prefixed names close to a known one: the shell holds other programs settings', () => {
    const found = unknownSettings({ dotEnv: [], environment: ['LOG_LEVL', 'LOG_DIR', 'APP_ENV', 'PROT', 'npm_config_cache', 'JWT_SECRET'], known })
    expect(found).toEqual([{ name: 'LOG_LEVL', source: 'environment', suggestion: 'LOG_LEVEL' }])
    expect(describeUnknownSetting(found[0]!)).toBe(
      'LOG_LEVL in the environment is not a setting dev-portal-keys reads (ignored): did you mean LOG_LEVEL?'
    )
  })

  it('knows the PLUGIN_ form of every JWT_ name and the local tools names', () => {
    expect(unknownSettings({ dotEnv: ['PLUGIN_JWT_SECRET', 'PORT', 'LOCAL_STATE_DIR'], environment: [], known })).toEqual([])
    expect(hasSettingPrefix('stripe_secret_key')).toBe(true)
    expect(hasSettingPrefix('NODE_OPTIONS')).toBe(false)
  })
})

describe('projectSettingNames (this repository)', () => {
  const project = projectSettingNames(process.cwd())

  it('knows what .env.example documents, what serverless.yml passes on and what the local tools read', () => {
    for (const name of ['JWT_ALGORITHM', 'PLUGIN_JWT_ALGORITHM', 'KEYS_TABLE', 'REVOCATION_STALE_TTL', 'AUTHORIZER_CACHE_TTL', 'PORTAL_ORIGINS']) {
      expect(project).toContain(name)
    }
    for (const name of ['LOCAL_STATE_DIR', 'DYNAMODB_ENDPOINT', 'PORT', 'LOG_LEVEL', 'MOESIF_MASK_FIELDS', 'LOCAL_STACK_PORT'])
      expect(project).toContain(name)
  })

  it('does not know the typos its own comments and tests quote', () => {
    expect(project).not.toContain('JWT_ALGORTHM')
    expect(suggestSettingName('JWT_ALGORTHM', project)).toBe('JWT_ALGORITHM')
  })
})
