// Loads a handler file the way the Lambda Node.js runtime does
// (aws-lambda-nodejs-runtime-interface-client, src/UserFunction.js): a .cjs
// file with require(), an .mjs file with import(). Our bundles are CommonJS
// (.cjs) since serverless-esbuild's `format: cjs`. import() of a .cjs would
// work too (Node's CommonJS lexer finds `handler` as a named export), but it
// adds the ESM loader's pass over the source, which Lambda never pays.
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const require = createRequire(import.meta.url)
let instances = 0

/**
 * The handler module's exports. `fresh: true` evaluates the file again as a
 * new module instance (a CommonJS module is dropped from require's cache
 * first; an ES module gets a new URL), which reads the environment anew.
 */
export async function loadHandlerModule(path, { fresh = false } = {}) {
  if (path.endsWith('.cjs')) {
    if (fresh) delete require.cache[require.resolve(path)]
    return require(path)
  }
  const url = pathToFileURL(path).href
  return import(fresh ? `${url}?instance=${++instances}` : url)
}

/** The exported `handler` function (a CommonJS bundle of a CommonJS entry may export it on `default` only when imported). */
export async function loadHandler(path, options) {
  const mod = await loadHandlerModule(path, options)
  const handler = mod.handler ?? mod.default?.handler
  if (typeof handler !== 'function') throw new Error(`${path} exports no handler function`)
  return handler
}
