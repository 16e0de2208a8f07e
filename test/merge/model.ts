// The plain model of a three-way merge by sample identity that test/merge/merge-model.test.ts runs
// lake against. A version is, per tensor, a list of samples, each with the model's own id (which
// logical sample it is) and its value. Every appended value is unique and names its sample, and
// an update writes a value no earlier version of that sample had, so "changed" means "value
// differs from the base" here exactly when lake stored new bytes for it.
import fc from 'fast-check'

export type Kind = 'i32' | 'text'
export const HTYPE_OF: Record<Kind, {htype: string; dtype?: string}> = {
  i32: {htype: 'generic', dtype: 'i32'},
  text: {htype: 'text'},
}

export interface Sample {
  id: number
  value: number | string
}
export interface TensorModel {
  kind: Kind
  samples: Sample[]
}
/** A version: tensor name → its samples in order. */
export type Snap = Record<string, TensorModel>

export type Strategy = 'ours' | 'theirs'

export interface ModelConflict {
  tensor: string
  index: number | null
  kind: 'both-changed' | 'deleted-ours' | 'deleted-theirs' | 'tensor'
  ours: unknown
  theirs: unknown
}

export const cloneSnap = (s: Snap): Snap => structuredClone(s)

/** What a version materializes to: tensor name → values. */
export function valuesOf(s: Snap): Record<string, unknown[]> {
  return Object.fromEntries(Object.keys(s).sort().map((n) => [n, s[n].samples.map((x) => x.value)]))
}

// ---- values ----------------------------------------------------------------------------------
// i32: sample id × 1000 + a suffix; text: the same as a string. Suffix 0: as appended; 1..9: one of
// the few values a branch may update a sample to (two branches picking the same one make the same
// change); 100+: updates made in the base history (never picked by a branch).

export function valueFor(kind: Kind, id: number, suffix: number): number | string {
  return kind === 'i32' ? id * 1000 + suffix : `s${id}.${suffix}`
}

// ---- edits -------------------------------------------------------------------------------------

export type Edit =
  /** Appends `n` new samples to the `t`-th tensor (sorted by name). */
  | {k: 'append'; t: number; n: number}
  /** Updates row `row` (mod length) of the `t`-th non-empty tensor to branch value `v`. */
  | {k: 'update'; t: number; row: number; v: number}
  /** `lake delete --index row:row+count` (row mod the longest tensor's length), on every tensor. */
  | {k: 'delete'; row: number; count: number}
  /** Creates tensor `extra` of this kind (if it does not exist yet). */
  | {k: 'create'; kind: Kind}

export interface Scenario {
  /** Kinds of the two base tensors `a` and `b`, and their first lengths. */
  kinds: [Kind, Kind]
  lengths: [number, number]
  /** A second base commit with these edits (none: a single base commit). */
  baseEdits: Edit[]
  /** Commits on each side (each a list of edits); zero commits on a side is allowed. */
  ours: Edit[][]
  theirs: Edit[][]
}

const kindArb = fc.constantFrom<Kind>('i32', 'text')

export function editArb(withCreate: boolean): fc.Arbitrary<Edit> {
  return fc.oneof(
    {weight: 3, arbitrary: fc.record({k: fc.constant('append' as const), t: fc.nat(5), n: fc.integer({min: 1, max: 3})})},
    {weight: 5, arbitrary: fc.record({k: fc.constant('update' as const), t: fc.nat(5), row: fc.nat(50), v: fc.integer({min: 1, max: 2})})},
    {weight: 2, arbitrary: fc.record({k: fc.constant('delete' as const), row: fc.nat(50), count: fc.integer({min: 1, max: 2})})},
    {weight: withCreate ? 1 : 0, arbitrary: fc.record({k: fc.constant('create' as const), kind: kindArb})},
  )
}

// Mostly a few commits per side; sometimes none (fast-forward, up to date).
const sideArb = fc.oneof(
  {weight: 1, arbitrary: fc.constant<Edit[][]>([])},
  {weight: 8, arbitrary: fc.array(fc.array(editArb(true), {minLength: 1, maxLength: 4}), {minLength: 1, maxLength: 3})},
)

