// The plain in-memory model of a dataset's history that test/model/history.test.ts runs lake
// against: tensors as arrays, branches and tags as maps to commits, HEAD, the staged state and the
// reflog of HEAD. No I/O here; the runner decides what lake must answer from this state.
import {deepStrictEqual as assertDeepEqual} from 'node:assert/strict'
import fc from 'fast-check'

export type Kind = 'i32' | 'text' | 'json' | 'f32'
export const KINDS: readonly Kind[] = ['i32', 'text', 'json', 'f32']
export const HTYPE_OF: Record<Kind, {htype: string; dtype?: string}> = {
  i32: {htype: 'generic', dtype: 'i32'},
  text: {htype: 'text'},
  json: {htype: 'json'},
  f32: {htype: 'generic', dtype: 'f32'},
}

export interface TensorModel {
  kind: Kind
  values: unknown[]
}
/** A version: tensor name → its samples. */
export type Snap = Record<string, TensorModel>

export interface ModelCommit {
  id: string
  parents: string[]
  snap: Snap
  /** The unique tag every commit gets right after it is made. */
  tag: string
  seq: number
}

export interface HeadModel {
  branch: string | null
  commit: string | null
}

export class HistoryModel {
  head: HeadModel = {branch: 'main', commit: null}
  staged: Snap = {}
  /** Snapshot of the commit HEAD points at (empty on the unborn branch). */
  base: Snap = {}
  /** Whether staged differs from HEAD's root; 'unknown' when the content is equal but a change was staged. */
  dirty: boolean | 'unknown' = false
  readonly branches = new Map<string, string>()
  readonly tags = new Map<string, string>()
  readonly commits: ModelCommit[] = []
  readonly byId = new Map<string, ModelCommit>()
  /** HEAD's commit at each reflog position, oldest first (init pushes the unborn null). */
  readonly reflog: (string | null)[] = [null]
  private names = 0

  fresh(prefix: string): string {
    return `${prefix}${this.names++}`
  }

  snapOf(commit: string | null): Snap {
    return commit ? cloneSnap(this.byId.get(commit)!.snap) : {}
  }

  /** After a successful staging op: dirty for sure when the content differs from HEAD's. */
  stagedChanged(): void {
    this.dirty = snapEqual(this.staged, this.base) ? 'unknown' : true
  }

  recordCommit(id: string, parents: string[]): ModelCommit {
    const c: ModelCommit = {id, parents, snap: cloneSnap(this.staged), tag: `c${this.commits.length}`, seq: this.commits.length}
    this.commits.push(c)
    this.byId.set(id, c)
    this.branches.set(this.head.branch!, id)
    this.head = {branch: this.head.branch, commit: id}
    this.base = cloneSnap(this.staged)
    this.dirty = false
    this.reflog.push(id)
    return c
  }

  /** HEAD moves (checkout): staged is HEAD's root unless carried. */
  moveHead(branch: string | null, commit: string, carry = false): void {
    this.head = {branch, commit}
    this.base = this.snapOf(commit)
    if (!carry) {
      this.staged = cloneSnap(this.base)
      this.dirty = false
    }
    this.reflog.push(commit)
  }

  tensorNames(snap: Snap = this.staged): string[] {
    return Object.keys(snap).sort()
  }

  /** Branch names whose ref exists, sorted. */
  branchNames(): string[] {
    return [...this.branches.keys()].sort()
  }

  /** First-parent chain from `id`, newest first. */
  firstParentChain(id: string): ModelCommit[] {
    const out: ModelCommit[] = []
    for (let c: ModelCommit | undefined = this.byId.get(id); c; c = c.parents[0] ? this.byId.get(c.parents[0]) : undefined) out.push(c)
    return out
  }
}

export function cloneSnap(s: Snap): Snap {
  const out: Snap = {}
  for (const [name, t] of Object.entries(s)) out[name] = {kind: t.kind, values: structuredClone(t.values)}
  return out
}

export function snapEqual(a: Snap, b: Snap): boolean {
  const names = Object.keys(a).sort()
  if (names.join('\0') !== Object.keys(b).sort().join('\0')) return false
  for (const n of names) {
    if (a[n].kind !== b[n].kind) return false
    try {
      // deepStrictEqual tells -0 from 0 in f32 arrays, like the stored bytes do
      assertDeepEqual(a[n].values, b[n].values)
    } catch {
      return false
    }
  }
  return true
}

// ---- values and operations -------------------------------------------------------------------

export interface ValueOpts {
  /** Larger text/json/f32 values, so a 1 KiB chunk holds only a few samples. */
  big: boolean
}

