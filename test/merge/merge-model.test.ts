// Model-based test of `merge` through the library API: a base history, random appends, updates,
// deletes (and maybe a tensor created) on two branches over several commits, then a merge, checked
// against the plain three-way merge of model.ts. Without conflicts the merge commit materializes
// the model's result for every tensor (values and order) and has parents [ours, theirs]; with
// conflicts the merge is refused with exactly the model's conflicts and changes nothing, and both
// strategies give the model's resolution. Reproduce a failure with the seed it prints:
//   LAKE_TEST_SEED=123 npx mocha --no-config --node-option import=tsx --timeout 120000 test/merge/merge-model.test.ts
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type {Dataset} from '../../src/index.js'
import {datasetState} from '../helpers/state.js'
import {materialize, rejection, withDataset} from './helpers.js'
import {applyEdit, cloneSnap, HTYPE_OF, Ids, mergeModel, scenarioArb, sortConflicts, valuesOf, type Edit, type Placed, type Scenario, type Snap, type Strategy} from './model.js'

const SEED = process.env.LAKE_TEST_SEED ? Number(process.env.LAKE_TEST_SEED) : Math.floor(Math.random() * 2 ** 31)
const RUNS = Number(process.env.LAKE_MERGE_RUNS ?? 45)

async function apply(ds: Dataset, p: Placed): Promise<void> {
  switch (p.k) {
    case 'append':
      await ds.append(p.tensor, p.samples.map((s) => s.value))
      return
    case 'update':
      await ds.update(p.tensor, p.row, p.value)
      return
    case 'delete':
      await ds.deleteRows(p.start, p.end)
      return
    case 'create':
      await ds.createTensor(p.tensor, HTYPE_OF[p.kind])
  }
}

/** Applies commits of edits to the checked-out branch and to `snap`; returns the tip. */
async function side(ds: Dataset, snap: Snap, commits: Edit[][], ids: Ids, trace: string[], label: string): Promise<string> {
  let tip = await ds.resolve('HEAD')
  for (const [i, edits] of commits.entries()) {
    for (const e of edits) {
      const p = applyEdit(snap, e, ids, (v) => v)
      trace.push(`${label}: ${JSON.stringify(p)}`)
      if (p) await apply(ds, p)
    }
    tip = (await ds.commit(`${label} ${i}`, {allowEmpty: true})).commit
  }
  return tip
}

/** A conflict as lake reports it, in the model's terms (a tensor conflict names the two kinds). */
function normalize(c: {tensor: string; index: number | null; kind: string; ours: unknown; theirs: unknown}) {
  const kind = (m: unknown) => ((m as {htype: string}).htype === 'text' ? 'text' : 'i32')
  return c.kind === 'tensor' ? {...c, ours: kind(c.ours), theirs: kind(c.theirs)} : {...c}
}

interface Stats {
  runs: number
  upToDate: number
  fastForward: number
  clean: number
  conflicted: number
  conflicts: Record<string, number>
  sameChange: number
  createdExtra: number
}

