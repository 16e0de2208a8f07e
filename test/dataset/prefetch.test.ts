// Scans prefetch as deep as the store asks (readAhead: a few on a disk, the request pool on S3)
// and never past a byte budget: counted as chunk reads in flight at once, through a store that
// answers each read after a delay, while the scan still yields every sample in order.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {DataStore} from '../../src/core/dataset/store.js'
import {appendValues, createTensor} from '../../src/core/ops/edit.js'
import {commit} from '../../src/core/ops/commit.js'
import {openVersion} from '../../src/core/ops/show.js'
import {Repo} from '../../src/core/repo/repo.js'
import {ObjectDb} from '../../src/core/storage/objects.js'
import {FsStore} from '../../src/core/storage/fs.js'
import {S3Store} from '../../src/core/storage/s3.js'
import {CachedStore} from '../../src/core/storage/cache.js'
import {FallbackStore} from '../../src/core/storage/fallback.js'
import type {ObjectStore} from '../../src/core/storage/types.js'

const SAMPLE = 16 * 1024
const CHUNK = 4 * SAMPLE
const CHUNKS = 40

/** `store` with whole-chunk reads slowed down and counted (most at once), and its own readAhead. */
function slowed(store: ObjectStore, readAhead: number) {
  const seen = {inFlight: 0, most: 0, reads: 0}
  const wrapper = new Proxy(store, {
    get(target, prop) {
      if (prop === 'readAhead') return readAhead
      if (prop === 'get') {
        return async (key: string) => {
          const bytes = await target.get(key)
          // only chunk reads count: index nodes are read too (how many depends on the random
          // sample ids that shape the tree), and concurrently with chunk reads
          if (Buffer.from(bytes.subarray(0, 4)).toString('latin1') !== 'LKCH') return bytes
          seen.reads++
          seen.most = Math.max(seen.most, ++seen.inFlight)
          try {
            await new Promise((resolve) => setTimeout(resolve, 5))
            return bytes
          } finally {
            seen.inFlight--
          }
        }
      }
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return {store: wrapper, seen}
}

describe('scan prefetch follows the store', function () {
  this.timeout(60_000)
  let dir: string
  let repo: Repo
  let expected: Uint8Array[]

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-prefetch-'))
    repo = await Repo.init(dir)
    await repo.setConfig('chunk.size', String(CHUNK))
    await createTensor(repo, 'blob', {htype: 'binary'})
    expected = Array.from({length: CHUNKS * (CHUNK / SAMPLE)}, (_, i) => new Uint8Array(SAMPLE).fill(i % 251))
    await appendValues(repo, 'blob', expected)
    await commit(repo, {message: 'blobs'})
  })
  after(async () => {
    await repo.close()
    fs.rmSync(dir, {recursive: true, force: true})
  })

  it('stores report their depth: a few on disk, the request pool on S3', () => {
    assert.equal(new FsStore(dir).readAhead, 4)
    assert.equal(new S3Store('s3://bucket/x').readAhead, 16)
    assert.equal(new S3Store('s3://bucket/x', {maxConcurrency: 24}).readAhead, 24)
    // S3 behind the disk cache (init --storage s3://), and a lazy clone reading through to S3
    assert.equal(new CachedStore(new S3Store('s3://bucket/x'), {dir: path.join(dir, 'c'), maxBytes: 1 << 20}).readAhead, 16)
    assert.equal(new FallbackStore(new FsStore(dir), new S3Store('s3://bucket/x')).readAhead, 16)
  })

  for (const readAhead of [4, 16]) {
    it(`a store asking for ${readAhead} reads ahead gets ${readAhead} in flight, and every sample in order`, async () => {
      const {store, seen} = slowed(repo.store, readAhead)
      const data = new DataStore(new ObjectDb(store, {cacheBytes: 0}), true)
      const {root} = await openVersion(repo, 'HEAD')
      const t = data.tensor(root, 'blob')
      let i = 0
      for await (const {index, bytes} of data.readRange(t, 0, t.length)) {
        assert.equal(index, i)
        assert.deepEqual(bytes, expected[i++])
      }
      assert.equal(i, expected.length)
      assert.ok(seen.reads >= CHUNKS, `${seen.reads} reads`)
      assert.equal(seen.most, readAhead)
    })
  }

  it('never more sample bytes in flight than the budget, however deep the store asks', async () => {
    const {store, seen} = slowed(repo.store, 32)
    const data = new DataStore(new ObjectDb(store, {cacheBytes: 0}), true)
    const {root} = await openVersion(repo, 'HEAD')
    const t = data.tensor(root, 'blob')
    let n = 0
    for await (const _ of data.readRange(t, 0, t.length, {prefetchBytes: 3 * CHUNK})) n++
    assert.equal(n, expected.length)
    assert.equal(seen.most, 3)
  })
})
