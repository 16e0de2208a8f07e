import assert from 'node:assert/strict'
import fc from 'fast-check'
import {buildIndex, diffIndexes, editIndex, type IndexEntry} from '../../src/core/index/index.js'
import {DEEP, MemoryNodeIO, location, makeEntries, makeEntry, treeDepth} from './helpers.js'
import {modelDiff} from './model.js'

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
      fc.asyncProperty(side, side, fc.integer({min: 1, max: 3}), async (sa, sb, bits) => {
        const params = {leafBits: bits, nodeBits: bits}
        const io = new MemoryNodeIO()
        const a: IndexEntry[] = sa.map(([s, v]) => makeEntry(s, v))
        const b: IndexEntry[] = sb.map(([s, v]) => makeEntry(s, v))
        const [ra, rb] = [await buildIndex(io, a, params), await buildIndex(io, b, params)]
        assert.deepEqual(await diffIndexes(io, ra.root, rb.root), modelDiff(a, b))
      }),
      {numRuns: Number(process.env.INDEX_PROPERTY_RUNS ?? 150)},
    )
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
})