async function run(sc: Scenario, stats: Stats): Promise<void> {
  const trace: string[] = []
  try {
    await withDataset('lake-merge-', async (ds, dir) => {
      const ids = new Ids()
      let baseUpdates = 100
      const snap: Snap = {}
      for (const [i, name] of ['a', 'b'].entries()) {
        snap[name] = {kind: sc.kinds[i], samples: []}
        await ds.createTensor(name, HTYPE_OF[sc.kinds[i]])
        const a = applyEdit(snap, {k: 'append', t: i, n: sc.lengths[i]}, ids, () => 0)!
        await apply(ds, a)
      }
      await ds.commit('base 1')
      if (sc.baseEdits.length) {
        for (const e of sc.baseEdits) {
          const p = applyEdit(snap, e, ids, () => baseUpdates++)
          trace.push(`base: ${JSON.stringify(p)}`)
          if (p) await apply(ds, p)
        }
        await ds.commit('base 2', {allowEmpty: true})
      }
      const base = cloneSnap(snap)
      const baseTip = await ds.resolve('HEAD')
      await ds.createBranch('theirs')

      const ours = cloneSnap(base)
      const oursTip = await side(ds, ours, sc.ours, ids, trace, 'ours')
      await ds.createBranch('ours-tip')
      await ds.checkout('theirs')
      const theirs = cloneSnap(base)
      const theirsTip = await side(ds, theirs, sc.theirs, ids, trace, 'theirs')
      await ds.checkout('main')
      if ('extra' in ours || 'extra' in theirs) stats.createdExtra++

      const commits = async () => (await ds.log({all: true})).commits.length
      const before = await commits()
      if (theirsTip === baseTip) {
        // Also when neither side moved: another branch at HEAD's commit is merged already.
        const r = await ds.merge('theirs')
        assert.deepEqual([r.upToDate, r.fastForward, r.commit], [true, false, oursTip], 'up to date')
        assert.equal(await ds.resolve('HEAD'), oursTip)
        assert.equal(await commits(), before, 'no commit')
        stats.upToDate++
        return
      }
      if (oursTip === baseTip) {
        assert.deepEqual(valuesOf(mergeModel(base, ours, theirs).snap), valuesOf(theirs), 'model: a fast-forward takes theirs')
        const r = await ds.merge('theirs')
        assert.deepEqual([r.fastForward, r.upToDate, r.commit, r.conflicts], [true, false, theirsTip, []], 'fast-forward')
        assert.deepEqual(await ds.status().then((s) => [s.branch, s.head, s.clean]), ['main', theirsTip, true])
        assert.equal(await commits(), before, 'a fast-forward makes no commit')
        assert.deepEqual(await materialize(ds), valuesOf(theirs))
        stats.fastForward++
        return
      }

      const expected = mergeModel(base, ours, theirs)
      stats.sameChange += expected.sameChange
      let made = 0
      const checkMergeCommit = async (r: {commit: string; fastForward: boolean}, message: string) => {
        assert.equal(r.fastForward, false)
        const [head] = (await ds.log({rev: 'HEAD', limit: 1})).commits
        assert.equal(head.commit, r.commit)
        assert.equal(head.message, message)
        assert.deepEqual(head.parents, [await ds.resolve('HEAD~1'), theirsTip], 'parents: [ours, theirs]')
        assert.equal(await ds.resolve('HEAD^2'), theirsTip, 'HEAD^2 is theirs')
        assert.equal(await ds.resolve('HEAD~1'), oursTip, 'HEAD~1 is ours')
        assert.equal(await commits(), before + ++made, 'one merge commit')
      }
      if (expected.conflicts.length === 0) {
        const r = await ds.merge('theirs')
        assert.deepEqual([r.conflicts, r.resolved, r.upToDate], [[], 0, false])
        await checkMergeCommit(r, 'Merge theirs into main')
        assert.deepEqual(await materialize(ds), valuesOf(expected.snap), 'merged values')
        assert.deepEqual(await materialize(ds, 'HEAD^2'), valuesOf(theirs), 'HEAD^2 materializes theirs')
        stats.clean++
      } else {
        const state = await datasetState(dir)
        const err = await rejection('conflicted merge', ds.merge('theirs'), 'MERGE_CONFLICT')
        const got = sortConflicts((err.data?.conflicts as Parameters<typeof normalize>[0][]).map(normalize))
        assert.deepEqual(got, sortConflicts(expected.conflicts), 'conflicts')
        assert.deepEqual(await datasetState(dir), state, 'a refused merge changes nothing')
        for (const c of expected.conflicts) stats.conflicts[c.kind] = (stats.conflicts[c.kind] ?? 0) + 1
        // Both strategies, each from ours' tip.
        for (const strategy of ['ours', 'theirs'] as Strategy[]) {
          const branch = strategy === 'ours' ? 'main' : 'ours-tip'
          if (branch !== 'main') await ds.checkout(branch)
          const r = await ds.merge('theirs', {strategy, message: `settle ${strategy}`})
          assert.deepEqual([r.conflicts, r.resolved], [[], expected.conflicts.length], `${strategy}: resolved`)
          await checkMergeCommit(r, `settle ${strategy}`)
          assert.deepEqual(await materialize(ds), valuesOf(mergeModel(base, ours, theirs, strategy).snap), `--strategy ${strategy}`)
        }
        stats.conflicted++
      }
      const fsck = await ds.fsck()
      assert.ok(fsck.ok, JSON.stringify(fsck.problems))
    })
    stats.runs++
  } catch (error) {
    throw new Error(`${(error as Error).message}\n  scenario: ${JSON.stringify(sc)}\n  trace:\n    ${trace.join('\n    ')}`, {cause: error})
  }
}

describe('merge: three-way merge by sample identity against a model (library API)', function () {
  this.timeout(120_000)
  before(() => console.log(`      merge seed ${SEED} (reproduce: LAKE_TEST_SEED=${SEED})`))

  it(`merges like the model: values, order, conflicts, strategies, parents (${RUNS} histories)`, async () => {
    const stats: Stats = {runs: 0, upToDate: 0, fastForward: 0, clean: 0, conflicted: 0, conflicts: {}, sameChange: 0, createdExtra: 0}
    await fc.assert(fc.asyncProperty(scenarioArb, (sc) => run(sc, stats)), {seed: SEED, numRuns: RUNS, endOnFailure: process.env.LAKE_TEST_SHRINK !== '1'})
    console.log(`      ${JSON.stringify(stats)}`)
    assert.ok(stats.clean > 0 && stats.conflicted > 0, `both clean and conflicted merges came up: ${JSON.stringify(stats)}`)
  })
})
