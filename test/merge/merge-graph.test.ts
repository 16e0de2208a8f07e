// Model-based test of merges in a random commit graph: three branches that edit and merge one
// another in any order (criss-cross merges included), so merge bases are merges themselves, several
// bases compete, and branches order shared samples differently. The model finds the merge base on
// its own (best common ancestors; highest generation, then smallest id), predicts fast-forwards,
// up-to-date merges and conflicts, and the merged values by sample identity; at the end every
// commit materializes its model version, diffs between commits are the model's, and fsck is ok.
// Every update writes a value that sample never had, so "changed" is unambiguous.
//   LAKE_TEST_SEED=123 npx mocha --no-config --node-option import=tsx --timeout 120000 test/merge/merge-graph.test.ts
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type {Dataset} from '../../src/index.js'
import {materialize, rejection, withDataset} from './helpers.js'
import {modelDiff} from '../diff/model.js'
import {applyEdit, cloneSnap, editArb, HTYPE_OF, Ids, mergeModel, sortConflicts, valuesOf, type Edit, type Kind, type Placed, type Snap, type Strategy} from './model.js'

const SEED = process.env.LAKE_TEST_SEED ? Number(process.env.LAKE_TEST_SEED) : Math.floor(Math.random() * 2 ** 31)
const RUNS = Number(process.env.LAKE_MERGE_GRAPH_RUNS ?? 25)
const BRANCHES = ['main', 'b1', 'b2']

type Op =
  | {k: 'edit'; branch: number; edits: Edit[]}
  | {k: 'merge'; into: number; from: number; strategy: Strategy | null; noFf: boolean}
  /** Branch a merges another, which then merges a's tip from before. */
  | {k: 'cross'; a: number; b: number}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {weight: 1, arbitrary: fc.record({k: fc.constant('edit' as const), branch: fc.nat(2), edits: fc.array(editArb(true), {minLength: 1, maxLength: 3})})},
  {weight: 1, arbitrary: fc.record({
    k: fc.constant('merge' as const), into: fc.nat(2), from: fc.nat(2),
    strategy: fc.constantFrom<Strategy | null>(null, null, 'ours', 'theirs'), noFf: fc.boolean(),
  })},
  {weight: 1, arbitrary: fc.record({k: fc.constant('cross' as const), a: fc.nat(2), b: fc.nat(1)})},
)

interface Scenario {
  kinds: [Kind, Kind]
  lengths: [number, number]
  ops: Op[]
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  kinds: fc.tuple(fc.constantFrom<Kind>('i32', 'text'), fc.constantFrom<Kind>('i32', 'text')),
  lengths: fc.tuple(fc.integer({min: 2, max: 6}), fc.integer({min: 1, max: 6})),
  ops: fc.array(opArb, {minLength: 12, maxLength: 24}),
})

class Graph {
  readonly parents = new Map<string, string[]>()
  readonly snaps = new Map<string, Snap>()
  private readonly gens = new Map<string, number>()

  add(id: string, parents: string[], snap: Snap): void {
    this.parents.set(id, parents)
    this.snaps.set(id, cloneSnap(snap))
    this.gens.set(id, 1 + Math.max(0, ...parents.map((p) => this.gens.get(p)!)))
  }

  ancestors(id: string): Set<string> {
    const seen = new Set<string>()
    const stack = [id]
    while (stack.length) {
      const c = stack.pop()!
      if (seen.has(c)) continue
      seen.add(c)
      stack.push(...this.parents.get(c)!)
    }
    return seen
  }

  /** Best common ancestors, highest generation first, then smallest id. */
  bases(a: string, b: string): string[] {
    const inB = this.ancestors(b)
    const common = [...this.ancestors(a)].filter((c) => inB.has(c))
    const best = common.filter((c) => !common.some((d) => d !== c && this.ancestors(d).has(c)))
    return best.sort((x, y) => this.gens.get(y)! - this.gens.get(x)! || (x < y ? -1 : 1))
  }
}

async function apply(ds: Dataset, p: Placed): Promise<void> {
  if (p.k === 'append') await ds.append(p.tensor, p.samples.map((s) => s.value))
  else if (p.k === 'update') await ds.update(p.tensor, p.row, p.value)
  else if (p.k === 'delete') await ds.deleteRows(p.start, p.end)
  else await ds.createTensor(p.tensor, HTYPE_OF[p.kind])
}

