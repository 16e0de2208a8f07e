// Scans of large raw chunks read into a few buffers they reuse and hand out each sample as a copy
// of its own, checked against its crc (dataset/scan-buffers.ts). What must hold: samples kept past
// the chunk they came from stay intact while later chunks are read into the same buffers; a kept
// sample pins only its own bytes; a damaged sample is never returned; stores that do not read
// into buffers (and large lz4 chunks) still scan through the crc worker.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {randomBytes} from 'node:crypto'
import {Dataset} from '../../src/index.js'
import {ownedCopy, ScanBuffers} from '../../src/core/dataset/scan-buffers.js'
import {MemoryStore, dropMemoryStore} from '../../src/core/storage/memory.js'
import {checksumWorker} from '../../src/core/checksum-worker.js'

describe('scan buffers', function () {
  this.timeout(120_000)
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-scanbuf-'))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('ScanBuffers made with an idle time drops its free buffers once none was taken for that long', async () => {
    const buffers = new ScanBuffers(4, 50)
    const a = buffers.take(10)
    buffers.give(a)
    await new Promise((r) => setTimeout(r, 30))
    assert.equal(buffers.take(10), a, 'still kept while in use')
    buffers.give(a)
    assert.equal(buffers.available, 1)
    await new Promise((r) => setTimeout(r, 150))
    assert.equal(buffers.available, 0, 'dropped when idle')
    assert.notEqual(buffers.take(10), a)
  })

  it('ScanBuffers keeps at most `keepBytes` of free buffers', () => {
    const buffers = new ScanBuffers(10, Infinity, 10 * 1024 * 1024)
    const [a, b, c] = [buffers.take(10), buffers.take(10), buffers.take(5 * 1024 * 1024)]
    buffers.give(a)
    buffers.give(b)
    assert.equal(buffers.available, 2, 'two default buffers fit in 10 MiB')
    buffers.give(c)
    assert.equal(buffers.available, 2, 'a third would pass 10 MiB: left to the garbage collector')
    assert.ok(buffers.availableBytes <= 10 * 1024 * 1024)
  })

  it('ScanBuffers hands out the buffer given back last first, and keeps at most `keep`', () => {
    const buffers = new ScanBuffers(2)
    const [a, b, c] = [buffers.take(10), buffers.take(10), buffers.take(10)]
    buffers.give(a)
    buffers.give(b)
    buffers.give(c)
    assert.equal(buffers.available, 2, 'the third is left to the garbage collector')
    assert.equal(buffers.take(10), b, 'last given back, first taken')
    assert.equal(buffers.take(10), a)
  })

  it('scans of a process share their read buffers: a second scan reads into the first one\'s', async () => {
    await makeBlobs(600, 31_000)
    const ds = await Dataset.open(dir)
    const v = await ds.version('HEAD')
    const seen = async () => {
      const buffers = new Set<ArrayBufferLike>()
      for await (const s of v.streamBytes('blob', {prefetch: 2, views: true})) buffers.add(s.bytes.buffer)
      return buffers
    }
    const first = await seen()
    const second = await seen()
    assert.ok([...second].every((b) => first.has(b)), 'no new buffer for the second scan')
    await ds.close()
  })

  it('ScanBuffers reuses what is given back; ownedCopy owns its memory', () => {
    const buffers = new ScanBuffers()
    const a = buffers.take(10)
    assert.ok(a.byteLength >= 4 * 1024 * 1024, 'at least one default chunk')
    buffers.give(a)
    assert.equal(buffers.take(100), a, 'the given-back buffer is taken again')
    assert.notEqual(buffers.take(100), a, 'a buffer is out to one taker at a time')
    const big = buffers.take(5 * 1024 * 1024 + 1)
    assert.ok(big.byteLength >= 5 * 1024 * 1024 + 1)
    const source = new Uint8Array([1, 2, 3, 4, 5]).subarray(1, 4)
    const copy = ownedCopy(source)
    assert.deepEqual([...copy], [2, 3, 4])
    assert.equal(copy.buffer.byteLength, 3, 'a copy does not share (or expose) a larger buffer')
    source[0] = 9
    assert.equal(copy[0], 2)
  })

  /** A dataset of `count` random samples of ~`size` bytes (raw chunks over 1 MiB), appended 50 at a time; returns the samples. */
  async function makeBlobs(count: number, size: number, opts: {chunkCompression?: string; sample?: (i: number) => Uint8Array} = {}) {
    const ds = await Dataset.init(dir)
    await ds.createTensor('blob', {htype: 'binary', ...(opts.chunkCompression ? {chunkCompression: opts.chunkCompression} : {})})
    const samples = Array.from({length: count}, (_, i) => opts.sample?.(i) ?? randomBytes(size + (i % 13)))
    for (let i = 0; i < count; i += 50) await ds.append('blob', samples.slice(i, i + 50))
    await ds.commit('blobs')
    await ds.close()
    return samples
  }

  it('samples kept across many chunks stay intact while the scan reuses its buffers', async () => {
    // ~18 MiB in 12 chunks: more than the prefetch depth + 1 buffers a scan keeps
    const samples = await makeBlobs(600, 31_000)
    const ds = await Dataset.open(dir)
    const v = await ds.version('HEAD')
    const kept: Uint8Array[] = []
    for await (const s of v.streamBytes('blob', {prefetch: 2})) kept[s.index] = s.bytes
    assert.equal(kept.length, samples.length)
    for (let i = 0; i < samples.length; i++) {
      assert.deepEqual(Buffer.from(kept[i]), samples[i], `sample ${i}`)
      assert.equal(kept[i].buffer.byteLength, kept[i].byteLength, 'a kept sample holds only its own bytes')
    }
    // a range starting and ending inside chunks, and the decoded stream, read the same bytes
    const part: Uint8Array[] = []
    for await (const s of v.streamBytes('blob', {start: 101, end: 517})) part.push(s.bytes)
    assert.equal(part.length, 416)
    part.forEach((b, k) => assert.deepEqual(Buffer.from(b), samples[101 + k]))
    await ds.close()
  })

  it('views: the same verified bytes, valid until the next sample, from a few reused buffers', async () => {
    const samples = await makeBlobs(600, 31_000)
    const ds = await Dataset.open(dir)
    const v = await ds.version('HEAD')
    const buffers = new Set<ArrayBufferLike>()
    let n = 0
    for await (const s of v.streamBytes('blob', {prefetch: 2, views: true})) {
      assert.deepEqual(Buffer.from(s.bytes), samples[s.index], `sample ${s.index}`)
      buffers.add(s.bytes.buffer)
      n++
    }
    assert.equal(n, samples.length)
    assert.ok(buffers.size <= 4, `${buffers.size} buffers for 12 chunks: views into reused buffers, not copies`)
    await ds.close()
  })

  it('a damaged sample in a large raw chunk fails the scan at that sample, and is never returned', async () => {
    const samples = await makeBlobs(300, 30_000)
    const objects = path.join(dir, '.lake', 'objects')
    let flipped = false
    for (const sub of fs.readdirSync(objects)) for (const f of fs.readdirSync(path.join(objects, sub))) {
      const file = path.join(objects, sub, f)
      const bytes = fs.readFileSync(file)
      const at = bytes.indexOf(samples[211].subarray(500, 540))
      if (at >= 0 && !flipped) {
        bytes[at + 3] ^= 0x40
        fs.writeFileSync(file, bytes)
        flipped = true
      }
    }
    assert.ok(flipped)
    const ds = await Dataset.open(dir)
    const v = await ds.version('HEAD')
    for (const views of [false, true]) {
      const seen: number[] = []
      await assert.rejects(
        (async () => {
          for await (const s of v.streamBytes('blob', {views})) seen.push(s.index)
        })(),
        (e: {code?: string; message?: string}) => e.code === 'CORRUPT_OBJECT' && /sample 211 /.test(e.message ?? ''),
      )
      assert.deepEqual(seen, Array.from({length: 211}, (_, i) => i), `views: ${views}`)
    }
    await ds.close()
  })

  it('a truncated large chunk fails the scan (CORRUPT_OBJECT), not a short read', async () => {
    const samples = await makeBlobs(200, 30_000)
    const objects = path.join(dir, '.lake', 'objects')
    for (const sub of fs.readdirSync(objects)) for (const f of fs.readdirSync(path.join(objects, sub))) {
      const file = path.join(objects, sub, f)
      const size = fs.statSync(file).size
      if (size > 1024 * 1024) fs.truncateSync(file, Math.floor(size / 2))
    }
    const ds = await Dataset.open(dir)
    const v = await ds.version('HEAD')
    await assert.rejects(
      (async () => {
        for await (const s of v.streamBytes('blob')) assert.deepEqual(Buffer.from(s.bytes), samples[s.index])
      })(),
      (e: {code?: string}) => e.code === 'CORRUPT_OBJECT',
    )
    await ds.close()
  })

  it('large lz4 chunks still scan through the crc worker, every byte intact', async () => {
    await checksumWorker().warm() // a short process checks on its own thread first
    // 8-byte random blocks each written twice: lz4 halves it, so a 4 MiB chunk stays > 1 MiB stored
    const sample = () => {
      const half = randomBytes(50_000)
      const out = new Uint8Array(100_000)
      for (let i = 0; i < 50_000; i += 8) {
        out.set(half.subarray(i, i + 8), 2 * i)
        out.set(half.subarray(i, i + 8), 2 * i + 8)
      }
      return out
    }
    const samples = await makeBlobs(90, 0, {chunkCompression: 'lz4', sample})
    const objects = path.join(dir, '.lake', 'objects')
    const lz4Large = fs.readdirSync(objects).flatMap((sub) => fs.readdirSync(path.join(objects, sub)).map((f) => path.join(objects, sub, f)))
      .filter((f) => fs.statSync(f).size > 1024 * 1024 && fs.readFileSync(f)[5] === 1)
    assert.ok(lz4Large.length >= 1, 'a large lz4 chunk was written')
    const ds = await Dataset.open(dir)
    const v = await ds.version('HEAD')
    const kept: Uint8Array[] = []
    const jobsBefore = checksumWorker().jobs
    for await (const s of v.streamBytes('blob')) kept[s.index] = s.bytes
    assert.ok(checksumWorker().jobs >= jobsBefore + lz4Large.length, 'each large lz4 chunk was checked on the worker')
    kept.forEach((b, i) => assert.deepEqual(b, samples[i]))
    await ds.close()
  })

  it('a store that reads into buffers (memory) scans the same bytes as one that does not', async () => {
    const {Repo} = await import('../../src/core/repo/repo.js')
    const {ObjectDb} = await import('../../src/core/storage/objects.js')
    const {DataStore} = await import('../../src/core/dataset/store.js')
    const {openVersion} = await import('../../src/core/ops/show.js')
    const samples = await makeBlobs(200, 40_000)
    const repo = await Repo.open(dir)
    const {root} = await openVersion(repo, 'HEAD')
    const tensor = root.tensors.blob
    const memory = new MemoryStore({name: `scanbuf-${process.pid}`})
    try {
      for await (const {hash} of repo.objects.list()) await memory.put(repo.objects.keyOf(hash), await repo.objects.getUnverified(hash))
      // the same objects behind a store that reads into buffers and one that ignores them
      const ignoring = new Proxy(memory, {
        get(target, prop) {
          if (prop === 'supports') return {...target.supports, readInto: false}
          const value = Reflect.get(target, prop, target)
          return typeof value === 'function' ? value.bind(target) : value
        },
      })
      for (const store of [memory, ignoring]) {
        const data = new DataStore(new ObjectDb(store), true)
        const kept: Uint8Array[] = []
        for await (const s of data.readRange(tensor, 0, tensor.length)) kept[s.index] = s.bytes
        kept.forEach((b, i) => assert.deepEqual(Buffer.from(b), samples[i]))
      }
    } finally {
      await memory.close()
      dropMemoryStore(`scanbuf-${process.pid}`)
      await repo.close()
    }
  })
})