export const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  kinds: fc.tuple(kindArb, kindArb),
  lengths: fc.tuple(fc.integer({min: 2, max: 7}), fc.integer({min: 1, max: 7})),
  baseEdits: fc.oneof(fc.constant<Edit[]>([]), fc.array(editArb(false), {minLength: 1, maxLength: 3})),
  ours: sideArb,
  theirs: sideArb,
})

/** The model's side of the edits: ids come from one counter shared by every branch. */
export class Ids {
  private next = 1
  fresh(): number {
    return this.next++
  }
}

/** Where an edit lands in `snap` (null: it does not apply, e.g. an update with no samples anywhere). */
export type Placed =
  | {k: 'append'; tensor: string; samples: Sample[]}
  | {k: 'update'; tensor: string; row: number; value: number | string}
  | {k: 'delete'; start: number; end: number}
  | {k: 'create'; tensor: string; kind: Kind}

/** Applies `e` to `snap` (in place) and says what lake must do for it. */
export function applyEdit(snap: Snap, e: Edit, ids: Ids, updateSuffix: (v: number) => number): Placed | null {
  const names = Object.keys(snap).sort()
  switch (e.k) {
    case 'append': {
      const name = names[e.t % names.length]
      const t = snap[name]
      const samples = Array.from({length: e.n}, () => {
        const id = ids.fresh()
        return {id, value: valueFor(t.kind, id, 0)}
      })
      t.samples.push(...samples)
      return {k: 'append', tensor: name, samples}
    }
    case 'update': {
      const nonEmpty = names.filter((n) => snap[n].samples.length > 0)
      if (nonEmpty.length === 0) return null
      const name = nonEmpty[e.t % nonEmpty.length]
      const t = snap[name]
      const row = e.row % t.samples.length
      const s = t.samples[row]
      s.value = valueFor(t.kind, s.id, updateSuffix(e.v))
      return {k: 'update', tensor: name, row, value: s.value}
    }
    case 'delete': {
      const longest = Math.max(0, ...names.map((n) => snap[n].samples.length))
      if (longest === 0) return null
      const start = e.row % longest
      const end = Math.min(start + e.count, longest)
      for (const t of Object.values(snap)) if (start < t.samples.length) t.samples.splice(start, Math.min(end, t.samples.length) - start)
      return {k: 'delete', start, end}
    }
    case 'create': {
      if ('extra' in snap) return null
      snap.extra = {kind: e.kind, samples: []}
      return {k: 'create', tensor: 'extra', kind: e.kind}
    }
  }
}

// ---- the merge -------------------------------------------------------------------------------------

export interface ModelMerge {
  snap: Snap
  conflicts: ModelConflict[]
  /** Samples both sides changed to the same value (no conflict): how often the case came up. */
  sameChange: number
}

/**
 * Three-way merge by sample identity. Per tensor: a tensor only one side has, or only one side
 * changed, comes over whole; one created on both sides with different kinds is a tensor-level
 * conflict (see below for one re-created by a side). Otherwise every sample of
 * the base is unchanged / changed / deleted on each side (compared with the base by value); ours'
 * order is kept, theirs' changes and deletes apply to samples ours did not touch, and the samples
 * theirs added follow ours'. Changed differently on both sides, deleted on one side and changed on
 * the other, or added by both (the same sample, from merges elsewhere) with different values are
 * conflicts; `strategy` settles them, and with 'theirs' a sample ours deleted and theirs changed
 * comes back after ours' samples (in theirs' order, before theirs' additions).
 */
