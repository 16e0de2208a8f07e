// Loads the bundled CLI (dist/lake.cjs, made by scripts/bundle.mjs) through vm.Script with V8's
// code cache (dist/lake.cache) when there is one: parsing and compiling the ~0.9 MB bundle is a
// good part of each `lake` process, and the cache skips it. A cache V8 refuses (another Node
// version) only costs the compile it would have saved.
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import vm from 'node:vm'

/**
 * The bundle's exports ({main}) and its vm.Script (for createCachedData), or undefined when the
 * package has not been bundled (dist/lake.cjs missing).
 */
export function loadBundle(distDir, {useCache = true} = {}) {
  const file = join(distDir, 'lake.cjs')
  let source
  try {
    source = readFileSync(file, 'utf8')
  } catch (error) {
    if (error?.code === 'ENOENT') return undefined
    throw error
  }
  let cachedData
  if (useCache) {
    try {
      cachedData = readFileSync(join(distDir, 'lake.cache'))
    } catch {}
  }
  // the same wrapper Node puts around a CommonJS module
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {filename: file, cachedData})
  const module = {exports: {}}
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file))
  return {exports: module.exports, script}
}
