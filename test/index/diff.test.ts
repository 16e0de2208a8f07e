import assert from 'node:assert/strict'
import fc from 'fast-check'
import {buildIndex, cachedNodeIO, decodeNode, diffIndexes, editIndex, type IndexEntry, type InnerNode} from '../../src/core/index/index.js'
import {BorrowingNodeIO, DEEP, MemoryNodeIO, location, makeEntries, makeEntry, treeDepth} from './helpers.js'
import {applyEdits, modelDiff} from './model.js'

describe('index diff', () => {
  it('is empty for equal roots, and reads nothing', async () => {
    const io = new MemoryNodeIO()
    const {root} = await buildIndex(io, makeEntries(100), DEEP)
    io.resetCounts()
    assert.deepEqual(await diffIndexes(io, root, root), {added: [], updated: [], deleted: []})
    assert.equal(io.reads, 0)
  })

  it('reports added, updated and deleted positions', async () => {
    const io = new MemoryNodeIO()
    const a = makeEntries(50)
    const b = a.filter((_, i) => i !== 10 && i !== 20) // positions after 10 shift by one, after 20 by two
    b[30] = {...b[30], ...location(makeEntry(999))}
    b.push(makeEntry(100), makeEntry(101))
    const [ra, rb] = [await buildIndex(io, a, DEEP), await buildIndex(io, b, DEEP)]
    assert.deepEqual(await diffIndexes(io, ra.root, rb.root), {added: [48, 49], updated: [30], deleted: [10, 20]})
    assert.deepEqual(await diffIndexes(io, rb.root, ra.root), {added: [10, 20], updated: [32], deleted: [48, 49]})
  })

  it('diffs against the empty index', async () => {
    const io = new MemoryNodeIO()
    const empty = await buildIndex(io, [])
    const full = await buildIndex(io, makeEntries(30), DEEP)
    const all = Array.from({length: 30}, (_, i) => i)
    assert.deepEqual(await diffIndexes(io, empty.root, full.root), {added: all, updated: [], deleted: []})
    assert.deepEqual(await diffIndexes(io, full.root, empty.root), {added: [], updated: [], deleted: all})
  })

  it('matches the model for unrelated trees over shared ids (property)', async () => {
    // Two sequences drawn from one pool of serials, each serial at most once, some relocated.
    const side = fc.uniqueArray(fc.tuple(fc.integer({min: 0, max: 400}), fc.integer({min: 0, max: 2})), {selector: ([s]) => s, maxLength: 250})
    await fc.assert(
      fc.asyncProperty(side, side, fc.integer({min: 1, max: 3}), fc.boolean(), async (sa, sb, bits, borrowing) => {
        const params = {leafBits: bits, nodeBits: bits}
        // nodes read one by one, or together through visitMany as views of a reused buffer
        const mem = borrowing ? new BorrowingNodeIO() : new MemoryNodeIO()
        const io = borrowing ? cachedNodeIO(mem) : mem
        const a: IndexEntry[] = sa.map(([s, v]) => makeEntry(s, v))
        const b: IndexEntry[] = sb.map(([s, v]) => makeEntry(s, v))
        const [ra, rb] = [await buildIndex(mem, a, params), await buildIndex(mem, b, params)]
        assert.deepEqual(await diffIndexes(io, ra.root, rb.root), modelDiff(a, b))
      }),
      {numRuns: Number(process.env.INDEX_PROPERTY_RUNS ?? 150)},
    )
  })

  it('a damaged or missing node that differs fails the diff (read one by one or together)', async () => {
    for (const borrowing of [false, true]) {
      for (const fault of ['damaged', 'missing'] as const) {
        const mem = borrowing ? new BorrowingNodeIO() : new MemoryNodeIO()
        const a = makeEntries(3000)
        const b = a.map((e, i) => (i % 100 === 7 ? {...e, ...location(makeEntry(i, 1))} : e))
        const [ra, rb] = [await buildIndex(mem, a), await buildIndex(mem, b)]
        const bad = (decodeNode(rb.root, mem.objects.get(rb.root)!) as InnerNode).children[3]
        if (fault === 'missing') mem.objects.delete(bad)
        else mem.objects.set(bad, Uint8Array.from(mem.objects.get(bad)!).map((x, i) => (i === 40 ? x ^ 1 : x)))
        await assert.rejects(diffIndexes(cachedNodeIO(mem), ra.root, rb.root), (e: {code?: string}) => e.code === (fault === 'missing' ? 'OBJECT_NOT_FOUND' : 'CORRUPT_OBJECT'))
      }
    }
  })

  it('reads O(k log n) nodes for k changes in a large tree', async () => {
    const io = new MemoryNodeIO()
    const n = 200_000
    const base = await buildIndex(io, makeEntries(n))
    const depth = await treeDepth(io, base.root)
    for (const k of [1, 10, 100]) {
      const positions = Array.from({length: k}, (_, i) => Math.floor(((i + 0.5) * n) / k))
      const updates = new Map(positions.slice(0, k >> 1).map(p => [p, location(makeEntry(p, 3))]))
      const deletes = positions.slice(k >> 1)
      io.resetCounts()
      const edited = await editIndex(io, base.root, {updates, deletes, appends: [makeEntry(n + 1)]})
      const editReads = io.reads
      io.resetCounts()
      const diff = await diffIndexes(io, base.root, edited.root)
      assert.equal(diff.updated.length + diff.deleted.length + diff.added.length, k + 1)
      // Each change makes its leaf and that leaf's ancestors differ, on both sides.
      assert.ok(io.reads <= 4 * (k + 1) * depth, `diff of ${k} changes read ${io.reads} nodes, depth ${depth}`)
      assert.ok(editReads <= 3 * (k + 1) * depth, `edit of ${k} changes read ${editReads} nodes, depth ${depth}`)
    }
  })

  it('matches the model for edits of one tree: updates, deletes (boundaries too), appends (property)', async () => {
    // Deleting a boundary entry merges a node into its neighbour, so the two trees' children stop
    // lining up one to one: the side-by-side walk must find its way back or leave it to hash sets.
    const serials = fc.uniqueArray(fc.integer({min: 0, max: 100_000}), {minLength: 1, maxLength: 300})
    const edit = fc.record({
      updates: fc.uniqueArray(fc.nat(), {maxLength: 20}),
      deletes: fc.uniqueArray(fc.nat(), {maxLength: 20}),
      appends: fc.uniqueArray(fc.integer({min: 100_001, max: 200_000}), {maxLength: 10}),
    })
    await fc.assert(
      fc.asyncProperty(serials, edit, fc.integer({min: 1, max: 3}), async (ss, e, bits) => {
        const params = {leafBits: bits, nodeBits: bits}
        const io = new MemoryNodeIO()
        const a = ss.map(s => makeEntry(s))
        const edits = {
          updates: new Map(e.updates.map(p => p % a.length).map(p => [p, location(makeEntry(ss[p], 1))])),
          deletes: e.deletes.map(p => p % a.length),
          appends: e.appends.map(s => makeEntry(s)),
        }
        const ra = await buildIndex(io, a, params)
        const rb = await editIndex(io, ra.root, edits, params)
        const b = applyEdits(a, edits)
        assert.deepEqual(await diffIndexes(io, ra.root, rb.root), modelDiff(a, b))
        assert.deepEqual(await diffIndexes(io, rb.root, ra.root), modelDiff(b, a))
      }),
      {numRuns: Number(process.env.INDEX_PROPERTY_RUNS ?? 150)},
    )
  })

  it('reads for the same change in a 20x larger tree only the one more level', async () => {
    // 64 entries a leaf and 64 children a node: 20k entries are 3 levels, 400k are 4.
    const params = {leafBits: 6, nodeBits: 6}
    const k = 20
    const readsAt = async (n: number) => {
      const io = new MemoryNodeIO()
      const base = await buildIndex(io, makeEntries(n), params)
      const positions = Array.from({length: k}, (_, i) => Math.floor(((i + 0.5) * n) / k))
      const edited = await editIndex(io, base.root, {updates: new Map(positions.map(p => [p, location(makeEntry(p, 5))])), appends: [makeEntry(n)]}, params)
      io.resetCounts()
      const diff = await diffIndexes(io, base.root, edited.root)
      assert.deepEqual(diff, {added: [n], updated: positions, deleted: []})
      return {reads: io.reads, depth: await treeDepth(io, base.root)}
    }
    const small = await readsAt(20_000)
    const large = await readsAt(400_000)
    assert.deepEqual([small.depth, large.depth], [3, 4])
    // Per side: a leaf per update, the appended-to leaf, and their ancestors (at most one per
    // change per level, and the root). 20x the data adds the one level: at most one more node
    // per change per side, not 20x the reads.
    for (const {reads, depth} of [small, large]) assert.ok(reads <= 2 * ((k + 1) * (depth - 1) + 1), `${reads} reads at depth ${depth}`)
    assert.ok(large.reads <= small.reads + 2 * (k + 1), `${small.reads} -> ${large.reads} reads`)
  })
})
