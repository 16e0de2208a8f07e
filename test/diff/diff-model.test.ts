// Model-based test of `diff` through the library API: random edits on two branches from a base, a
// few commits each and some staged changes; then lake's diff of every ordered pair of versions
// (ancestors, descendants, and versions on different branches), and of every version against the
// staged state, must be the model's diff by sample identity: `added` half-open ranges in B,
// `updated` in B, `deleted` in A, only changed tensors, tensor added/removed; and with --values the
// model's old and new values. Also toRanges and positionMapBtoA against plain definitions.
//   LAKE_TEST_SEED=123 npx mocha --no-config --node-option import=tsx --timeout 120000 test/diff/diff-model.test.ts
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type {Dataset} from '../../src/index.js'
import {positionMapBtoA, toRanges} from '../../src/core/dataset/diff.js'
import {withDataset} from '../merge/helpers.js'
import {applyEdit, cloneSnap, editArb, HTYPE_OF, Ids, type Edit, type Kind, type Placed, type Snap} from '../merge/model.js'
import {modelDiff, type ModelTensorDiff} from './model.js'

const SEED = process.env.LAKE_TEST_SEED ? Number(process.env.LAKE_TEST_SEED) : Math.floor(Math.random() * 2 ** 31)
const RUNS = Number(process.env.LAKE_DIFF_RUNS ?? 25)

async function apply(ds: Dataset, p: Placed): Promise<void> {
  if (p.k === 'append') await ds.append(p.tensor, p.samples.map((s) => s.value))
  else if (p.k === 'update') await ds.update(p.tensor, p.row, p.value)
  else if (p.k === 'delete') await ds.deleteRows(p.start, p.end)
  else await ds.createTensor(p.tensor, HTYPE_OF[p.kind])
}

interface Scenario {
  kinds: [Kind, Kind]
  lengths: [number, number]
  one: Edit[][]
  two: Edit[][]
  staged: Edit[]
  /** Which pairs also get the --values check (the rest only the positions). */
  valuesMask: number
}

const sideArb = fc.array(fc.array(editArb(true), {minLength: 1, maxLength: 4}), {minLength: 1, maxLength: 3})
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  kinds: fc.tuple(fc.constantFrom<Kind>('i32', 'text'), fc.constantFrom<Kind>('i32', 'text')),
  lengths: fc.tuple(fc.integer({min: 1, max: 8}), fc.integer({min: 0, max: 8})),
  one: sideArb,
  two: sideArb,
  staged: fc.array(editArb(true), {minLength: 0, maxLength: 3}),
  valuesMask: fc.nat(),
})

const lakeView = (d: Awaited<ReturnType<Dataset['diff']>>) => d.tensors.map((t) => ({name: t.name, status: t.status, added: t.added, updated: t.updated, deleted: t.deleted, metaChanged: t.metaChanged}))
const modelView = (ds: ModelTensorDiff[]) => ds.map(({values: _, ...rest}) => rest)

