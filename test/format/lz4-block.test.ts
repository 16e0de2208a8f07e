// The JavaScript LZ4 block decoder against the native encoder: every payload lz4-napi compresses
// decodes to the same bytes, and damaged blocks are refused with an Error, never wrong bytes.
import assert from 'node:assert/strict'
import {createRequire} from 'node:module'
import fc from 'fast-check'
import {decodeLz4Block, encodeLz4Block} from '../../src/core/format/lz4-block.js'

const lz4 = createRequire(import.meta.url)('lz4-napi') as {compressSync(b: Uint8Array): Buffer; uncompressSync(b: Uint8Array): Buffer}

/** lz4-napi's output: u32 little-endian size, then the block. */
function compress(bytes: Uint8Array): {block: Uint8Array; size: number} {
  const out = lz4.compressSync(Buffer.from(bytes))
  return {block: out.subarray(4), size: out.readUInt32LE(0)}
}

// Compressible payloads: runs, repeats at various distances (overlapping matches), some noise.
const payload = fc
  .array(
    fc.oneof(
      fc.uint8Array({maxLength: 40}),
      fc.record({byte: fc.integer({min: 0, max: 255}), n: fc.integer({min: 1, max: 600})}).map(({byte, n}) => new Uint8Array(n).fill(byte)),
      fc.record({seed: fc.uint8Array({minLength: 1, maxLength: 7}), n: fc.integer({min: 1, max: 300})}).map(({seed, n}) => Uint8Array.from({length: n}, (_, i) => seed[i % seed.length])),
    ),
    {maxLength: 30},
  )
  .map((parts) => Uint8Array.from(parts.flatMap((p) => [...p])))

describe('lz4 block decoder (JavaScript)', () => {
  it('decodes whatever lz4-napi encodes to the same bytes', () => {
    fc.assert(
      fc.property(payload, (bytes) => {
        const {block, size} = compress(bytes)
        assert.equal(size, bytes.length)
        assert.deepEqual(decodeLz4Block(block, size), bytes)
      }),
      {numRuns: 400},
    )
  })

  it('decodes long matches at every distance, shorter or longer than the match (copied natively)', () => {
    const repeats = fc
      .array(fc.record({seed: fc.uint8Array({minLength: 1, maxLength: 200}), n: fc.integer({min: 1, max: 5000})}), {minLength: 1, maxLength: 6})
      .map((parts) => Uint8Array.from(parts.flatMap(({seed, n}) => Array.from({length: n}, (_, i) => seed[i % seed.length]))))
    fc.assert(
      fc.property(repeats, (bytes) => {
        const {block, size} = compress(bytes)
        assert.deepEqual(decodeLz4Block(block, size), bytes)
      }),
      {numRuns: 300},
    )
  })

  it('decodes a large label-like payload (long literal and match lengths)', () => {
    const bytes = new Uint8Array(200_000)
    const view = new DataView(bytes.buffer)
    for (let i = 0; i < 40_000; i++) view.setInt32(i * 5 + 1, i % 1000, true)
    const {block, size} = compress(bytes)
    assert.deepEqual(decodeLz4Block(block, size), bytes)
  })

  it('refuses truncated, extended or bit-flipped blocks with an Error, never a wrong payload of the right size', () => {
    fc.assert(
      fc.property(payload.filter((b) => b.length > 0), fc.nat(), fc.integer({min: 0, max: 7}), fc.constantFrom('truncate', 'flip', 'size+1', 'size-1'), (bytes, at, bit, how) => {
        const {block, size} = compress(bytes)
        let damaged = block
        let claimed = size
        if (how === 'truncate') damaged = block.subarray(0, at % block.length)
        else if (how === 'flip') {
          damaged = Uint8Array.from(block)
          damaged[at % block.length] ^= 1 << bit
        } else claimed = how === 'size+1' ? size + 1 : size - 1
        let out: Uint8Array | undefined
        try {
          out = decodeLz4Block(damaged, claimed)
        } catch (e) {
          assert.ok(e instanceof Error && !(e instanceof RangeError) && !(e instanceof TypeError), `unexpected ${String(e)}`)
          return
        }
        // a flip inside a literal decodes "fine" to other bytes: the chunk hash catches that
        assert.equal(out.length, claimed)
        if (how !== 'flip') assert.fail(`${how} decoded without an error`)
      }),
      {numRuns: 400},
    )
  })
})

describe('lz4 block encoder (JavaScript)', () => {
  /** The block with lz4-napi's u32 size prefix, as chunks store it. */
  const prefixed = (bytes: Uint8Array, block: Uint8Array) => {
    const out = Buffer.alloc(4 + block.length)
    out.writeUInt32LE(bytes.length, 0)
    out.set(block, 4)
    return out
  }

  it('encodes what lz4-napi and the JavaScript decoder both decode to the same bytes', () => {
    fc.assert(
      fc.property(fc.oneof(payload, fc.uint8Array({maxLength: 3000})), (bytes) => {
        const block = encodeLz4Block(bytes)
        assert.deepEqual(decodeLz4Block(block, bytes.length), bytes)
        assert.deepEqual(new Uint8Array(lz4.uncompressSync(prefixed(bytes, block))), bytes)
      }),
      {numRuns: 500},
    )
  })

  it('compresses label-like and text-like payloads about as well as lz4-napi', () => {
    const labels = new Uint8Array(4 * 50_000)
    const view = new DataView(labels.buffer)
    for (let i = 0; i < 50_000; i++) view.setInt32(i * 4, i % 1000, true)
    const words = ['cat', 'dog', 'sitting', 'near', 'the', 'house', 'morning', 'rain']
    const text = Buffer.from(Array.from({length: 3000}, (_, i) => `sample ${i} ${words[i % 8]} ${words[(i * 7) % 8]} ${words[(i * 3) % 8]}`).join(''))
    for (const bytes of [labels, new Uint8Array(text)]) {
      const block = encodeLz4Block(bytes)
      assert.deepEqual(decodeLz4Block(block, bytes.length), bytes)
      const native = lz4.compressSync(Buffer.from(bytes)).length - 4
      assert.ok(block.length <= native * 1.3, `JS ${block.length} bytes vs lz4-napi ${native}`)
      assert.ok(block.length < bytes.length / 2, `JS ${block.length} of ${bytes.length} bytes`)
    }
  })
})