export function mergeModel(base: Snap, ours: Snap, theirs: Snap, strategy?: Strategy): ModelMerge {
  const out: Snap = {}
  const conflicts: ModelConflict[] = []
  let sameChange = 0
  for (const name of [...new Set([...Object.keys(ours), ...Object.keys(theirs)])].sort()) {
    const o = ours[name]
    const t = theirs[name]
    if (!t || !o) {
      out[name] = structuredClone(o ?? t)
      continue
    }
    const b = base[name]
    if (o.kind !== t.kind) {
      // Created on both sides with different kinds, or re-created by one side (a tensor conflict
      // settled by a strategy): samples of different kinds do not mix. The side that re-created it
      // wins if the other left the base's samples as they were; otherwise a tensor-level conflict.
      const untouched = (x: TensorModel) => !!b && b.kind === x.kind && sameSamples(x, b)
      const winner = untouched(o) ? t : untouched(t) ? o : null
      if (winner) {
        out[name] = structuredClone(winner)
        continue
      }
      if (!strategy) conflicts.push({tensor: name, index: null, kind: 'tensor', ours: o.kind, theirs: t.kind})
      out[name] = structuredClone(strategy === 'theirs' ? t : o)
      continue
    }
    // Changed on one side only: that side's version, whole (also its order, which can differ from
    // the base's after criss-cross merges: the same as a fast-forward would give).
    const empty: TensorModel = {kind: o.kind, samples: []}
    if (sameSamples(t, b ?? empty)) {
      out[name] = structuredClone(o)
      continue
    }
    if (sameSamples(o, b ?? empty)) {
      out[name] = structuredClone(t)
      continue
    }
    const inBase = new Map((b?.samples ?? []).map((s) => [s.id, s.value]))
    const inOurs = new Map(o.samples.map((s) => [s.id, s.value]))
    const inTheirs = new Map(t.samples.map((s) => [s.id, s.value]))
    const merged: Sample[] = []
    const conflict = (c: Omit<ModelConflict, 'tensor'>) => {
      if (!strategy) conflicts.push({tensor: name, ...c})
    }
    for (const [pos, s] of o.samples.entries()) {
      const tv = inTheirs.get(s.id)
      if (!inBase.has(s.id)) {
        // Added by ours; added by theirs too (from a merge elsewhere) with another value: conflict.
        if (tv !== undefined && tv !== s.value) {
          conflict({index: pos, kind: 'both-changed', ours: s.value, theirs: tv})
          merged.push(strategy === 'theirs' ? {id: s.id, value: tv} : s)
        } else merged.push(s)
        continue
      }
      const bv = inBase.get(s.id)
      const oursChanged = s.value !== bv
      if (tv === undefined) {
        // Theirs deleted it.
        if (!oursChanged) continue
        conflict({index: pos, kind: 'deleted-theirs', ours: s.value, theirs: null})
        if (strategy !== 'theirs') merged.push(s)
        continue
      }
      const theirsChanged = tv !== bv
      if (oursChanged && theirsChanged && tv === s.value) sameChange++
      if (!theirsChanged || tv === s.value) merged.push(s)
      else if (!oursChanged) merged.push({id: s.id, value: tv})
      else {
        conflict({index: pos, kind: 'both-changed', ours: s.value, theirs: tv})
        merged.push(strategy === 'theirs' ? {id: s.id, value: tv} : s)
      }
    }
    const back: Sample[] = []
    const added: Sample[] = []
    for (const [pos, s] of t.samples.entries()) {
      if (inOurs.has(s.id)) continue
      if (!inBase.has(s.id)) added.push(s)
      else if (s.value !== inBase.get(s.id)) {
        // Ours deleted it, theirs changed it.
        conflict({index: pos, kind: 'deleted-ours', ours: null, theirs: s.value})
        if (strategy === 'theirs') back.push(s)
      }
    }
    out[name] = {kind: o.kind, samples: [...merged, ...back, ...added]}
  }
  return {snap: out, conflicts, sameChange}
}

const sameSamples = (x: TensorModel, y: TensorModel) =>
  x.samples.length === y.samples.length && x.samples.every((s, i) => s.id === y.samples[i].id && s.value === y.samples[i].value)

/** Conflicts in a canonical order, for comparing sets. */
export function sortConflicts<T extends {tensor: string; kind: string; index: number | null}>(cs: T[]): T[] {
  return [...cs].sort((x, y) => (JSON.stringify([x.tensor, x.kind, x.index]) < JSON.stringify([y.tensor, y.kind, y.index]) ? -1 : 1))
}
