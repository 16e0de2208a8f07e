// The model's diff of two versions by sample identity (test/merge/model.ts versions): what
// `lake diff A B` must say, with --values. Shared by diff-model.test.ts and merge-graph.test.ts.
import type {Snap} from '../merge/model.js'

export interface ModelTensorDiff {
  name: string
  status: 'added' | 'removed' | 'modified'
  added: [number, number][]
  updated: number[]
  deleted: number[]
  metaChanged: boolean
  values: {
    added: {index: number; value: unknown}[]
    updated: {index: number; old: unknown; new: unknown}[]
    deleted: {index: number; value: unknown}[]
  }
}

function ranges(positions: number[]): [number, number][] {
  const out: [number, number][] = []
  for (const p of positions) {
    const last = out.at(-1)
    if (last && last[1] === p) last[1]++
    else out.push([p, p + 1])
  }
  return out
}

/** The diff from A to B by the model's sample ids. */
export function modelDiff(a: Snap, b: Snap): ModelTensorDiff[] {
  const out: ModelTensorDiff[] = []
  for (const name of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const sa = a[name]?.samples ?? []
    const sb = b[name]?.samples ?? []
    const inA = new Map(sa.map((s, i) => [s.id, {i, value: s.value}]))
    const inB = new Set(sb.map((s) => s.id))
    const added = sb.flatMap((s, i) => (inA.has(s.id) ? [] : [i]))
    const updated = sb.flatMap((s, i) => (inA.has(s.id) && inA.get(s.id)!.value !== s.value ? [i] : []))
    const deleted = sa.flatMap((s, i) => (inB.has(s.id) ? [] : [i]))
    const status = !a[name] ? 'added' : !b[name] ? 'removed' : 'modified'
    // Created on two branches with different kinds.
    const metaChanged = status === 'modified' && a[name].kind !== b[name].kind
    if (status === 'modified' && !metaChanged && added.length + updated.length + deleted.length === 0) continue
    out.push({
      name,
      status,
      added: ranges(added),
      updated,
      deleted,
      metaChanged,
      values: {
        added: added.map((i) => ({index: i, value: sb[i].value})),
        updated: updated.map((i) => ({index: i, old: inA.get(sb[i].id)!.value, new: sb[i].value})),
        deleted: deleted.map((i) => ({index: i, value: sa[i].value})),
      },
    })
  }
  return out
}
