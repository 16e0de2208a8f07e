import assert from 'node:assert/strict'
import {IndexOutOfRangeError, InvalidValueError} from '../../src/core/errors.js'
import {
  buildIndex, cachedNodeIO, decodeNode, findPositionsById, getEntries, getEntry, indexLength, readEntries, readEntryBatches, readLeafSlices, TreeBuilder,
  type IndexEntry,
} from '../../src/core/index/index.js'
import type {InnerNode} from '../../src/core/index/index.js'
import {BorrowingNodeIO, DEEP, MemoryNodeIO, makeEntries, makeEntry, treeDepth} from './helpers.js'

async function* streamed(entries: IndexEntry[]): AsyncGenerator<IndexEntry> {
  for (const e of entries) yield e
}

describe('index build and read', () => {
  it('gives the empty index a real root: an empty leaf', async () => {
    const io = new MemoryNodeIO()
    const {root, length} = await buildIndex(io, [])
    assert.equal(length, 0)
    assert.equal(decodeNode(root, io.objects.get(root)!).kind, 'leaf')
    assert.equal(await indexLength(io, root), 0)
    assert.deepEqual(await getEntries(io, root, 0, 0), [])
    await assert.rejects(getEntry(io, root, 0), IndexOutOfRangeError)
    // The same root whatever the params: an empty leaf has no shape.
    assert.equal((await buildIndex(io, [], DEEP)).root, root)
  })

  for (const [name, params, count] of [['default params', undefined, 3000], ['deep params', DEEP, 700], ['one-bit params', {leafBits: 1, nodeBits: 1}, 300]] as const) {
    it(`reads back every entry (${name})`, async () => {
      const io = new MemoryNodeIO()
      const entries = makeEntries(count)
      const {root, length} = await buildIndex(io, entries, params)
      assert.equal(length, count)
      assert.equal(await indexLength(io, root), count)
      assert.deepEqual(await getEntries(io, root, 0, count), entries)
      for (const i of [0, 1, count >> 1, count - 1]) assert.deepEqual(await getEntry(io, root, i), entries[i])
      for (const [s, e] of [[0, 1], [5, 5], [7, 93], [count - 10, count]]) assert.deepEqual(await getEntries(io, root, s, e), entries.slice(s, e))
    })
  }

  it('makes deep trees with small params and shallow ones with the defaults', async () => {
    const io = new MemoryNodeIO()
    assert.ok(await treeDepth(io, (await buildIndex(io, makeEntries(700), DEEP)).root) >= 4)
    assert.equal(await treeDepth(io, (await buildIndex(io, makeEntries(100))).root), 1)
  })

  it('gives the same root for a streamed and an array input, and for equal sequences only', async () => {
    const io = new MemoryNodeIO()
    const entries = makeEntries(500)
    const a = await buildIndex(io, entries, DEEP)
    const b = await buildIndex(io, streamed(entries), DEEP)
    assert.equal(a.root, b.root)
    const changed = entries.slice()
    changed[250] = {...changed[250], crc: changed[250].crc ^ 1}
    assert.notEqual((await buildIndex(io, changed, DEEP)).root, a.root)
  })

  it('refuses out-of-range positions', async () => {
    const io = new MemoryNodeIO()
    const {root} = await buildIndex(io, makeEntries(50), DEEP)
    for (const i of [-1, 50, 1.5, NaN]) await assert.rejects(getEntry(io, root, i), IndexOutOfRangeError)
    for (const [s, e] of [[-1, 3], [3, 51], [4, 3]]) await assert.rejects(getEntries(io, root, s, e), IndexOutOfRangeError)
  })

  it('refuses entries it could not store faithfully', async () => {
    const io = new MemoryNodeIO()
    const good = makeEntry(1)
    const bad: IndexEntry[] = [
      {...good, id: -1n}, {...good, id: 1n << 64n}, {...good, chunk: 'nope'}, {...good, offset: -1},
      {...good, length: 1.5}, {...good, crc: 2 ** 32}, {...good, crc: -1},
    ]
    for (const entry of bad) await assert.rejects(buildIndex(io, [good, entry]), InvalidValueError)
  })

  it('reads O(depth) nodes per getEntry, and a cache makes repeats free', async () => {
    const io = new MemoryNodeIO()
    const {root} = await buildIndex(io, makeEntries(2000), DEEP)
    const depth = await treeDepth(io, root)
    io.resetCounts()
    await getEntry(io, root, 1234)
    assert.equal(io.reads, depth)
    const cached = cachedNodeIO(io)
    io.resetCounts()
    await getEntry(cached, root, 1234)
    await getEntry(cached, root, 1234)
    assert.equal(io.reads, depth)
  })

  it('a cache shares one read among concurrent readers of a node', async () => {
    const io = new MemoryNodeIO()
    const {root} = await buildIndex(io, makeEntries(2000), DEEP)
    const depth = await treeDepth(io, root)
    const cached = cachedNodeIO(io)
    assert.equal(cachedNodeIO(cached), cached)
    io.resetCounts()
    await Promise.all(Array.from({length: 10}, () => getEntry(cached, root, 777)))
    assert.equal(io.reads, depth)
  })

  it('reads ranges as one batch per leaf', async () => {
    const io = new MemoryNodeIO()
    const entries = makeEntries(500)
    const {root} = await buildIndex(io, entries, DEEP)
    const batches: IndexEntry[][] = []
    for await (const batch of readEntryBatches(io, root, 100, 400)) batches.push(batch)
    assert.ok(batches.length > 10 && batches.every(b => b.length > 0))
    assert.deepEqual(batches.flat(), entries.slice(100, 400))
  })

  it('a cached io already knows the nodes it wrote', async () => {
    const io = new MemoryNodeIO()
    const cached = cachedNodeIO(io)
    const {root} = await buildIndex(cached, makeEntries(300), DEEP)
    io.resetCounts()
    assert.equal((await getEntries(cached, root, 0, 300)).length, 300)
    assert.equal(io.reads, 0)
  })

  it('reads only the nodes a range needs', async () => {
    const io = new MemoryNodeIO()
    const {root} = await buildIndex(io, makeEntries(2000), DEEP)
    const depth = await treeDepth(io, root)
    io.resetCounts()
    const got = await getEntries(io, root, 1000, 1010)
    assert.equal(got.length, 10)
    // A range of 10 spans a few leaves (~4 entries each) and their few ancestors.
    assert.ok(io.reads <= depth + 12, `${io.reads} reads`)
  })

  it('stops reading when the consumer stops', async () => {
    const io = new MemoryNodeIO()
    const {root} = await buildIndex(io, makeEntries(2000), DEEP)
    io.resetCounts()
    for await (const entry of readEntries(io, root, 0, 2000)) {
      assert.deepEqual(entry, makeEntry(0))
      break
    }
    assert.ok(io.reads < 40, `${io.reads} reads`)
  })

  it('reads the leaves of a range together, a batch at a time, before handing out the first', async () => {
    const io = new MemoryNodeIO()
    // default params: one inner node over ~40 leaves
    const {root} = await buildIndex(io, makeEntries(10_000))
    const root0 = decodeNode(root, io.objects.get(root)!)
    assert.equal(root0.level, 1)
    const leaves = (root0 as InnerNode).children.length
    assert.ok(leaves > 20 && leaves <= 64, `${leaves} leaves`)
    io.resetCounts()
    for await (const slice of readLeafSlices(io, root, 0, 10_000)) {
      assert.equal(slice.from, 0)
      break
    }
    assert.equal(io.reads, 1 + leaves)
  })

  it('leaves read through visitMany (a view of a reused buffer each) decode to nodes of their own, in the writer layout or not', async () => {
    // offsets of 2^33 and more are byte counts leaf-wire does not read (the generic decoder does)
    for (const far of [0, 2 ** 33]) {
      const mem = new BorrowingNodeIO()
      const entries = makeEntries(3000).map((e) => ({...e, offset: e.offset + far}))
      const {root} = await buildIndex(mem, entries, {leafBits: 5, nodeBits: 4})
      const io = cachedNodeIO(mem)
      assert.deepEqual(await getEntries(io, root, 0, 3000), entries)
      mem.resetCounts()
      assert.deepEqual(await getEntries(io, root, 0, 3000), entries, 'again, from the cache')
      assert.equal(mem.reads, 0)
    }
  })

  for (const kind of ['plain', 'cached', 'visitMany'] as const) {
    const cached = kind !== 'plain'
    it(`a damaged or missing leaf fails a scan when the scan gets to it, not before (${kind} io)`, async () => {
      for (const fault of ['damaged', 'missing'] as const) {
        const mem = kind === 'visitMany' ? new BorrowingNodeIO() : new MemoryNodeIO()
        const entries = makeEntries(10_000)
        const {root} = await buildIndex(mem, entries)
        const inner = decodeNode(root, mem.objects.get(root)!) as InnerNode
        const bad = inner.children[5]
        if (fault === 'missing') mem.objects.delete(bad)
        else mem.objects.set(bad, Uint8Array.from(mem.objects.get(bad)!).map((b, i) => (i === 40 ? b ^ 1 : b)))
        const io = cached ? cachedNodeIO(mem) : mem
        const got: IndexEntry[] = []
        const scan = (async () => {
          for await (const batch of readEntryBatches(io, root, 0, 10_000)) got.push(...batch)
        })()
        await assert.rejects(scan, (e: {code?: string}) => e.code === (fault === 'missing' ? 'OBJECT_NOT_FOUND' : 'CORRUPT_OBJECT'))
        // every entry before the bad leaf came out, right, and none after it
        assert.equal(got.length, inner.startOf(5))
        assert.deepEqual(got, entries.slice(0, got.length))
      }
    })
  }

  it('finds positions by id', async () => {
    const io = new MemoryNodeIO()
    const entries = makeEntries(400)
    const {root} = await buildIndex(io, entries, DEEP)
    const found = await findPositionsById(io, root, new Set([entries[3].id, entries[399].id, 42n]))
    assert.deepEqual([...found].sort((a, b) => a[1] - b[1]), [[entries[3].id, 3], [entries[399].id, 399]])
  })

  it('applies write backpressure and reports write failures', async () => {
    let writes = 0
    const failing = {read: async () => new Uint8Array(), write: async () => { if (++writes > 3) throw new Error('disk full'); return '' }}
    await assert.rejects(buildIndex(failing, makeEntries(500), DEEP))
    const builder = new TreeBuilder(new MemoryNodeIO(), DEEP)
    assert.equal(builder.length, 0)
  })
})
