import assert from 'node:assert/strict'
import fc from 'fast-check'
import {IndexOutOfRangeError} from '../../src/core/errors.js'
import {buildIndex, cachedNodeIO, diffIndexes, editIndex, getEntries, getEntry, indexLength, type IndexEdits, type IndexEntry, type TreeParams} from '../../src/core/index/index.js'
import {DEEP, MemoryNodeIO, checkShape, location, makeEntries, makeEntry, treeDepth} from './helpers.js'
import {applyEdits, modelDiff} from './model.js'

/** Edits described by fractions of the current length, so any shrunk case stays in range. */
const editSpec = fc.record({
  updates: fc.array(fc.tuple(fc.double({min: 0, max: 1, maxExcluded: true, noNaN: true}), fc.integer({min: 1, max: 7})), {maxLength: 6}),
  deletes: fc.array(fc.double({min: 0, max: 1, maxExcluded: true, noNaN: true}), {maxLength: 6}),
  deleteRun: fc.option(fc.tuple(fc.double({min: 0, max: 1, maxExcluded: true, noNaN: true}), fc.integer({min: 1, max: 40})), {nil: undefined}),
  appends: fc.integer({min: 0, max: 30}),
})
type EditSpec = typeof editSpec extends fc.Arbitrary<infer T> ? T : never

function concreteEdits(spec: EditSpec, length: number, nextSerial: () => number): IndexEdits {
  const at = (f: number) => Math.floor(f * length)
  const updates = new Map<number, Omit<IndexEntry, 'id'>>()
  const deletes: number[] = []
  if (length > 0) {
    for (const [f, variant] of spec.updates) updates.set(at(f), location(makeEntry(at(f) * 31 + 7, variant)))
    deletes.push(...spec.deletes.map(at))
    if (spec.deleteRun) for (let p = at(spec.deleteRun[0]); p < Math.min(length, at(spec.deleteRun[0]) + spec.deleteRun[1]); p++) deletes.push(p)
  }
  const appends = Array.from({length: spec.appends}, () => makeEntry(nextSerial()))
  return {updates, deletes, appends}
}

const paramsArb = fc.record({leafBits: fc.integer({min: 1, max: 3}), nodeBits: fc.integer({min: 1, max: 3})})

describe('index edit', () => {
  it('updates keep ids, deletes shift later entries up, appends go last', async () => {
    const io = new MemoryNodeIO()
    const entries = makeEntries(100)
    const {root} = await buildIndex(io, entries, DEEP)
    const moved = location(makeEntry(1000))
    const edited = await editIndex(io, root, {updates: new Map([[5, moved]]), deletes: [0, 99], appends: [makeEntry(500)]}, DEEP)
    assert.equal(edited.length, 99)
    assert.deepEqual(await getEntry(io, edited.root, 4), {id: entries[5].id, ...moved})
    assert.deepEqual(await getEntry(io, edited.root, 0), entries[1])
    assert.deepEqual(await getEntry(io, edited.root, 98), makeEntry(500))
    assert.equal(await indexLength(io, edited.root), 99)
  })

  it('a position both updated and deleted is deleted', async () => {
    const io = new MemoryNodeIO()
    const {root} = await buildIndex(io, makeEntries(10), DEEP)
    const edited = await editIndex(io, root, {updates: new Map([[3, location(makeEntry(77))]]), deletes: [3]}, DEEP)
    assert.deepEqual(await getEntries(io, edited.root, 0, 9), makeEntries(10).filter((_, i) => i !== 3))
  })

  it('no edits give back the same root; edits to and from empty work', async () => {
    const io = new MemoryNodeIO()
    const {root} = await buildIndex(io, makeEntries(300), DEEP)
    io.resetCounts()
    assert.deepEqual(await editIndex(io, root, {}, DEEP), {root, length: 300})
    assert.equal(io.writes, 0)
    const empty = await buildIndex(io, [], DEEP)
    const cleared = await editIndex(io, root, {deletes: Array.from({length: 300}, (_, i) => i)}, DEEP)
    assert.deepEqual(cleared, empty)
    const refilled = await editIndex(io, empty.root, {appends: makeEntries(300)}, DEEP)
    assert.equal(refilled.root, root)
  })

  it('an update reads and rewrites exactly one root-to-leaf path', async () => {
    const io = new MemoryNodeIO()
    const {root} = await buildIndex(io, makeEntries(3000), DEEP)
    const depth = await treeDepth(io, root)
    io.resetCounts()
    await editIndex(io, root, {updates: new Map([[1500, location(makeEntry(1, 1))]])}, DEEP)
    assert.deepEqual({reads: io.reads, writes: io.writes}, {reads: depth, writes: depth})
  })

  it('an append reads only the right spine', async () => {
    const io = new MemoryNodeIO()
    const {root} = await buildIndex(io, makeEntries(3000), DEEP)
    const depth = await treeDepth(io, root)
    io.resetCounts()
    const edited = await editIndex(io, root, {appends: [makeEntry(5000)]}, DEEP)
    assert.ok(io.reads <= depth, `${io.reads} reads, depth ${depth}`)
    assert.ok(io.writes <= (await treeDepth(io, edited.root)) + 1, `${io.writes} writes`)
  })

  it('refuses positions outside the old tree', async () => {
    const io = new MemoryNodeIO()
    const {root} = await buildIndex(io, makeEntries(10), DEEP)
    await assert.rejects(editIndex(io, root, {deletes: [10]}, DEEP), IndexOutOfRangeError)
    await assert.rejects(editIndex(io, root, {updates: new Map([[-1, location(makeEntry(1))]])}, DEEP), IndexOutOfRangeError)
  })

  it('matches an array model and a fresh build after every edit (property)', async () => {
    await fc.assert(
      fc.asyncProperty(paramsArb, fc.integer({min: 0, max: 300}), fc.array(editSpec, {minLength: 1, maxLength: 6}), fc.boolean(), async (params, initial, specs, useCache) => {
        await checkEditSequence(params, initial, specs, useCache)
      }),
      {numRuns: Number(process.env.INDEX_PROPERTY_RUNS ?? 120)},
    )
    if (process.env.INDEX_TEST_VERBOSE) console.log(`worst reads/((k+1)*depth): edit ${worstEditRatio.toFixed(2)}, diff ${worstDiffRatio.toFixed(2)}`)
  })
})

