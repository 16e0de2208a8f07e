// The direct leaf reader (index/leaf-wire.ts) must agree with the generic msgpack decoder on every
// leaf the writer makes, and step aside (undefined) on anything else, so that decodeNode accepts
// and refuses exactly what it did before. Leaves are built from random entries (fast-check) with
// offsets and lengths across every msgpack integer width, and from random byte damage.
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {decode, encode} from '../../src/core/codec.js'
import {decodeNode} from '../../src/core/index/index.js'
import {readLeafFields} from '../../src/core/index/leaf-wire.js'
import {LeafNode, encodeNode} from '../../src/core/index/node.js'
import type {IndexEntry} from '../../src/core/index/index.js'
import {idFor} from './helpers.js'

const HASH = 'ab'.repeat(32)
const CHUNKS = Array.from({length: 300}, (_, i) => (i.toString(16).padStart(4, '0')).repeat(16))

// integers that msgpack writes as fixint, uint8, uint16, uint32 and (past 2^32) float64
const count = fc.oneof(fc.integer({min: 0, max: 127}), fc.integer({min: 128, max: 255}), fc.integer({min: 256, max: 65535}), fc.integer({min: 65536, max: 2 ** 32 - 1}), fc.integer({min: 2 ** 32, max: 2 ** 40}))
const entries = fc.array(fc.record({serial: fc.nat(), chunk: fc.integer({min: 0, max: 299}), offset: count, length: count, crc: fc.integer({min: 0, max: 2 ** 32 - 1})}), {maxLength: 300})
  .map((rows) => {
    const seen = new Set<number>()
    return rows.filter((r) => !seen.has(r.serial) && seen.add(r.serial)).map((r): IndexEntry => ({id: idFor(BigInt(r.serial)), chunk: CHUNKS[r.chunk], offset: r.offset, length: r.length, crc: r.crc}))
  })

/**
 * Fields with bins as hex and number arrays as plain arrays, so the generic decoder's Buffers and
 * arrays and the reader's Uint8Arrays (views) and Uint32Arrays compare.
 */
const norm = (fields: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(fields).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v instanceof Uint32Array ? Array.from(v) : v]),
  )

const sameLeaf = (a: LeafNode, b: LeafNode) => {
  assert.equal(a.count, b.count)
  for (let j = 0; j < a.count; j++) assert.deepEqual(a.entryAt(j), b.entryAt(j))
}

describe('leaf-wire: the direct leaf reader', () => {
  it('reads every leaf the writer makes as the generic decoder does (or leaves it to it)', () => {
    fc.assert(
      fc.property(entries, (list) => {
        const bytes = encodeNode(LeafNode.fromEntries(list))
        const generic = decode<Record<string, unknown>>(bytes)
        const wire = readLeafFields(bytes)
        const past32 = list.some((e) => e.offset >= 2 ** 32 || e.length >= 2 ** 32)
        // float64 numbers (past 2^32) are left to the generic decoder; all else is read here
        assert.equal(wire === undefined, past32)
        if (wire) assert.deepEqual(norm(wire), norm(generic))
        sameLeaf(decodeNode(HASH, bytes) as LeafNode, LeafNode.fromEntries(list))
      }),
      {numRuns: 200},
    )
  })

  it('copies its bins: the bytes read from may be reused afterwards', () => {
    const list = Array.from({length: 20}, (_, i): IndexEntry => ({id: idFor(BigInt(i)), chunk: CHUNKS[i % 3], offset: i * 1000, length: 1000, crc: i}))
    const bytes = Uint8Array.from(encodeNode(LeafNode.fromEntries(list)))
    const leaf = decodeNode(HASH, bytes) as LeafNode
    bytes.fill(0)
    sameLeaf(leaf, LeafNode.fromEntries(list))
  })

  it('steps aside for other layouts; of damaged bytes it takes only what the generic decoder reads the same', () => {
    const list = Array.from({length: 40}, (_, i): IndexEntry => ({id: idFor(BigInt(i)), chunk: CHUNKS[i % 5], offset: i * 70_000, length: 300 + i, crc: i * 7}))
    const good = encodeNode(LeafNode.fromEntries(list))
    const fields = decode<Record<string, unknown>>(good)
    // another key order, an extra key, a newer version: not the writer's layout
    assert.equal(readLeafFields(encode({v: 1, kind: 'index-leaf', ...fields})), undefined)
    assert.equal(readLeafFields(encode({...fields, extra: 1})), undefined)
    assert.equal(readLeafFields(encode({...fields, v: 2})), undefined)
    assert.equal(readLeafFields(Buffer.concat([good, Buffer.from([0])])), undefined, 'trailing bytes')
    assert.equal(readLeafFields(encode({...fields, offsets: (fields.offsets as number[]).map((x, i) => (i === 3 ? -1 : x))})), undefined)
    fc.assert(
      fc.property(fc.integer({min: 0, max: good.length - 1}), fc.integer({min: 1, max: 255}), fc.boolean(), (at, xor, cut) => {
        const bad = cut ? good.subarray(0, at) : Uint8Array.from(good).map((b, i) => (i === at ? b ^ xor : b))
        let generic: Record<string, unknown> | undefined
        try {
          generic = decode<Record<string, unknown>>(bad)
        } catch {
          generic = undefined
        }
        // what the direct reader takes, the generic decoder reads to the very same fields (so
        // decodeNode's checks see the same thing either way); what the generic decoder refuses, the
        // direct reader never takes
        const wire = readLeafFields(bad)
        if (wire) {
          assert.ok(generic && typeof generic === 'object')
          assert.deepEqual(norm(wire), norm(generic))
        }
      }),
      {numRuns: 300},
    )
  })
})