async function run(sc: Scenario, stats: {runs: number; pairs: number; withValues: number; crossBranch: number}): Promise<void> {
  const trace: string[] = []
  try {
    await withDataset('lake-diff-', async (ds) => {
      const ids = new Ids()
      let suffix = 1
      // Every update writes a value that sample never had: changed ⇔ stored anew.
      const fresh = () => suffix++
      const snap: Snap = {}
      for (const [i, name] of ['a', 'b'].entries()) {
        snap[name] = {kind: sc.kinds[i], samples: []}
        await ds.createTensor(name, HTYPE_OF[sc.kinds[i]])
        if (sc.lengths[i]) await apply(ds, applyEdit(snap, {k: 'append', t: i, n: sc.lengths[i]}, ids, fresh)!)
      }
      const versions: {id: string; snap: Snap; branch: string}[] = [{id: (await ds.commit('base')).commit, snap: cloneSnap(snap), branch: 'base'}]
      await ds.createBranch('two')
      const side = async (label: string, commits: Edit[][], s: Snap) => {
        for (const edits of commits) {
          for (const e of edits) {
            const p = applyEdit(s, e, ids, fresh)
            trace.push(`${label}: ${JSON.stringify(p)}`)
            if (p) await apply(ds, p)
          }
          versions.push({id: (await ds.commit(label, {allowEmpty: true})).commit, snap: cloneSnap(s), branch: label})
        }
      }
      const two = cloneSnap(snap)
      await side('one', sc.one, snap)
      await ds.checkout('two')
      await side('two', sc.two, two)
      // Staged changes on branch two.
      for (const e of sc.staged) {
        const p = applyEdit(two, e, ids, fresh)
        trace.push(`staged: ${JSON.stringify(p)}`)
        if (p) await apply(ds, p)
      }

      let k = 0
      for (const x of versions) {
        for (const y of versions) {
          if (x === y) continue
          const expected = modelDiff(x.snap, y.snap)
          const got = await ds.diff(x.id, y.id)
          assert.deepEqual([got.from, got.to], [x.id, y.id])
          assert.deepEqual(lakeView(got), modelView(expected), `diff ${x.branch} ${y.branch}`)
          stats.pairs++
          if (x.branch !== 'base' && y.branch !== 'base' && x.branch !== y.branch) stats.crossBranch++
          if (((sc.valuesMask >> k++ % 30) & 1) === 0) continue
          for (const t of expected) {
            const v = await ds.diff(x.id, y.id, {tensor: t.name, values: true, limit: 1000})
            assert.deepEqual(v.tensors.map((u) => u.values), [{...t.values, truncated: false}], `diff ${x.branch} ${y.branch} --tensor ${t.name} --values`)
            stats.withValues++
          }
        }
        // A version against the staged state (one argument), and HEAD against it (none).
        const expected = modelDiff(x.snap, two)
        const got = await ds.diff(x.id)
        assert.deepEqual([got.from, got.to], [x.id, 'STAGED'])
        assert.deepEqual(lakeView(got), modelView(expected), `diff ${x.branch} (staged)`)
      }
      const head = versions.filter((v) => v.branch !== 'one').at(-1)!
      const got = await ds.diff()
      assert.deepEqual([got.from, got.to], [head.id, 'STAGED'])
      assert.deepEqual(lakeView(got), modelView(modelDiff(head.snap, two)), 'diff (HEAD vs staged)')
    })
    stats.runs++
  } catch (error) {
    throw new Error(`${(error as Error).message}\n  scenario: ${JSON.stringify(sc)}\n  trace:\n    ${trace.join('\n    ')}`, {cause: error})
  }
}

describe('diff: by sample identity against a model (library API)', function () {
  this.timeout(120_000)
  before(() => console.log(`      diff seed ${SEED} (reproduce: LAKE_TEST_SEED=${SEED})`))

  it(`every pair of versions, and each against the staged state, diffs like the model (${RUNS} histories)`, async () => {
    const stats = {runs: 0, pairs: 0, withValues: 0, crossBranch: 0}
    await fc.assert(fc.asyncProperty(scenarioArb, (sc) => run(sc, stats)), {seed: SEED, numRuns: RUNS, endOnFailure: process.env.LAKE_TEST_SHRINK !== '1'})
    console.log(`      ${JSON.stringify(stats)}`)
    assert.ok(stats.crossBranch > 0 && stats.withValues > 0)
  })

  it('toRanges: sorted positions to half-open ranges', () => {
    assert.deepEqual(toRanges([]), [])
    assert.deepEqual(toRanges([0, 1, 2, 5]), [[0, 3], [5, 6]])
    fc.assert(fc.property(fc.uniqueArray(fc.nat(200)), (xs) => {
      const sorted = [...xs].sort((a, b) => a - b)
      const rs = toRanges(sorted)
      assert.deepEqual(rs.flatMap(([s, e]) => Array.from({length: e - s}, (_, i) => s + i)), sorted)
      for (let i = 1; i < rs.length; i++) assert.ok(rs[i][0] > rs[i - 1][1], 'ranges are maximal')
    }))
  })

  it('positionMapBtoA: the k-th kept sample of B is the k-th kept sample of A', () => {
    // A: ids 0..n-1; B: A without `deleted`, then the kept ones with new samples inserted anywhere.
    fc.assert(fc.property(fc.integer({min: 0, max: 60}), fc.array(fc.boolean(), {maxLength: 60}), fc.array(fc.nat(80), {maxLength: 20}), (n, dels, inserts) => {
      const a = Array.from({length: n}, (_, i) => i)
      const kept = a.filter((_, i) => !dels[i])
      const b: number[] = [...kept]
      for (const [j, at] of inserts.entries()) b.splice(at % (b.length + 1), 0, 1000 + j)
      const added = b.flatMap((x, i) => (x >= 1000 ? [i] : []))
      const deleted = a.flatMap((x, i) => (b.includes(x) ? [] : [i]))
      const toA = positionMapBtoA({added, deleted})
      for (const [i, x] of b.entries()) if (x < 1000) assert.equal(toA(i), x, `B[${i}]`)
    }))
  })
})
