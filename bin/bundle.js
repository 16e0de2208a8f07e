// Loads the bundled CLI (dist/lake.cjs, made by scripts/bundle.mjs) through vm.Script with V8's
// code cache (dist/lake.cache) when there is one: parsing and compiling the ~0.9 MB bundle is a
// good part of each `lake` process, and the cache skips it. A cache V8 refuses (another Node
// version) only costs the compile it would have saved. V8 checks neither the cache's bytes nor
// that it was made from this source (only its length): damaged cached code crashes the process,
// and the cache of another bundle of the same length would run. So the file ends with the crc32
// of the bundle it was made from and the crc32 of the cache (writeCodeCache), both checked here.
//
// The bundle is a CommonJS module already wrapped the way Node wraps one (scripts/bundle.mjs adds
// the wrapper): wrapping it here would make V8 copy the ~1 MB source once more (~7 ms).
'use strict'
const {readFileSync, renameSync, writeFileSync} = require('node:fs')
const {createRequire} = require('node:module')
const {dirname, join} = require('node:path')
const vm = require('node:vm')
const {crc32} = require('node:zlib')

/**
 * The bundle's exports ({main}) and its vm.Script (for createCachedData), or undefined when the
 * package has not been bundled (dist/lake.cjs missing).
 */
function loadBundle(distDir, {useCache = true} = {}) {
  const file = join(distDir, 'lake.cjs')
  let bytes
  try {
    bytes = readFileSync(file)
  } catch (error) {
    if (error?.code === 'ENOENT') return undefined
    throw error
  }
  const source = bytes.toString('utf8')
  const cachedData = useCache ? readCodeCache(join(distDir, 'lake.cache'), crc32(bytes)) : undefined
  const script = new vm.Script(source, {filename: file, cachedData})
  const module = {exports: {}}
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file))
  return {exports: module.exports, script}
}

/** The cache in `file` when it was made from the bundle whose crc32 is `bundleCrc` and is intact. */
function readCodeCache(file, bundleCrc) {
  let bytes
  try {
    bytes = readFileSync(file)
  } catch {
    return undefined
  }
  if (bytes.length < 8) return undefined
  const cache = bytes.subarray(0, bytes.length - 8)
  const madeFrom = bytes.readUInt32LE(bytes.length - 8)
  return madeFrom === bundleCrc && crc32(cache) === bytes.readUInt32LE(bytes.length - 4) ? cache : undefined
}

/**
 * Writes `cache` (script.createCachedData() of the bundle whose bytes are `bundle`) with its
 * trailer: the bundle's crc32, then the cache's; atomically.
 */
function writeCodeCache(file, cache, bundle) {
  const out = Buffer.alloc(cache.length + 8)
  out.set(cache)
  out.writeUInt32LE(crc32(bundle), cache.length)
  out.writeUInt32LE(crc32(cache), cache.length + 4)
  const temp = `${file}.${process.pid}.tmp`
  writeFileSync(temp, out)
  renameSync(temp, file)
}

module.exports = {loadBundle, writeCodeCache}
