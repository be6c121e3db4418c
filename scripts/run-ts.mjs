#!/usr/bin/env node
// Run one of the project's TypeScript entry points (src/local/*.ts) with plain
// Node: bundle it with esbuild into .local/build/, dependencies left external,
// then import it. Takes well under a second, and needs nothing beyond `npm ci`.
import { build } from 'esbuild'
import { rmSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const [entry, ...rest] = process.argv.slice(2)
if (!entry) {
  console.error('usage: node scripts/run-ts.mjs <entry.ts> [args...]')
  process.exit(2)
}
// One file per process: stacks started side by side (the end-to-end tests) must not import each other's half-written build.
const outfile = resolve('.local/build', basename(entry).replace(/\.ts$/, `-${process.pid}.mjs`))
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
try {
  await import(pathToFileURL(outfile).href)
} finally {
  // The module is loaded; the file is not needed past this point.
  rmSync(outfile, { force: true })
}