/** One candidate value per kind: the op picks the one that fits the tensor it lands on. */
export type Values = Record<Kind, unknown>

const f32 = fc.float({noNaN: true, noDefaultInfinity: true})

export function valuesArb(o: ValueOpts): fc.Arbitrary<Values> {
  const maxText = o.big ? 300 : 12
  const maxVec = o.big ? 64 : 4
  return fc.record({
    i32: fc.integer({min: -(2 ** 31), max: 2 ** 31 - 1}),
    text: fc.string({unit: 'grapheme', maxLength: maxText}),
    // JSON tensors hold what JSON can say: normalize through a JSON round trip (-0 → 0).
    json: fc.jsonValue({maxDepth: 2}).chain((v) =>
      o.big ? fc.string({maxLength: 200}).map((pad) => ({v, pad})) : fc.constant(v),
    ).map((v) => JSON.parse(JSON.stringify(v))),
    f32: fc.array(f32, {maxLength: maxVec}),
  })
}

export type Op =
  | {k: 'create'; kind: Kind; slot: number}
  | {k: 'append'; t: number; values: Values[]}
  | {k: 'update'; t: number; row: number; value: Values}
  | {k: 'delete'; row: number; count: number}
  | {k: 'commit'}
  | {k: 'branch'}
  | {k: 'checkoutBranch'; b: number; force: boolean}
  | {k: 'checkoutNew'}
  | {k: 'checkoutPast'; c: number; form: 'id' | 'tag' | 'prefix'; force: boolean; stay: boolean}
  | {k: 'tag'}
  | {k: 'reset'}
  /** Moves the test's fake clock (sequences run with a frozen clock): commits tie or see time go back. */
  | {k: 'clock'; delta: number}

const createArb = fc.record({k: fc.constant('create' as const), kind: fc.constantFrom(...KINDS), slot: fc.nat(1)})

export interface Sequence {
  /** Run with Date.now frozen and moved only by 'clock' ops: commit times tie and go back. */
  fakeClock: boolean
  ops: Op[]
}

/** A sequence: mostly starting with a tensor and a commit, so most ops land on a real history. */
export function sequenceArb(o: ValueOpts, maxOps: number): fc.Arbitrary<Sequence> {
  return fc.record({fakeClock: fc.boolean(), ops: opsArb(o, maxOps)})
}

function opsArb(o: ValueOpts, maxOps: number): fc.Arbitrary<Op[]> {
  const prefix = fc.oneof(
    {weight: 1, arbitrary: fc.constant<Op[]>([])},
    {weight: 4, arbitrary: fc.tuple(createArb, appendArb(o)).map(([c, a]): Op[] => [c, a, {k: 'commit'}])},
  )
  return fc.tuple(prefix, fc.array(opArb(o), {minLength: 5, maxLength: maxOps, size: 'max'})).map(([p, ops]) => [...p, ...ops].slice(0, maxOps))
}

const appendArb = (o: ValueOpts) => fc.record({k: fc.constant('append' as const), t: fc.nat(7), values: fc.array(valuesArb(o), {minLength: 1, maxLength: 3})})

export function opArb(o: ValueOpts): fc.Arbitrary<Op> {
  const vals = valuesArb(o)
  return fc.oneof(
    {weight: 2, arbitrary: createArb},
    {weight: 7, arbitrary: appendArb(o)},
    {weight: 2, arbitrary: fc.record({k: fc.constant('update' as const), t: fc.nat(7), row: fc.nat(1000), value: vals})},
    {weight: 1, arbitrary: fc.record({k: fc.constant('delete' as const), row: fc.nat(1000), count: fc.integer({min: 1, max: 2})})},
    {weight: 5, arbitrary: fc.constant({k: 'commit' as const})},
    {weight: 1, arbitrary: fc.constant({k: 'branch' as const})},
    {weight: 2, arbitrary: fc.record({k: fc.constant('checkoutBranch' as const), b: fc.nat(7), force: fc.boolean()})},
    {weight: 1, arbitrary: fc.constant({k: 'checkoutNew' as const})},
    {weight: 2, arbitrary: fc.record({
      k: fc.constant('checkoutPast' as const), c: fc.nat(50), form: fc.constantFrom('id' as const, 'tag' as const, 'prefix' as const),
      force: fc.boolean(), stay: fc.boolean(),
    })},
    {weight: 1, arbitrary: fc.constant({k: 'tag' as const})},
    {weight: 1, arbitrary: fc.constant({k: 'reset' as const})},
    {weight: 3, arbitrary: fc.record({k: fc.constant('clock' as const), delta: fc.integer({min: -3, max: 3})})},
  )
}