interface Stats {
  runs: number
  edits: number
  upToDate: number
  fastForward: number
  merges: number
  refused: number
  settled: number
  severalBases: number
  crosses: number
  mergeBases: number
}

async function run(sc: Scenario, stats: Stats): Promise<void> {
  const trace: string[] = []
  try {
    await withDataset('lake-merge-graph-', async (ds) => {
      const ids = new Ids()
      let suffix = 1
      const fresh = () => suffix++
      const g = new Graph()
      const snap: Snap = {}
      for (const [i, name] of ['a', 'b'].entries()) {
        snap[name] = {kind: sc.kinds[i], samples: []}
        await ds.createTensor(name, HTYPE_OF[sc.kinds[i]])
        await apply(ds, applyEdit(snap, {k: 'append', t: i, n: sc.lengths[i]}, ids, fresh)!)
      }
      const base = (await ds.commit('base')).commit
      g.add(base, [], snap)
      const tips = new Map(BRANCHES.map((b) => [b, base]))
      for (const b of BRANCHES.slice(1)) await ds.createBranch(b)
      let current = 'main'
      const goTo = async (b: string) => {
        if (b !== current) await ds.checkout(b)
        current = b
      }

      /** `merge REV` on branch `into`; REV names commit `theirs`. Checked against the model. */
      const mergeStep = async (into: string, rev: string, theirs: string, strategy0: Strategy | null, noFf: boolean) => {
        await goTo(into)
        const ours = tips.get(into)!
        const label = `merge ${rev.length === 64 ? rev.slice(0, 8) : rev} into ${into}${strategy0 ? ` --strategy ${strategy0}` : ''}${noFf ? ' --no-ff' : ''}`
        trace.push(label)
        const bases = g.bases(ours, theirs)
        if (bases.length > 1) stats.severalBases++
        const opts = {...(strategy0 ? {strategy: strategy0} : {}), noFf}
        if (ours === theirs || bases[0] === theirs) {
          const r = await ds.merge(rev, opts)
          assert.deepEqual([r.upToDate, r.commit], [true, ours], 'up to date')
          stats.upToDate++
          return
        }
        if (bases[0] === ours && !noFf) {
          const r = await ds.merge(rev, opts)
          assert.deepEqual([r.fastForward, r.commit], [true, theirs], 'fast-forward')
          tips.set(into, theirs)
          assert.deepEqual(await materialize(ds), valuesOf(g.snaps.get(theirs)!))
          stats.fastForward++
          return
        }
        const baseSnap = g.snaps.get(bases[0])!
        if (g.parents.get(bases[0])!.length === 2) stats.mergeBases++
        let strategy = strategy0 ?? undefined
        if (!strategy) {
          const plain = mergeModel(baseSnap, g.snaps.get(ours)!, g.snaps.get(theirs)!)
          if (plain.conflicts.length > 0) {
            const err = await rejection(label, ds.merge(rev, opts), 'MERGE_CONFLICT')
            const kind = (m: unknown) => ((m as {htype: string}).htype === 'text' ? 'text' : 'i32')
            const got = (err.data?.conflicts as {tensor: string; index: number | null; kind: string; ours: unknown; theirs: unknown}[])
              .map((c) => (c.kind === 'tensor' ? {...c, ours: kind(c.ours), theirs: kind(c.theirs)} : c))
            assert.deepEqual(sortConflicts(got), sortConflicts(plain.conflicts), 'conflicts')
            assert.equal(await ds.resolve('HEAD'), ours, 'a refused merge moves nothing')
            stats.refused++
            strategy = 'ours'
            trace.push(`  refused; again with --strategy ours`)
          }
        }
        const settled = mergeModel(baseSnap, g.snaps.get(ours)!, g.snaps.get(theirs)!, strategy)
        const r = await ds.merge(rev, {...opts, ...(strategy ? {strategy} : {})})
        assert.equal(r.base, bases[0], `the merge base (of ${bases.length})`)
        assert.equal(r.fastForward, false)
        if (strategy) stats.settled++
        assert.deepEqual(await materialize(ds), valuesOf(settled.snap), label)
        g.add(r.commit, [ours, theirs], settled.snap)
        tips.set(into, r.commit)
        stats.merges++
      }

      for (const op of sc.ops) {
        if (op.k === 'edit') {
          const branch = BRANCHES[op.branch]
          await goTo(branch)
          const s = cloneSnap(g.snaps.get(tips.get(branch)!)!)
          for (const e of op.edits) {
            const p = applyEdit(s, e, ids, fresh)
            trace.push(`${branch}: ${JSON.stringify(p)}`)
            if (p) await apply(ds, p)
          }
          const id = (await ds.commit(`edit ${branch}`, {allowEmpty: true})).commit
          g.add(id, [tips.get(branch)!], s)
          tips.set(branch, id)
          stats.edits++
          continue
        }
        if (op.k === 'cross') {
          // x merges y, then y merges x's tip from before: a criss-cross for later merges.
          const [x, y] = [BRANCHES[op.a], BRANCHES[(op.a + 1 + op.b) % 3]]
          const xTip = tips.get(x)!
          await mergeStep(x, y, tips.get(y)!, null, true)
          await mergeStep(y, xTip, xTip, null, true)
          stats.crosses++
          continue
        }
        if (op.into === op.from) continue
        await mergeStep(BRANCHES[op.into], BRANCHES[op.from], tips.get(BRANCHES[op.from])!, op.strategy, op.noFf)
      }
      for (const [id, s] of g.snaps) assert.deepEqual(await materialize(ds, id), valuesOf(s), `commit ${id.slice(0, 12)}`)
      // Diffs between commits of the graph (branches order shared samples differently here).
      const all = [...g.snaps.keys()]
      for (let k = 0; k < Math.min(12, all.length * 2); k++) {
        const [x, y] = [all[(k * 7 + sc.ops.length) % all.length], all[(k * 3 + 1) % all.length]]
        if (x === y) continue
        const [sx, sy] = [g.snaps.get(x)!, g.snaps.get(y)!]
        const got = await ds.diff(x, y)
        // A tensor whose samples only changed order: listed as modified with nothing added,
        // updated or deleted (the model's diff, by identity, does not list it).
        const reordered = got.tensors.filter((t) => t.status === 'modified' && !t.metaChanged && t.added.length + t.updated.length + t.deleted.length === 0)
        for (const t of reordered) {
          const ids = (sn: Snap) => sn[t.name].samples.map((v) => v.id)
          assert.deepEqual([...ids(sx)].sort(), [...ids(sy)].sort(), `${t.name}: the same samples`)
          assert.notDeepEqual(ids(sx), ids(sy), `${t.name}: in another order`)
        }
        const expected = modelDiff(sx, sy)
        assert.deepEqual(got.tensors.filter((t) => !reordered.includes(t)), expected.map(({values: _, ...t}) => t), `diff ${x.slice(0, 8)} ${y.slice(0, 8)}`)
        for (const t of expected.filter((u) => u.status === 'modified')) {
          const v = await ds.diff(x, y, {tensor: t.name, values: true, limit: 1000})
          assert.deepEqual(v.tensors[0].values, {...t.values, truncated: false}, `diff ${x.slice(0, 8)} ${y.slice(0, 8)} --tensor ${t.name} --values`)
        }
      }
      for (const b of BRANCHES) assert.equal(await ds.resolve(b), tips.get(b), b)
      const fsck = await ds.fsck()
      assert.ok(fsck.ok, JSON.stringify(fsck.problems))
    })
    stats.runs++
  } catch (error) {
    throw new Error(`${(error as Error).message}\n  scenario: ${JSON.stringify(sc)}\n  trace:\n    ${trace.join('\n    ')}`, {cause: error})
  }
}

describe('merge: random commit graphs with criss-cross merges against a model (library API)', function () {
  this.timeout(120_000)
  before(() => console.log(`      merge graph seed ${SEED} (reproduce: LAKE_TEST_SEED=${SEED})`))

  it(`three branches editing and merging each other merge like the model (${RUNS} graphs)`, async () => {
    const stats: Stats = {runs: 0, edits: 0, upToDate: 0, fastForward: 0, merges: 0, refused: 0, settled: 0, severalBases: 0, crosses: 0, mergeBases: 0}
    await fc.assert(fc.asyncProperty(scenarioArb, (sc) => run(sc, stats)), {seed: SEED, numRuns: RUNS, endOnFailure: process.env.LAKE_TEST_SHRINK !== '1'})
    console.log(`      ${JSON.stringify(stats)}`)
    assert.ok(stats.merges > 0)
  })
})
