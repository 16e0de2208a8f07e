// Merge cases the random histories of merge-model.test.ts rarely or never reach: --no-ff, merging
// an ancestor, a criss-cross history with two merge bases (the base is picked deterministically and
// the result is the model's for that base), tensors created on both sides, and class names that
// extend one another or do not.
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import type {Dataset} from '../../src/index.js'
import {Repo} from '../../src/core/repo/repo.js'
import {mergeBase, mergeBases} from '../../src/core/version/merge-base.js'
import {readGraph} from '../../src/core/version/source.js'
import {datasetState} from '../helpers/state.js'
import {png} from '../helpers/fixtures.js'
import {materialize, rejection, withDataset} from './helpers.js'
import {mergeModel, valuesOf, type Snap} from './model.js'

/** A text-tensor version of the model: samples named by their first value. */
const snapOf = (values: string[], changed: Record<string, string> = {}): Snap => ({
  a: {kind: 'text', samples: values.map((v) => ({id: ids.get(v) ?? fail(v), value: changed[v] ?? v}))},
})
const ids = new Map<string, number>()
const fail = (v: string): never => {
  throw new Error(`no id for ${v}`)
}
const name = (...vs: string[]) => vs.forEach((v) => ids.has(v) || ids.set(v, ids.size + 1))

async function bases(dir: string, a: string, b: string): Promise<{ab: string[]; ba: string[]; one: string | null; other: string | null}> {
  const repo = await Repo.open(dir)
  try {
    return await repo.withDb(async (db) => {
      const g = (id: string) => readGraph(db, id)
      return {ab: await mergeBases(g, a, b), ba: await mergeBases(g, b, a), one: await mergeBase(g, a, b), other: await mergeBase(g, b, a)}
    })
  } finally {
    await repo.close()
  }
}

describe('merge: fast-forward, --no-ff, up to date', function () {
  this.timeout(60_000)

  it('fast-forwards (no new commit); --no-ff makes a merge commit with parents [ours, theirs]', () =>
    withDataset('lake-merge-ff-', async (ds) => {
      await ds.createTensor('a', {htype: 'text'})
      await ds.append('a', ['x', 'y'])
      const base = (await ds.commit('base')).commit
      await ds.checkout('HEAD', {newBranch: 'feature'})
      await ds.append('a', ['z'])
      await ds.commit('f1')
      await ds.update('a', 0, 'X')
      const tip = (await ds.commit('f2')).commit
      await ds.checkout('main')
      await ds.createBranch('other')

      const logBefore = (await ds.log({all: true})).commits.length
      const ff = await ds.merge('feature')
      assert.deepEqual([ff.fastForward, ff.upToDate, ff.commit, ff.conflicts, ff.resolved], [true, false, tip, [], 0])
      assert.deepEqual(await ds.status().then((s) => [s.branch, s.head, s.clean]), ['main', tip, true])
      assert.equal((await ds.log({all: true})).commits.length, logBefore, 'a fast-forward makes no commit')
      assert.deepEqual(await materialize(ds), {a: ['X', 'y', 'z']})

      await ds.checkout('other')
      const noFf = await ds.merge('feature', {noFf: true, message: 'no ff'})
      assert.deepEqual([noFf.fastForward, noFf.upToDate, noFf.base], [false, false, base])
      assert.notEqual(noFf.commit, tip)
      const [head] = (await ds.log({rev: 'HEAD', limit: 1})).commits
      assert.deepEqual([head.commit, head.parents, head.message, head.branch], [noFf.commit, [base, tip], 'no ff', 'other'])
      assert.equal(await ds.resolve('HEAD^2'), tip)
      assert.equal(await ds.resolve('HEAD~1'), base)
      assert.deepEqual(await materialize(ds), {a: ['X', 'y', 'z']})
      // Merging it again: up to date.
      const again = await ds.merge('feature')
      assert.deepEqual([again.upToDate, again.commit], [true, noFf.commit])
    }))

  it('merging an ancestor, or a branch at HEAD, is up to date and changes nothing', () =>
    withDataset('lake-merge-utd-', async (ds, dir) => {
      await ds.createTensor('a', {htype: 'generic', dtype: 'i32'})
      await ds.append('a', [1])
      const c1 = (await ds.commit('c1')).commit
      await ds.tag('v1')
      await ds.append('a', [2])
      const c2 = (await ds.commit('c2')).commit
      await ds.createBranch('same')
      const before = await datasetState(dir)
      for (const rev of ['v1', 'main~1', c1.slice(0, 10), 'same']) {
        const r = await ds.merge(rev, {noFf: true})
        assert.deepEqual([r.upToDate, r.fastForward, r.commit, r.conflicts], [true, false, c2, []], rev)
      }
      assert.deepEqual(await datasetState(dir), before)
    }))
})