let worstEditRatio = 0
let worstDiffRatio = 0

async function checkEditSequence(params: TreeParams, initial: number, specs: EditSpec[], useCache: boolean): Promise<void> {
  const mem = new MemoryNodeIO()
  const io = useCache ? cachedNodeIO(mem) : mem
  let serial = 10_000
  let model = makeEntries(initial)
  let {root} = await buildIndex(io, model, params)
  for (const spec of specs) {
    const edits = concreteEdits(spec, model.length, () => serial++)
    const next = applyEdits(model, edits)
    const oldDepth = await treeDepth(mem, root)

    mem.resetCounts()
    const edited = await editIndex(io, root, edits, params)
    const editReads = mem.reads
    const editWrites = mem.writes

    assert.equal(edited.length, next.length)
    assert.deepEqual(await getEntries(io, edited.root, 0, next.length), next)
    for (const i of [0, next.length >> 1, next.length - 1]) if (i >= 0 && i < next.length) assert.deepEqual(await getEntry(io, edited.root, i), next[i])
    const fresh = await buildIndex(new MemoryNodeIO(), next, params)
    assert.equal(edited.root, fresh.root, 'history independence: edit gives the fresh build root')
    await checkShape(mem, edited.root, params)

    const depth = Math.max(oldDepth, await treeDepth(mem, edited.root))
    const touched = new Set([...edits.updates!.keys(), ...edits.deletes!]).size
    const appended = (edits.appends as IndexEntry[]).length
    const k = touched + (appended > 0 ? 1 : 0)
    worstEditRatio = Math.max(worstEditRatio, editReads / ((k + 1) * depth))
    assert.ok(editReads <= 3 * (k + 1) * depth, `edit of ${k} read ${editReads} nodes, depth ${depth}`)
    assert.ok(editWrites <= 3 * (k + 1) * depth + appended, `edit of ${k} wrote ${editWrites} nodes, depth ${depth}`)

    mem.resetCounts()
    const diff = await diffIndexes(mem, root, edited.root)
    const expected = modelDiff(model, next)
    assert.deepEqual(diff, expected)
    const changed = expected.added.length + expected.updated.length + expected.deleted.length
    worstDiffRatio = Math.max(worstDiffRatio, mem.reads / ((changed + 1) * depth))
    assert.ok(mem.reads <= 6 * (changed + 1) * depth, `diff of ${changed} changes read ${mem.reads} nodes, depth ${depth}`)

    model = next
    root = edited.root
  }
}
