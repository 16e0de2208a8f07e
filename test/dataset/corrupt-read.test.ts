// Reads never return wrong bytes: a flipped byte inside a stored sample is caught by the sample's
// crc32 on point reads (ranged, raw chunks; whole, lz4 chunks) and on scans, although chunk reads
// skip re-hashing the whole chunk (fsck does that).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {randomBytes} from 'node:crypto'
import {Dataset} from '../../src/index.js'

describe('reading corrupted chunks', function () {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-corrupt-'))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  async function chunkFiles(): Promise<string[]> {
    const root = path.join(dir, '.lake', 'objects')
    const out: string[] = []
    for (const sub of fs.readdirSync(root)) for (const f of fs.readdirSync(path.join(root, sub))) {
      const file = path.join(root, sub, f)
      if (fs.readFileSync(file).subarray(0, 4).toString() === 'LKCH') out.push(file)
    }
    return out
  }

  function flipInside(file: string, needle: Buffer) {
    const bytes = fs.readFileSync(file)
    const at = bytes.indexOf(needle)
    assert.ok(at >= 0, 'the sample bytes are in the chunk')
    bytes[at + 1] ^= 0xff
    fs.writeFileSync(file, bytes)
  }

  it('raw chunks: point read and scan of the damaged sample fail with CORRUPT_OBJECT; others still read', async () => {
    let ds = await Dataset.init(dir)
    await ds.createTensor('blob', {htype: 'binary'})
    const samples = [Buffer.from('first-sample-bytes'), Buffer.from('second-sample-bytes'), Buffer.from('third-sample-bytes')]
    await ds.append('blob', samples)
    await ds.commit('three blobs')
    const [chunk] = await chunkFiles()
    flipInside(chunk, samples[1])
    await ds.close()
    ds = await Dataset.open(dir) // a fresh process's view: nothing cached from the writes
    const v = await ds.version('HEAD')
    assert.deepEqual(Buffer.from(await v.readBytes('blob', 0)), samples[0])
    await assert.rejects(v.readBytes('blob', 1), (e: {code?: string}) => e.code === 'CORRUPT_OBJECT')
    await assert.rejects(v.readRange('blob', 0, 3), (e: {code?: string}) => e.code === 'CORRUPT_OBJECT')
    const report = await ds.fsck()
    assert.equal(report.ok, false)
    await ds.close()
  })

  it('lz4 chunks: a damaged chunk fails reads with CORRUPT_OBJECT, never wrong text', async () => {
    let ds = await Dataset.init(dir)
    await ds.createTensor('caption', {htype: 'text'})
    const text = Array.from({length: 200}, (_, i) => `a caption that repeats and repeats ${i % 7}`)
    await ds.append('caption', text)
    await ds.commit('captions')
    const chunks = await chunkFiles()
    assert.equal(chunks.length, 1)
    const bytes = fs.readFileSync(chunks[0])
    assert.equal(bytes[5], 1, 'the chunk is lz4-compressed')
    for (let i = 12; i < bytes.length; i += 7) bytes[i] ^= 0x5a
    fs.writeFileSync(chunks[0], bytes)
    await ds.close()
    ds = await Dataset.open(dir)
    const v = await ds.version('HEAD')
    for (const i of [0, 100, 199]) {
      await assert.rejects(v.read('caption', i), (e: {code?: string}) => e.code === 'CORRUPT_OBJECT')
    }
    await ds.close()
  })
  it('large raw chunks (crcs checked per sample during scans): the damaged sample fails the scan, named; the rest reads', async () => {
    let ds = await Dataset.init(dir)
    await ds.createTensor('blob', {htype: 'binary'})
    const samples = Array.from({length: 40}, (_, i) => randomBytes(48_000 + i))
    await ds.append('blob', samples)
    await ds.commit('forty blobs')
    const chunks = await chunkFiles()
    const big = chunks.filter((f) => fs.statSync(f).size > 1024 * 1024)
    assert.equal(big.length, 1, 'one chunk over the 1 MiB whole-hash limit')
    flipInside(big[0], samples[27].subarray(100, 140))
    await ds.close()
    ds = await Dataset.open(dir)
    const v = await ds.version('HEAD')
    const seen: number[] = []
    await assert.rejects(
      (async () => {
        for await (const s of v.streamBytes('blob')) {
          assert.deepEqual(Buffer.from(s.bytes), samples[s.index])
          seen.push(s.index)
        }
      })(),
      (e: {code?: string; message?: string}) => e.code === 'CORRUPT_OBJECT' && /sample 27 /.test(e.message ?? ''),
    )
    assert.ok(!seen.includes(27), 'the damaged sample was never returned')
    // other samples of the same chunk still read one by one
    assert.deepEqual(Buffer.from(await v.readBytes('blob', 26)), samples[26])
    await assert.rejects(v.readBytes('blob', 27), (e: {code?: string}) => e.code === 'CORRUPT_OBJECT')
    // and an undamaged large chunk scans whole, byte for byte
    await ds.close()
  })

  it('a scan of large raw chunks returns every sample intact (scan buffers reused, samples copied out)', async () => {
    const ds = await Dataset.init(dir)
    await ds.createTensor('blob', {htype: 'binary'})
    const samples = Array.from({length: 120}, (_, i) => randomBytes(30_000 + 17 * i))
    await ds.append('blob', samples)
    await ds.commit('blobs')
    await ds.close()
    const again = await Dataset.open(dir)
    const v = await again.version('HEAD')
    let n = 0
    for await (const s of v.streamBytes('blob', {start: 3, end: 117})) {
      assert.deepEqual(Buffer.from(s.bytes), samples[s.index])
      n++
    }
    assert.equal(n, 114)
    await again.close()
  })
})
