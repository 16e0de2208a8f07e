import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import fc from 'fast-check'
import {
  ChunkBuilder, CHUNK_HEADER_BYTES, chunkPayload, createTensorMeta, encodeChunk, encodeSample, parseChunkHeader,
  rawSampleByteRange, sampleFromChunk, sampleFromPayload, decodeSample,
} from '../../src/core/format/index.js'
import {throwsCode} from './helpers.js'

const meta = (chunkCompression: string, maxChunkBytes = 4 * 1024 * 1024) =>
  createTensorMeta('t', {htype: 'binary', chunkCompression, maxChunkBytes})

describe('format/chunk', () => {
  it('writes the documented header', () => {
    const object = encodeChunk(Uint8Array.from([9, 8, 7]), false)
    assert.deepEqual([...object], [0x4c, 0x4b, 0x43, 0x48, 1, 0, 0, 0, 9, 8, 7])
    assert.equal(CHUNK_HEADER_BYTES, 8)
    assert.deepEqual(parseChunkHeader(object), {version: 1, codec: 'raw'})
  })

  it('packs samples back to back and gives each one back', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({maxLength: 300}), {maxLength: 40}), fc.boolean(), (samples, lz4) => {
      const builder = new ChunkBuilder(meta(lz4 ? 'lz4' : 'none', 2000))
      const chunks: {object: Uint8Array; at: {offset: number; length: number}[]; samples: Uint8Array[]}[] = []
      let current = {at: [] as {offset: number; length: number}[], samples: [] as Uint8Array[]}
      for (const s of samples) {
        let at = builder.add(s)
        if (at === null) {
          chunks.push({object: builder.finish(), ...current})
          current = {at: [], samples: []}
          at = builder.add(s)
        }
        assert.ok(at)
        assert.equal(at.offset, current.samples.reduce((n, x) => n + x.length, 0), 'offsets are contiguous')
        current.at.push(at)
        current.samples.push(s)
        assert.equal(builder.count, current.samples.length)
        assert.equal(builder.size, at.offset + at.length)
      }
      if (builder.count > 0) chunks.push({object: builder.finish(), ...current})
      assert.equal(builder.count, 0, 'finish empties the builder')
      for (const c of chunks) {
        const payload = chunkPayload(c.object)
        assert.ok(payload.length <= 2000 || c.samples.length === 1)
        c.at.forEach((at, i) => {
          assert.deepEqual(sampleFromChunk(c.object, at.offset, at.length), c.samples[i])
          assert.deepEqual(sampleFromPayload(payload, at.offset, at.length), c.samples[i])
        })
      }
    }))
  })

  it('does not keep a reference to the caller\'s sample bytes', () => {
    const builder = new ChunkBuilder(meta('none'))
    const sample = Uint8Array.from([1, 2, 3])
    builder.add(sample)
    sample[0] = 99
    assert.deepEqual([...chunkPayload(builder.finish())], [1, 2, 3])
  })

  it('stores a sample larger than the target alone', () => {
    const builder = new ChunkBuilder(meta('none', 100))
    assert.deepEqual(builder.add(new Uint8Array(10)), {offset: 0, length: 10})
    assert.equal(builder.add(new Uint8Array(500)), null, 'full: the big sample waits for an empty chunk')
    builder.finish()
    assert.deepEqual(builder.add(new Uint8Array(500).fill(4)), {offset: 0, length: 500})
    assert.equal(builder.add(new Uint8Array(1)), null, 'nothing joins an oversized sample')
    const object = builder.finish()
    assert.equal(object.length, CHUNK_HEADER_BYTES + 500)
    // exactly at the target still fits
    assert.ok(builder.add(new Uint8Array(60)))
    assert.ok(builder.add(new Uint8Array(40)))
    assert.equal(builder.add(new Uint8Array(1)), null)
  })

  it('uses lz4 only when the tensor allows it and it saves at least 10%', () => {
    const text = createTensorMeta('caption', {htype: 'text'})
    const builder = new ChunkBuilder(text)
    for (let i = 0; i < 200; i++) builder.add(encodeSample(text, `a photo of a cat number ${i}`, {index: i}))
    const size = builder.size
    const object = builder.finish()
    assert.equal(parseChunkHeader(object).codec, 'lz4')
    assert.ok(object.length < size / 2)
    assert.equal(decodeSample(text, sampleFromChunk(object, 0, 25)), 'a photo of a cat number 0')

    const random = randomBytes(10000)
    assert.equal(parseChunkHeader(encodeChunk(random, true)).codec, 'raw', 'incompressible stays raw')
    // ~5% compressible: lz4 would save less than 10%
    const mostlyRandom = Buffer.concat([randomBytes(9500), Buffer.alloc(500)])
    assert.equal(parseChunkHeader(encodeChunk(mostlyRandom, true)).codec, 'raw')
    const halfZeros = Buffer.concat([randomBytes(5000), Buffer.alloc(5000)])
    assert.equal(parseChunkHeader(encodeChunk(halfZeros, true)).codec, 'lz4')
    assert.equal(parseChunkHeader(encodeChunk(Buffer.alloc(5000), false)).codec, 'raw', 'chunkCompression none is honoured')
    assert.equal(parseChunkHeader(encodeChunk(new Uint8Array(0), true)).codec, 'raw')
    assert.deepEqual(chunkPayload(encodeChunk(halfZeros, true)), new Uint8Array(halfZeros))
  })

  it('locates a sample of a raw chunk for a ranged read', () => {
    const builder = new ChunkBuilder(meta('none'))
    builder.add(Uint8Array.from([1, 2]))
    const at = builder.add(Uint8Array.from([3, 4, 5]))!
    const object = builder.finish()
    const {start, end} = rawSampleByteRange(at.offset, at.length)
    assert.deepEqual({start, end}, {start: 10, end: 13})
    assert.deepEqual([...object.subarray(start, end)], [3, 4, 5])
  })

  it('refuses corrupt chunks', () => {
    const good = encodeChunk(Buffer.alloc(1000, 7), true)
    const bad = (f: (b: Uint8Array) => void) => {
      const b = Uint8Array.from(good)
      f(b)
      return b
    }
    throwsCode(() => parseChunkHeader(good.subarray(0, 5), 'abc123'), 'CORRUPT_OBJECT', 'chunk abc123', 'shorter')
    throwsCode(() => parseChunkHeader(bad(b => (b[0] = 0x4d)), 'abc123'), 'CORRUPT_OBJECT', 'chunk abc123', 'magic')
    const e = throwsCode(() => parseChunkHeader(bad(b => (b[4] = 2))), 'CORRUPT_OBJECT', 'version 2')
    assert.equal(e.data?.version, 2)
    throwsCode(() => parseChunkHeader(bad(b => (b[5] = 9))), 'CORRUPT_OBJECT', 'codec 9')
    throwsCode(() => parseChunkHeader(bad(b => (b[7] = 1))), 'CORRUPT_OBJECT', 'reserved')
    throwsCode(() => chunkPayload(bad(b => b.fill(0xff, CHUNK_HEADER_BYTES + 4))), 'CORRUPT_OBJECT', 'lz4')
    throwsCode(() => chunkPayload(bad(b => new DataView(b.buffer).setUint32(CHUNK_HEADER_BYTES, 0xffffffff, true))), 'CORRUPT_OBJECT', 'claims')
    throwsCode(() => chunkPayload(good.subarray(0, CHUNK_HEADER_BYTES + 2)), 'CORRUPT_OBJECT', 'length prefix')
    throwsCode(() => chunkPayload(good.subarray(0, good.length - 3)), 'CORRUPT_OBJECT', 'lz4')
    throwsCode(() => sampleFromChunk(good, 990, 20, 'abc123'), 'CORRUPT_OBJECT', 'chunk abc123', 'outside')
    throwsCode(() => sampleFromChunk(encodeChunk(new Uint8Array(4), false), -1, 2), 'CORRUPT_OBJECT', 'outside')
  })
})
