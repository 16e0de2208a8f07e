import assert from 'node:assert/strict'
import {encode} from '../../src/core/codec.js'
import {CorruptObjectError, FormatVersionError} from '../../src/core/errors.js'
import {sha256hex} from '../../src/core/hash.js'
import {buildIndex, decodeNode, getEntry, indexLength, INDEX_NODE_VERSION} from '../../src/core/index/index.js'
import {InnerNode, LeafNode, encodeNode} from '../../src/core/index/node.js'
import {DEEP, MemoryNodeIO, location, makeEntries, makeEntry} from './helpers.js'

const HASH = 'ab'.repeat(32)

function refusedAsCorrupt(fn: () => unknown, hash = HASH): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CorruptObjectError)
    assert.equal(err.code, 'CORRUPT_OBJECT')
    assert.ok(err.message.includes(hash), 'message names the node')
    return true
  })
}

describe('index node encoding', () => {
  it('round-trips a leaf, sharing one table slot per chunk', () => {
    const entries = [makeEntry(1), makeEntry(2), makeEntry(17), makeEntry(3, 5)]
    entries[3].offset = 2 ** 40 // offsets past 4 GiB survive
    const leaf = LeafNode.fromEntries(entries)
    assert.equal(leaf.chunkTable.length, 3) // serials 1 and 17 share a chunk
    const back = decodeNode(HASH, encodeNode(leaf))
    assert.equal(back.kind, 'leaf')
    for (let j = 0; j < entries.length; j++) assert.deepEqual((back as LeafNode).entryAt(j), entries[j])
  })

  it('an updated copy of a decoded leaf encodes as fromEntries of the updated entries', () => {
    // Chunk slots renumber by first appearance: entry 0 moves to a chunk no other entry uses,
    // entry 1's chunk drops out of the table, entry 3 takes entry 2's chunk.
    const entries = [makeEntry(1), makeEntry(2), makeEntry(17), makeEntry(3)]
    const leaf = decodeNode(HASH, encodeNode(LeafNode.fromEntries(entries))) as LeafNode
    const updates: [number, ReturnType<typeof location>][] = [[0, location(makeEntry(9, 4))], [1, location(makeEntry(1))], [3, location(makeEntry(2))]]
    const copy = leaf.withLocations(updates)
    const expected = entries.map((e, j) => {
      const u = updates.find(([slot]) => slot === j)
      return u ? {...u[1], id: e.id} : e
    })
    assert.deepEqual(Buffer.from(encodeNode(copy)), Buffer.from(encodeNode(LeafNode.fromEntries(expected))))
    // the original is untouched (the copy shares only its ids)
    for (let j = 0; j < entries.length; j++) assert.deepEqual(leaf.entryAt(j), entries[j])
    assert.throws(() => leaf.withLocations([[0, {...location(makeEntry(1)), crc: -1}]]), /crc/)
  })

  it('round-trips an inner node', () => {
    const refs = [0, 1, 2].map(i => ({hash: sha256hex(Buffer.from([i])), level: 0, count: i + 1, lastId: BigInt(i) << 60n}))
    const back = decodeNode(HASH, encodeNode(InnerNode.fromRefs(1, refs))) as InnerNode
    assert.equal(back.kind, 'inner')
    assert.equal(back.count, 6)
    assert.deepEqual([0, 1, 2].map(k => back.childRef(k)), refs)
    assert.deepEqual([0, 1, 2, 3, 5].map(i => back.childIndexOf(i)), [0, 1, 1, 2, 2])
  })

  it('encodes the same node to the same bytes', () => {
    const a = encodeNode(LeafNode.fromEntries(makeEntries(50)))
    const b = encodeNode(LeafNode.fromEntries(makeEntries(50)))
    assert.deepEqual(a, b)
  })

  const leafFields = () => {
    const leaf = LeafNode.fromEntries([makeEntry(1), makeEntry(2)])
    return {
      kind: 'index-leaf', v: INDEX_NODE_VERSION, ids: leaf.ids, chunks: Buffer.from(leaf.chunkTable.join(''), 'hex'),
      chunkOf: Uint8Array.from(leaf.chunkOf), offsets: leaf.offsets, lengths: leaf.lengths, crcs: leaf.crcs,
    } as Record<string, unknown>
  }

  it('accepts the hand-built reference leaf', () => {
    assert.equal(decodeNode(HASH, encode(leafFields())).kind, 'leaf')
  })

  it('refuses a newer format version as such, and other versions and kinds as corrupt', () => {
    assert.throws(() => decodeNode(HASH, encode({...leafFields(), v: 2})), (err: unknown) => err instanceof FormatVersionError && err.code === 'FORMAT_VERSION' && err.message.includes(HASH))
    assert.throws(() => decodeNode(HASH, encode({...leafFields(), kind: 'index-twig', v: 2})), FormatVersionError)
    refusedAsCorrupt(() => decodeNode(HASH, encode({...leafFields(), kind: 'index-twig'})))
    refusedAsCorrupt(() => decodeNode(HASH, encode({...leafFields(), v: 0})))
    refusedAsCorrupt(() => decodeNode(HASH, encode({...leafFields(), v: '1'})))
    refusedAsCorrupt(() => decodeNode(HASH, encode({...leafFields(), kind: 'commit'})))
    refusedAsCorrupt(() => decodeNode(HASH, encode(['index-leaf', 1])))
    refusedAsCorrupt(() => decodeNode(HASH, Buffer.from([0xc1]))) // never-used msgpack byte
  })

  it('refuses malformed shapes', () => {
    const cases: Record<string, unknown>[] = [
      {...leafFields(), ids: new Uint8Array(12)},
      {...leafFields(), ids: new Uint8Array(24)},
      {...leafFields(), offsets: [1]},
      {...leafFields(), lengths: [1, -1]},
      {...leafFields(), offsets: [1, 0.5]},
      {...leafFields(), crcs: new Uint8Array(4)},
      {...leafFields(), chunkOf: Uint8Array.from([1, 0])},
      {...leafFields(), chunks: new Uint8Array(31)},
      {...leafFields(), extra: 1},
      {kind: 'index-inner', v: 1, level: 0, children: new Uint8Array(32), counts: [1], lastIds: new Uint8Array(8)},
      {kind: 'index-inner', v: 1, level: 1, children: new Uint8Array(0), counts: [], lastIds: new Uint8Array(0)},
      {kind: 'index-inner', v: 1, level: 1, children: new Uint8Array(32), counts: [0], lastIds: new Uint8Array(8)},
      {kind: 'index-inner', v: 1, level: 1, children: new Uint8Array(64), counts: [1, 2], lastIds: new Uint8Array(8)},
    ]
    for (const fields of cases) refusedAsCorrupt(() => decodeNode(HASH, encode(fields)))
  })

  it('refuses a stored node whose bytes changed', async () => {
    const io = new MemoryNodeIO()
    const {root} = await buildIndex(io, makeEntries(200), DEEP)
    const root0 = decodeNode(root, io.objects.get(root)!) as InnerNode
    const victim = root0.children[1]
    const bytes = io.objects.get(victim)!
    bytes[bytes.length - 1] ^= 1
    await assert.rejects(getEntry(io, root, root0.startOf(1)), (err: unknown) => err instanceof CorruptObjectError && err.message.includes(victim))
    assert.equal(await indexLength(io, root), 200) // the root itself is fine
  })

  it('refuses a child that is not what its parent says', async () => {
    const io = new MemoryNodeIO()
    const {root} = await buildIndex(io, makeEntries(200), DEEP)
    const top = decodeNode(root, io.objects.get(root)!) as InnerNode
    // Swap two children: every node still hashes right, but counts and last ids disagree.
    const children = [top.children[1], top.children[0], ...top.children.slice(2)]
    const forged = encode({kind: 'index-inner', v: 1, level: top.level, children: Buffer.from(children.join(''), 'hex'), counts: top.counts, lastIds: top.lastIds})
    const forgedRoot = await io.write(forged)
    assert.notEqual(top.lastIdAt(0), top.lastIdAt(1))
    await assert.rejects(getEntry(io, forgedRoot, 0), CorruptObjectError)
  })
})
