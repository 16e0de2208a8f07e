// Chunks of large samples are built in pooled buffers that go back to the pool once a chunk is
// stored (ChunkBufferPool): a buffer reused too early would overwrite a chunk still being hashed
// or written. One change of many chunks must read back byte for byte, on fs (deferred writes)
// and in memory, through the worker hash (chunks over 1 MiB) and in an lz4 tensor.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {randomBytes} from 'node:crypto'
import {Dataset} from '../../src/index.js'
import {ChunkBuilder, type ChunkBufferPool} from '../../src/core/format/chunk.js'
import {createTensorMeta} from '../../src/core/format/tensor-meta.js'
import {fsck} from '../../src/core/ops/fsck.js'
import {Repo} from '../../src/core/repo/repo.js'
import {changeChunkBuffers} from '../../src/core/dataset/scan-buffers.js'
import {checksumWorker} from '../../src/core/checksum-worker.js'

describe('pooled chunk buffers', function () {
  this.timeout(120_000)
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-chunkbuf-'))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('a builder takes a large-sample chunk from the pool and gives it back when it compresses', () => {
    const taken: Uint8Array[] = []
    const given: Uint8Array[] = []
    const pool: ChunkBufferPool = {
      take: (n) => (taken.push(new Uint8Array(n + 100).fill(0xee)), taken[taken.length - 1]),
      give: (b) => void given.push(b),
    }
    const raw = new ChunkBuilder(createTensorMeta('img', {htype: 'binary', maxChunkBytes: 64 * 1024}), pool)
    raw.add(new Uint8Array(20_000).fill(1))
    raw.add(new Uint8Array(20_000).fill(2))
    const object = raw.finish()
    assert.equal(taken.length, 1)
    assert.equal(object.buffer, taken[0].buffer, 'the raw chunk is the pooled buffer (given back by whoever stores it)')
    assert.deepEqual([object[8], object[8 + 19_999], object[8 + 20_000], object.length], [1, 1, 2, 8 + 40_000])
    const big = new ChunkBuilder(createTensorMeta('img', {htype: 'binary', maxChunkBytes: 64 * 1024}), pool)
    big.add(new Uint8Array(20_000).fill(3))
    assert.equal(big.add(new Uint8Array(100_000)), null, 'past the target: next chunk')
    const alone = new ChunkBuilder(createTensorMeta('img', {htype: 'binary', maxChunkBytes: 64 * 1024}), pool)
    alone.add(new Uint8Array(100_000).fill(4)) // larger than the target: stored alone
    assert.equal(alone.finish().length, 8 + 100_000)
    const lz = new ChunkBuilder(createTensorMeta('txt', {htype: 'binary', chunkCompression: 'lz4', maxChunkBytes: 64 * 1024}), pool)
    lz.add(new Uint8Array(30_000).fill(5))
    const compressed = lz.finish()
    assert.notEqual(compressed.buffer, taken[taken.length - 1].buffer)
    assert.ok(given.includes(taken[taken.length - 1]), 'a compressed chunk gives its pooled buffer back at once')
    const labels = new ChunkBuilder(createTensorMeta('label', {htype: 'generic', dtype: 'i32'}), pool)
    const before = taken.length
    labels.add(new Uint8Array(9))
    labels.finish()
    assert.equal(taken.length, before, 'small samples do not use the pool')
  })

  it('one change of many chunks of large samples reads back byte for byte (fs and memory)', async () => {
    await checksumWorker().warm() // the worker's hash path (a short process hashes on its own thread first)
    for (const storage of ['local', `memory://chunkbuf-${process.pid}`]) {
      const ds = await Dataset.init(path.join(dir, storage === 'local' ? 'fs' : 'mem'), storage === 'local' ? {} : {storage})
      await ds.createTensor('blob', {htype: 'binary'})
      await ds.createTensor('zipped', {htype: 'binary', chunkCompression: 'lz4'})
      // ~21 MiB in one append: 5+ chunks of 4 MiB built in turn in reused buffers, hashed on the
      // worker, written while the next is built
      const samples = Array.from({length: 700}, (_, i) => randomBytes(30_000 + (i % 17)))
      const text = Array.from({length: 200}, (_, i) => Buffer.alloc(40_000, `row ${i} `))
      const jobsBefore = checksumWorker().jobs
      await ds.append('blob', samples)
      assert.ok(checksumWorker().jobs >= jobsBefore + 5, `${storage}: the chunks were hashed on the worker`)
      await ds.append('zipped', text)
      await ds.commit('many chunks')
      const v = await ds.version('HEAD')
      let n = 0
      for await (const s of v.streamBytes('blob')) assert.ok(Buffer.from(s.bytes).equals(samples[s.index]), `${storage}: sample ${s.index}`), n++
      assert.equal(n, samples.length)
      for await (const s of v.streamBytes('zipped')) assert.ok(Buffer.from(s.bytes).equals(text[s.index]), `${storage}: text ${s.index}`)
      await ds.close()
      if (storage === 'local') {
        const repo = await Repo.open(path.join(dir, 'fs'))
        const report = await fsck(repo)
        await repo.close()
        assert.deepEqual(report.problems, [])
      }
    }
  })

  it('the next change in the process builds its chunks in buffers an earlier one gave back, and both read back exactly', async () => {
    const fromPool: boolean[] = []
    const {take} = changeChunkBuffers
    changeChunkBuffers.take = (n) => {
      const before = changeChunkBuffers.available
      const b = take.call(changeChunkBuffers, n)
      fromPool.push(changeChunkBuffers.available === before - 1)
      return b
    }
    try {
      const ds = await Dataset.init(path.join(dir, 'two'))
      await ds.createTensor('blob', {htype: 'binary'})
      const first = Array.from({length: 150}, () => randomBytes(30_000))
      await ds.append('blob', first)
      const one = await ds.commit('one')
      assert.ok(changeChunkBuffers.available > 0, 'the first change gave its chunk buffers back to the process pool')
      const takenBefore = fromPool.length
      const second = Array.from({length: 150}, () => randomBytes(30_000))
      await ds.append('blob', second)
      await ds.commit('two')
      assert.ok(fromPool.length > takenBefore, 'the second change built chunks of large samples')
      assert.ok(fromPool.slice(takenBefore).every(Boolean), 'each from the pool, none new')
      const v1 = await ds.version(one.commit)
      for await (const s of v1.streamBytes('blob')) assert.ok(Buffer.from(s.bytes).equals(first[s.index]), `one: sample ${s.index}`)
      const v2 = await ds.version('HEAD')
      for await (const s of v2.streamBytes('blob')) assert.ok(Buffer.from(s.bytes).equals([...first, ...second][s.index]), `two: sample ${s.index}`)
      await ds.close()
    } finally {
      changeChunkBuffers.take = take
    }
  })
})
