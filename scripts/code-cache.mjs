#!/usr/bin/env node
// Makes dist/lake.cache, V8's code cache of the bundled CLI (see scripts/bundle.mjs): loads the
// bundle the way bin/run.js does, runs `lake init` in this process on a scratch directory (so that
// the start-up path every command shares, compiled lazily, is in the cache too), then asks V8 for
// the cache and writes it atomically.
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {loadBundle, writeCodeCache} from '../bin/bundle.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = join(root, 'dist')
const bundle = loadBundle(dist, {useCache: false})
if (!bundle) throw new Error(`no ${join(dist, 'lake.cjs')}: run scripts/bundle.mjs first`)

const scratch = mkdtempSync(join(tmpdir(), 'lake-code-cache-'))
const ds = join(scratch, 'ds')
process.env.LAKE_AUTHOR_NAME ??= 'lake build'
process.env.LAKE_AUTHOR_EMAIL ??= 'build@localhost'
const write = process.stdout.write
try {
  // Only `lake init`: oclif's config, parsing and dispatch, the repository code every command
  // shares. A cache that also held what add, commit, diff, log, … compiled (it was made from 17
  // runs, 981 KiB) made every command slower to start than this one (734 KiB): V8 deserialises
  // a whole cache up front, and that cost more than compiling lazily the few functions a single
  // command runs (CPU per process, interleaved medians: tag -15, commit -27, status -18, log
  // -21 ms; add and diff the same).
  const runs = [['init', ds]]
  process.stdout.write = () => true // the command's output is not wanted here
  for (const args of runs) await bundle.exports.main(args, root)
} finally {
  process.stdout.write = write
  rmSync(scratch, {recursive: true, force: true})
}
if (process.exitCode) throw new Error(`a command of the code-cache run failed (exit ${process.exitCode})`)
const cache = bundle.script.createCachedData()
writeCodeCache(join(dist, 'lake.cache'), cache, readFileSync(join(dist, 'lake.cjs')))
console.log(`code cache: dist/lake.cache (${(cache.length / 1024).toFixed(0)} KiB)`)