describe('merge: criss-cross history (two merge bases)', function () {
  this.timeout(60_000)

  /**
   * X ← a1 ← mA ← a2 (main)      mA = merge of b1 into a1; mB = merge of a1 into b1:
   *   ↖ b1 ← mB ← b2 (side)      a1 and b1 are both best common ancestors of a2 and b2.
   */
  async function crissCross(ds: Dataset, a2: (ds: Dataset) => Promise<void>, b2: (ds: Dataset) => Promise<void>) {
    name('x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'aA', 'bB', 'aC', 'bD')
    await ds.createTensor('a', {htype: 'text'})
    await ds.append('a', ['x0', 'x1', 'x2', 'x3', 'x4', 'x5'])
    await ds.commit('X')
    await ds.createBranch('side')
    await ds.append('a', ['aA'])
    const a1 = (await ds.commit('a1')).commit
    await ds.checkout('side')
    await ds.append('a', ['bB'])
    const b1 = (await ds.commit('b1')).commit
    const mB = await ds.merge(a1)
    assert.equal(mB.fastForward, false)
    assert.deepEqual(await materialize(ds), {a: ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'bB', 'aA']}, 'mB: ours first, then theirs')
    await b2(ds)
    const b2Id = (await ds.commit('b2')).commit
    await ds.checkout('main')
    await ds.merge(b1)
    assert.deepEqual(await materialize(ds), {a: ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'aA', 'bB']}, 'mA')
    await a2(ds)
    const a2Id = (await ds.commit('a2')).commit
    return {a1, b1, a2: a2Id, b2: b2Id}
  }

  it('picks the same base whatever the order (highest generation, then smallest id) and merges correctly', () =>
    withDataset('lake-merge-cc-', async (ds, dir) => {
      const c = await crissCross(
        ds,
        async (d) => {
          await d.update('a', 1, 'x1-A')
          await d.append('a', ['aC'])
        },
        async (d) => {
          await d.update('a', 2, 'x2-B')
          await d.deleteRows(4, 5)
          await d.append('a', ['bD'])
        },
      )
      const b = await bases(dir, c.a2, c.b2)
      const expectedBase = [c.a1, c.b1].sort()[0]
      assert.deepEqual(b.ab, [c.a1, c.b1].sort(), 'both best common ancestors, in order')
      assert.deepEqual(b.ba, b.ab, 'the same for either order of the tips')
      assert.deepEqual([b.one, b.other], [expectedBase, expectedBase])

      const ours = snapOf(['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'aA', 'bB', 'aC'], {x1: 'x1-A'})
      const theirs = snapOf(['x0', 'x1', 'x2', 'x3', 'x5', 'bB', 'aA', 'bD'], {x2: 'x2-B'})
      const expected = ['x0', 'x1-A', 'x2-B', 'x3', 'x5', 'aA', 'bB', 'aC', 'bD']
      // Either base gives the same answer here: the changes touch samples both bases have.
      for (const baseVals of [['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'aA'], ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'bB']]) {
        assert.deepEqual(valuesOf(mergeModel(snapOf(baseVals), ours, theirs).snap), {a: expected})
      }
      const r = await ds.merge('side')
      assert.deepEqual([r.base, r.fastForward, r.conflicts], [expectedBase, false, []])
      assert.deepEqual(await materialize(ds), {a: expected})
      assert.deepEqual((await ds.log({rev: 'HEAD', limit: 1})).commits[0].parents, [c.a2, c.b2])
      assert.ok((await ds.fsck()).ok)
    }))

  it('when the outcome depends on the base, it is the outcome of the base it picks', () =>
    withDataset('lake-merge-cc2-', async (ds) => {
      // main changes bB, which only b1 has: against b1 it is ours' change (taken); against a1 both
      // sides added bB, differently (a conflict).
      const c = await crissCross(ds, async (d) => void (await d.update('a', 7, 'bB-A')), async (d) => void (await d.append('a', ['bD'])))
      const ours = snapOf(['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'aA', 'bB'], {bB: 'bB-A'})
      const theirs = snapOf(['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'bB', 'aA', 'bD'])
      const baseIs = [c.a1, c.b1].sort()[0]
      const baseSnap = snapOf(['x0', 'x1', 'x2', 'x3', 'x4', 'x5', baseIs === c.a1 ? 'aA' : 'bB'])
      const expected = mergeModel(baseSnap, ours, theirs)
      if (expected.conflicts.length === 0) {
        const r = await ds.merge('side')
        assert.equal(r.base, baseIs)
        assert.deepEqual(await materialize(ds), valuesOf(expected.snap))
      } else {
        const err = await rejection('criss-cross merge', ds.merge('side'), 'MERGE_CONFLICT')
        assert.deepEqual(err.data?.conflicts, [{tensor: 'a', index: 7, kind: 'both-changed', ours: 'bB-A', theirs: 'bB'}])
        assert.deepEqual(expected.conflicts, [{tensor: 'a', index: 7, kind: 'both-changed', ours: 'bB-A', theirs: 'bB'}])
        const r = await ds.merge('side', {strategy: 'ours'})
        assert.equal(r.base, baseIs)
        assert.deepEqual(await materialize(ds), valuesOf(mergeModel(baseSnap, ours, theirs, 'ours').snap))
      }
    }))
})

describe('merge: after a criss-cross merge reordered samples', function () {
  this.timeout(60_000)

  // mA keeps [.., aA, bB] and mB [.., bB, aA]; M (mB merged into mA) keeps mA's order, so M orders
  // two samples of its ancestor mB the other way round. A later merge with base mB must still find
  // theirs' changes by sample id, not by counting positions (it used to update and delete the
  // sample at aA's old position, which is bB in M).
  it("applies theirs' update and delete to the right samples", () =>
    withDataset('lake-merge-reorder-', async (ds) => {
      await ds.createTensor('a', {htype: 'text'})
      await ds.append('a', ['x0', 'x1'])
      await ds.commit('X')
      await ds.createBranch('side')
      await ds.append('a', ['aA'])
      const a1 = (await ds.commit('a1')).commit
      await ds.checkout('side')
      await ds.append('a', ['bB'])
      const b1 = (await ds.commit('b1')).commit
      const mB = (await ds.merge(a1)).commit
      await ds.checkout('main')
      await ds.merge(b1)
      await ds.merge('side')
      assert.deepEqual(await materialize(ds), {a: ['x0', 'x1', 'aA', 'bB']}, 'M keeps ours order')
      await ds.append('a', ['m1'])
      await ds.commit('main after M')
      await ds.tag('m')

      await ds.checkout('side')
      assert.deepEqual(await materialize(ds), {a: ['x0', 'x1', 'bB', 'aA']})
      await ds.update('a', 3, 'aA2')
      await ds.commit('update aA')
      await ds.tag('u')
      await ds.deleteRows(2, 3)
      await ds.commit('delete bB')
      await ds.checkout('main')

      const r = await ds.merge('side')
      assert.equal(r.base, mB)
      assert.deepEqual(await materialize(ds), {a: ['x0', 'x1', 'aA2', 'm1']})

      // The diff between M's descendant and the update: the old value of aA is aA's.
      const d = await ds.diff('m', 'u', {tensor: 'a', values: true})
      assert.deepEqual(d.tensors[0].values?.updated, [{index: 3, old: 'aA', new: 'aA2'}])
      assert.deepEqual(d.tensors[0].values?.deleted, [{index: 4, value: 'm1'}])
    }))
})

describe('merge: tensors and meta', function () {
  this.timeout(60_000)

  it('a tensor created on one side comes over; created on both: same spec merges, another htype or dtype conflicts', () =>
    withDataset('lake-merge-tensors-', async (ds, dir) => {
      await ds.createTensor('a', {htype: 'generic', dtype: 'i32'})
      await ds.append('a', [1, 2])
      await ds.commit('base')
      await ds.createBranch('theirs')
      await ds.createBranch('main2')
      await ds.createTensor('same', {htype: 'text'})
      await ds.append('same', ['o1', 'o2'])
      await ds.createTensor('f32', {htype: 'generic', dtype: 'f32'})
      await ds.append('f32', [1.5])
      await ds.createTensor('mine', {htype: 'json'})
      await ds.append('mine', [{k: 1}])
      await ds.commit('ours')
      await ds.checkout('theirs')
      await ds.createTensor('same', {htype: 'text'})
      await ds.append('same', ['t1'])
      await ds.createTensor('f32', {htype: 'generic', dtype: 'i32'})
      await ds.append('f32', [7])
      await ds.createTensor('yours', {htype: 'text'})
      await ds.append('yours', ['y'])
      await ds.commit('theirs')
      await ds.checkout('main')
      const state = await datasetState(dir)
      const err = await rejection('both created f32', ds.merge('theirs'), 'MERGE_CONFLICT')
      assert.deepEqual(err.data?.conflicts, [{tensor: 'f32', index: null, kind: 'tensor', ours: {htype: 'generic', dtype: 'f32'}, theirs: {htype: 'generic', dtype: 'i32'}}])
      assert.deepEqual(await datasetState(dir), state)
      const r = await ds.merge('theirs', {strategy: 'theirs'})
      assert.equal(r.resolved, 1)
      assert.deepEqual(await materialize(ds), {a: [1, 2], f32: [7], mine: [{k: 1}], same: ['o1', 'o2', 't1'], yours: ['y']})
      assert.equal((await ds.version()).meta('f32').dtype, 'i32')
      await ds.checkout('main2')
      await ds.createTensor('f32', {htype: 'generic', dtype: 'f32'})
      await ds.append('f32', [2.5])
      await ds.commit('main2')
      await ds.merge('theirs', {strategy: 'ours'})
      assert.deepEqual(await materialize(ds), {a: [1, 2], f32: [2.5], same: ['t1'], yours: ['y']})
      assert.equal((await ds.version()).meta('f32').dtype, 'f32')
    }))

  it('a tensor re-created with another dtype by a settled conflict: never mixed with the other side\'s samples', () =>
    withDataset('lake-merge-recreated-', async (ds) => {
      await ds.createTensor('a', {htype: 'text'})
      await ds.append('a', ['a0'])
      await ds.commit('base')
      await ds.createBranch('side')
      await ds.createTensor('extra', {htype: 'generic', dtype: 'i32'})
      await ds.append('extra', [1, 2])
      await ds.commit('m1')
      await ds.checkout('side')
      await ds.createTensor('extra', {htype: 'text'})
      await ds.append('extra', ['t'])
      await ds.commit('s1')
      // side settles the tensor conflict with its own (text) tensor: extra is re-created there.
      assert.equal((await ds.merge('main', {strategy: 'ours'})).resolved, 1)
      await ds.createBranch('side-untouched', 'main')
      await ds.checkout('main')
      await ds.append('extra', [3])
      await ds.commit('m2')
      // Base m1 has extra = i32 [1, 2]; ours appended 3; theirs replaced it with text ['t'].
      const err = await rejection('re-created tensor', ds.merge('side'), 'MERGE_CONFLICT')
      assert.deepEqual(err.data?.conflicts, [{tensor: 'extra', index: null, kind: 'tensor', ours: {htype: 'generic', dtype: 'i32'}, theirs: {htype: 'text', dtype: 'str'}}])
      await ds.merge('side', {strategy: 'theirs'})
      assert.deepEqual(await materialize(ds), {a: ['a0'], extra: ['t']})
      // Ours left the base's samples alone: theirs' re-created tensor comes over whole.
      await ds.checkout('side-untouched')
      await ds.append('a', ['a1'])
      await ds.commit('u1')
      const r = await ds.merge('side')
      assert.deepEqual(r.conflicts, [])
      assert.deepEqual(await materialize(ds), {a: ['a0', 'a1'], extra: ['t']})
      assert.ok((await ds.fsck()).ok)
    }))

  it('class names: one side extending the other merges (the longer list wins); diverging lists conflict', async function () {
    const images = await fs.mkdtemp(path.join((await import('node:os')).tmpdir(), 'lake-merge-img-'))
    try {
      const folder = async (rel: string, classes: string[]) => {
        for (const [i, c] of classes.entries()) {
          await fs.mkdir(path.join(images, rel, c), {recursive: true})
          await fs.writeFile(path.join(images, rel, c, `${rel}-${i}.png`), await png(2, 2, {r: i * 40, g: rel.length * 20, b: 7}))
        }
        return path.join(images, rel)
      }
      await withDataset('lake-merge-classes-', async (ds) => {
        await ds.add([await folder('base', ['cat'])], {format: 'imagefolder'})
        await ds.commit('base')
        await ds.createBranch('longer')
        await ds.createBranch('diverging')
        await ds.add([await folder('ours', ['cat', 'dog'])], {format: 'imagefolder'})
        await ds.commit('ours: dog')
        await ds.createBranch('ours-tip')
        await ds.checkout('longer')
        await ds.add([await folder('longer1', ['dog'])], {format: 'imagefolder'})
        await ds.add([await folder('longer2', ['bird'])], {format: 'imagefolder'})
        await ds.commit('theirs: dog, bird')
        await ds.checkout('diverging')
        await ds.add([await folder('div', ['bird'])], {format: 'imagefolder'})
        await ds.commit('theirs: bird')

        await ds.checkout('main')
        assert.deepEqual((await ds.version()).meta('labels').classNames, ['cat', 'dog'])
        const r = await ds.merge('longer')
        assert.deepEqual(r.conflicts, [])
        const v = await ds.version()
        assert.deepEqual(v.meta('labels').classNames, ['cat', 'dog', 'bird'])
        assert.deepEqual(await v.readRange('labels', 0, v.length('labels')), [0, 0, 1, 1, 2])
        assert.equal(v.length('images'), 5)

        await ds.checkout('ours-tip')
        const err = await rejection('diverging class names', ds.merge('diverging'), 'MERGE_CONFLICT')
        assert.deepEqual(err.data?.conflicts, [{tensor: 'labels', index: null, kind: 'tensor', ours: {htype: 'class_label', dtype: 'i32', classNames: ['cat', 'dog']}, theirs: {htype: 'class_label', dtype: 'i32', classNames: ['cat', 'bird']}}])
        await ds.merge('diverging', {strategy: 'theirs'})
        const w = await ds.version()
        assert.deepEqual(w.meta('labels').classNames, ['cat', 'bird'])
        assert.deepEqual(await w.readRange('labels', 0, w.length('labels')), [0, 1])
      })
    } finally {
      await fs.rm(images, {recursive: true, force: true})
    }
  })
})
