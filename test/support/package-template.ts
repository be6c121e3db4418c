import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** A CloudFormation template as `serverless package` writes it. */
export interface CloudFormationTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; [key: string]: unknown }>
  Outputs?: Record<string, unknown>
}

/** The result of one `serverless package` run. */
export interface PackagedService {
  readonly dir: string
  readonly template: CloudFormationTemplate
  readonly templateText: string
  /** Zip name to size in bytes. */
  readonly zips: Record<string, number>
}

/**
 * What every stage but local must configure before it packages (deployChecks
 * in config/serverless-env.cjs): placeholders, never fetched here. A test
 * overrides any of them, or blanks one with ''.
 */
export const DEPLOY_ENV: Readonly<Record<string, string>> = {
  JWT_SECRET_SSM_PARAMETER: '/dpk/test/jwt-secret',
  AUTH_PROVIDER: 'Auth0',
  AUTH0_DOMAIN: 'dpk-test.us.auth0.com',
  AUTH0_CLIENT_ID: 'dpk-test-client'
}

/**
 * Run `serverless package` (the deploy check) into a temporary folder with
 * the given environment, and read back the template and zip sizes.
 *
 * @example
 * const { template } = await packageService({ stage: 'prod' })
 */
export async function packageService(options: { stage?: string; env?: Record<string, string> } = {}): Promise<PackagedService> {
  const dir = mkdtempSync(join(tmpdir(), 'dpk-package-'))
  const stage = options.stage ?? 'prod'
  try {
    await run(process.execPath, ['node_modules/serverless/bin/serverless.js', 'package', '--stage', stage, '--package', dir], {
      // Its own build folder: test files run in parallel, and serverless-esbuild cleans its folder when done.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? tmpdir(),
        ESBUILD_WORK_FOLDER: `.esbuild-${basename(dir)}`,
        ...(stage === 'local' ? {} : DEPLOY_ENV),
        ...options.env
      },
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024
    })
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string }
    throw new Error(`serverless package failed:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error })
  }
  const templateText = readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')
  const zips: Record<string, number> = {}
  for (const name of readdirSync(dir)) if (name.endsWith('.zip')) zips[name] = statSync(join(dir, name)).size
  return { dir, template: JSON.parse(templateText) as CloudFormationTemplate, templateText, zips }
}

/** Resources of one CloudFormation type. */
export function resourcesOfType(template: CloudFormationTemplate, type: string): Array<[string, Record<string, unknown>]> {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([name, resource]) => [name, resource.Properties ?? {}])
}
