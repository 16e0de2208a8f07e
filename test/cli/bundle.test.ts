// The CLI starts from dist/lake.cjs with V8's code cache dist/lake.cache (bin/bundle.js): the cache
// the build made must be accepted by this Node, a foreign or damaged one refused without harm, and
// the CLI must answer the same without any cache.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {REPO_ROOT, runLake} from '../helpers/cli.js'

type Loaded = {exports: {main?: unknown}; script: {cachedDataRejected?: boolean}} | undefined
const {loadBundle, writeCodeCache} = (await import(path.join(REPO_ROOT, 'bin', 'bundle.js'))) as {
  loadBundle: (dir: string, opts?: {useCache?: boolean}) => Loaded
  writeCodeCache: (file: string, cache: Buffer, bundle: Buffer) => void
}

describe('CLI bundle and its code cache', function () {
  this.timeout(120_000)
  const dist = path.join(REPO_ROOT, 'dist')

  it('the build made a code cache that this Node accepts', () => {
    assert.ok(fs.existsSync(path.join(dist, 'lake.cache')), "dist/lake.cache is missing: run 'npm run build'")
    const loaded = loadBundle(dist)
    assert.equal(typeof loaded?.exports.main, 'function')
    assert.equal(loaded?.script.cachedDataRejected, false, 'V8 refused the cache the build made')
  })

  it('a damaged cache is not used (V8 would crash on it) and the bundle still loads; no bundle at all is undefined', () => {
    // beside dist/ so that the bundle's requires resolve from node_modules as usual
    const dir = fs.mkdtempSync(path.join(dist, '.bundle-test-'))
    try {
      fs.copyFileSync(path.join(dist, 'lake.cjs'), path.join(dir, 'lake.cjs'))
      const cache = fs.readFileSync(path.join(dist, 'lake.cache'))
      cache.fill(0x5a, 32, 4096)
      fs.writeFileSync(path.join(dir, 'lake.cache'), cache)
      const loaded = loadBundle(dir)
      assert.equal(loaded?.script.cachedDataRejected, undefined, 'the damaged cache was handed to V8')
      assert.equal(typeof loaded?.exports.main, 'function')
      // an intact cache made from other code (V8 itself only compares the source's length): not used
      const other = fs.readFileSync(path.join(dir, 'lake.cjs'))
      other[other.length - 2] ^= 1
      writeCodeCache(path.join(dir, 'lake.cache'), fs.readFileSync(path.join(dist, 'lake.cache')).subarray(0, -8), other)
      const foreign = loadBundle(dir)
      assert.equal(foreign?.script.cachedDataRejected, undefined, 'a cache of another bundle was handed to V8')
      assert.equal(typeof foreign?.exports.main, 'function')
      // the same cache, marked as made from this bundle, is used
      writeCodeCache(path.join(dir, 'lake.cache'), fs.readFileSync(path.join(dist, 'lake.cache')).subarray(0, -8), fs.readFileSync(path.join(dir, 'lake.cjs')))
      assert.equal(loadBundle(dir)?.script.cachedDataRejected, false)
      fs.rmSync(path.join(dir, 'lake.cjs'))
      assert.equal(loadBundle(dir), undefined, 'no dist/lake.cjs: bin/run.js falls back to oclif')
    } finally {
      fs.rmSync(dir, {recursive: true, force: true})
    }
  })

  it('lake answers the same with and without the code cache', () => {
    const cwd = fs.mkdtempSync(path.join(REPO_ROOT, 'dist', '.bundle-cwd-'))
    try {
      const cached = runLake(['tag', '--help'], {cwd})
      const uncached = runLake(['tag', '--help'], {cwd, env: {LAKE_NO_CODE_CACHE: '1'}})
      assert.equal(cached.code, 0, cached.stderr)
      assert.equal(uncached.code, 0, uncached.stderr)
      assert.equal(uncached.stdout, cached.stdout)
      assert.match(cached.stdout, /USAGE/)
    } finally {
      fs.rmSync(cwd, {recursive: true, force: true})
    }
  })
})
