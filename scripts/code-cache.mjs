#!/usr/bin/env node
// Makes dist/lake.cache, V8's code cache of the bundled CLI (see scripts/bundle.mjs): loads the
// bundle the way bin/run.js does, runs the everyday commands once each in this one process on a
// scratch dataset (so that the functions they compile lazily are in the cache too), then asks V8
// for the cache and writes it atomically.
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
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
  mkdirSync(join(scratch, 'files'))
  writeFileSync(join(scratch, 'files', 'a.bin'), 'a')
  writeFileSync(join(scratch, 'files', 'b.bin'), 'b')
  writeFileSync(join(scratch, 'meta.csv'), 'id,label,caption\n0,1,zero\n1,2,one\n')
  writeFileSync(join(scratch, 'upd.csv'), 'id,label\n1,3\n')
  const runs = [
    ['init', ds],
    ['add', join(scratch, 'files'), '--format', 'files', '--prefix', 'v1', '-C', ds],
    ['add', join(scratch, 'meta.csv'), '-C', ds, '--json'],
    ['commit', '-m', 'v1', '-C', ds, '--json'],
    ['tag', 'v1', '-C', ds],
    ['add', join(scratch, 'upd.csv'), join(scratch, 'files'), '--key', 'id', '--prefix', 'v2', '-C', ds, '--json'],
    ['status', '-C', ds],
    ['status', '-C', ds, '--json'],
    ['commit', '-m', 'v2', '-C', ds],
    ['tag', 'v2', '-C', ds, '--json'],
    ['log', '-n', '5', '-C', ds],
    ['log', '-n', '5', '-C', ds, '--json'],
    ['diff', 'v1', 'v2', '-C', ds, '--json'],
    ['show', 'v1:label[0:2]', '-C', ds, '--json'],
    ['tensor', 'list', '-C', ds, '--json'],
    ['branch', 'b', '-C', ds],
    ['checkout', 'b', '-C', ds, '--json'],
  ]
  process.stdout.write = () => true // the commands' output is not wanted here
  process.stdout.setMaxListeners(runs.length * 2) // each run waits for a drain once
  for (const args of runs) await bundle.exports.main(args, root)
} finally {
  process.stdout.write = write
  rmSync(scratch, {recursive: true, force: true})
}
if (process.exitCode) throw new Error(`a command of the code-cache run failed (exit ${process.exitCode})`)
const cache = bundle.script.createCachedData()
writeCodeCache(join(dist, 'lake.cache'), cache, readFileSync(join(dist, 'lake.cjs')))
console.log(`code cache: dist/lake.cache (${(cache.length / 1024).toFixed(0)} KiB)`)
