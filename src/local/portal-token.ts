import { parseArgs } from 'node:util'
import { mintIdToken } from './identity-provider'
import { ensureLocalState } from './local-state'
import { printable } from './printable'
import { stateFolderGitProblem } from './state-lock'

/**
 * `npm run -s portal-token -- --sub <id> --email <email> [--org <company>]`
 *
 * Prints only a portal ID token on stdout, signed by the local development
 * identity provider that `npm start` trusts. Everything else goes to stderr.
 */
const USAGE = 'usage: npm run -s portal-token -- --sub <user id> [--email <email>] [--org <company id>] [--expires-in <seconds>]'

/** A message on stderr, made printable: it may quote what was typed. */
const complain = (message: string): void => console.error(`portal-token: ${printable(message)}`)

async function main(): Promise<void> {
  let values
  try {
    ;({ values } = parseArgs({
      options: {
        sub: { type: 'string' },
        email: { type: 'string' },
        org: { type: 'string' },
        'expires-in': { type: 'string' },
        help: { type: 'boolean', short: 'h' }
      },
      strict: true
    }))
  } catch (error) {
    complain((error as Error).message)
    console.error(USAGE)
    process.exit(2)
  }
  if (values.help === true) {
    console.error(USAGE)
    return
  }
  if (values.sub === undefined || values.sub.trim() === '') {
    complain('--sub is required')
    console.error(USAGE)
    process.exit(2)
  }
  const expires = values['expires-in'] === undefined ? 3600 : Number(values['expires-in'])
  if (!Number.isSafeInteger(expires) || expires < 1) {
    complain('--expires-in must be a positive whole number of seconds')
    process.exit(2)
  }
  // No lock: a running stack holds it, and this only reads (or, the first time, writes) the secrets.
  const stateDir = process.env.LOCAL_STATE_DIR || '.local'
  const gitProblem = stateFolderGitProblem(stateDir)
  if (gitProblem !== undefined) {
    complain(gitProblem)
    process.exit(1)
  }
  const state = await ensureLocalState(stateDir, (m) => console.error(printable(m)))
  const token = await mintIdToken(state.identityProvider, {
    sub: values.sub,
    email: values.email,
    org: values.org,
    companyClaim: process.env.PORTAL_COMPANY_ID_CLAIM || 'org_id',
    expiresInSeconds: expires
  })
  process.stdout.write(token + '\n')
}

await main()
