#!/usr/bin/env node
// Run one of the project's TypeScript entry points (src/local/*.ts) with plain
// Node: bundle it with esbuild into .local/build/, dependencies left external,
// then import it. Takes well under a second, and needs nothing beyond `npm ci`.
import { build } from 'esbuild'
import { basename, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const [entry, ...rest] = process.argv.slice(2)
if (!entry) {
  console.error('usage: node scripts/run-ts.mjs <entry.ts> [args...]')
  process.exit(2)
}
const outfile = resolve('.local/build', basename(entry).replace(/\.ts$/, '.mjs'))
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning'
})
// The entry sees its own arguments as if it had been run directly.
process.argv = [process.argv[0], outfile, ...rest]
await import(pathToFileURL(outfile).href)
