// Three-way merge of version roots by sample identity. Per tensor: the changes of each side
// relative to the base (index diffs, cost ∝ change) are matched by sample id; ours' order is
// kept, theirs' appends come after ours'. A sample changed differently on both sides, or deleted on
// one and changed on the other, is a conflict; the same change on both sides is not.
import {diffIndexes, buildIndex, editIndex, findPositionsById, getEntry, type IndexEntry} from '../index/index.js'
import {decodeSample} from '../format/sample.js'
import {sampleToJson} from '../format/sample-json.js'
import type {TensorMeta} from '../format/tensor-meta.js'
import {countBelow, positionMapBtoA} from './diff.js'
import type {DataStore} from './store.js'
import {tensorMap, type TensorState, type VersionRoot} from './version-root.js'

export type MergeStrategy = 'ours' | 'theirs'

export interface MergeConflict {
  tensor: string
  /** Position in ours (or in theirs when ours deleted the sample); null for a tensor-level conflict. */
  index: number | null
  kind: 'both-changed' | 'deleted-ours' | 'deleted-theirs' | 'tensor'
  ours: unknown
  theirs: unknown
}

export interface MergeOutcome {
  root: VersionRoot
  conflicts: MergeConflict[]
  /** Conflicts settled by the strategy. */
  resolved: number
}

type Loc = Omit<IndexEntry, 'id'>
const loc = (e: IndexEntry): Loc => ({chunk: e.chunk, offset: e.offset, length: e.length, crc: e.crc})

export async function mergeRoots(data: DataStore, base: VersionRoot, ours: VersionRoot, theirs: VersionRoot, strategy?: MergeStrategy): Promise<MergeOutcome> {
  const tensors = tensorMap(ours.tensors)
  const conflicts: MergeConflict[] = []
  let resolved = 0
  const names = [...new Set([...Object.keys(ours.tensors), ...Object.keys(theirs.tensors)])].sort()
  for (const name of names) {
    const o = ours.tensors[name]
    const t = theirs.tensors[name]
    if (!t) continue // only ours has it
    if (!o) {
      tensors[name] = t // created on their side
      continue
    }
    const b = base.tensors[name] ?? {meta: o.meta, index: (await buildIndex(data.nodes, [])).root, length: 0}
    // Created on both sides: no base meta, so both sides' metas must agree.
    const meta = mergeMeta(base.tensors[name]?.meta, o.meta, t.meta)
    const tensorConflict = () => {
      const conflict: MergeConflict = {tensor: name, index: null, kind: 'tensor', ours: describeMeta(o.meta), theirs: describeMeta(t.meta)}
      if (!strategy) conflicts.push(conflict)
      else {
        resolved++
        if (strategy === 'theirs') tensors[name] = t
      }
    }
    if (!meta) {
      tensorConflict()
      continue
    }
    if (!sameEncoding(o.meta, t.meta)) {
      // One side re-created the tensor with another htype/dtype (a tensor conflict settled with
      // --strategy): samples are encoded for their meta, so the sides' samples cannot be mixed.
      // The re-created tensor wins only if the other side left the base's samples alone.
      if (sameEncoding(meta, o.meta) && t.index === b.index) tensors[name] = {...o, meta}
      else if (sameEncoding(meta, t.meta) && o.index === b.index) tensors[name] = {...t, meta}
      else tensorConflict()
      continue
    }
    if (o.index === t.index || t.index === b.index) {
      tensors[name] = {...o, meta}
      continue
    }
    if (o.index === b.index) {
      tensors[name] = {...t, meta}
      continue
    }
    const merged = await mergeTensor(data, name, b, o, t, meta, strategy)
    conflicts.push(...merged.conflicts)
    resolved += merged.resolved
    tensors[name] = merged.state
  }
  return {root: {tensors}, conflicts, resolved}
}

/** Equal but for class names: samples of one read the same under the other. */
const sameEncoding = (a: TensorMeta, b: TensorMeta) => JSON.stringify({...a, classNames: undefined}) === JSON.stringify({...b, classNames: undefined})

/** Meta both sides can live with: equal, or one side only added class names. Null = conflict. */
function mergeMeta(base: TensorMeta | undefined, ours: TensorMeta, theirs: TensorMeta): TensorMeta | null {
  const same = sameEncoding
  let merged: TensorMeta
  if (same(ours, theirs)) merged = ours
  else if (base && same(ours, base)) merged = theirs
  else if (base && same(theirs, base)) merged = ours
  else return null
  // Class indices keep their meaning only if one side's names extend the other's.
  const oc = ours.classNames ?? []
  const tc = theirs.classNames ?? []
  const prefix = (a: string[], b: string[]) => a.length <= b.length && a.every((x, i) => b[i] === x)
  const names = prefix(oc, tc) ? theirs.classNames : prefix(tc, oc) ? ours.classNames : null
  if (names === null) return null
  return names === undefined ? merged : {...merged, classNames: names}
}

const describeMeta = (m: TensorMeta) => ({htype: m.htype, dtype: m.dtype, ...(m.classNames ? {classNames: m.classNames} : {})})

async function mergeTensor(data: DataStore, name: string, b: TensorState, o: TensorState, t: TensorState, meta: TensorMeta, strategy?: MergeStrategy) {
  const [dO, dT] = await Promise.all([diffIndexes(data.nodes, b.index, o.index), diffIndexes(data.nodes, b.index, t.index)])
  const entries = (root: string, positions: number[]) => Promise.all(positions.map((p) => getEntry(data.nodes, root, p)))
  const [oUpd, oAdd, oDel, tUpd, tAdd, tDel] = await Promise.all([
    entries(o.index, dO.updated), entries(o.index, dO.added), entries(b.index, dO.deleted),
    entries(t.index, dT.updated), entries(t.index, dT.added), entries(b.index, dT.deleted),
  ])
  const oursUpdated = new Map(oUpd.map((e, i) => [e.id, {e, pos: dO.updated[i]}]))
  const oursAdded = new Map(oAdd.map((e, i) => [e.id, {e, pos: dO.added[i]}]))
  const oursDeleted = new Set(oDel.map((e) => e.id))
  // Position in ours of a base sample ours did not touch: the k-th non-added position of ours.
  const baseToOurs = (pB: number) => {
    const k = pB - countBelow(dO.deleted, pB)
    let lo = k
    let hi = k + dO.added.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (mid + 1 - countBelow(dO.added, mid + 1) >= k + 1) hi = mid
      else lo = mid + 1
    }
    return lo
  }
  const theirsToBase = positionMapBtoA(dT)
  // Base samples theirs changed or deleted and ours left alone, to be found in ours. Counting maps
  // their positions while ours and theirs keep the base's relative order, which merges in a
  // criss-cross history can break (a merge keeps ours' order, so its descendants may order two
  // samples unlike an ancestor on the other side): each mapped position is checked by sample id,
  // and ids that are not where counting puts them are looked up by a scan of ours' index.
  const untouched: {id: bigint; pB: number; update?: Loc}[] = []
  const positionsInOurs = async (want: {id: bigint; pB: number}[]): Promise<number[]> => {
    const guess = want.map((w) => baseToOurs(w.pB))
    const found = await Promise.all(guess.map((p) => (p < o.length ? getEntry(data.nodes, o.index, p) : undefined)))
    const lost = new Set(want.filter((w, i) => found[i]?.id !== w.id).map((w) => w.id))
    if (lost.size === 0) return guess
    const byId = await findPositionsById(data.nodes, o.index, lost)
    return want.map((w, i) => {
      if (!lost.has(w.id)) return guess[i]
      const p = byId.get(w.id)
      if (p === undefined) throw new Error(`merge: sample ${w.id.toString(16)} of tensor '${name}' is neither deleted nor present in ours`)
      return p
    })
  }
  const updates = new Map<number, Loc>()
  const deletes = new Set<number>()
  const appends: IndexEntry[] = []
  const conflicts: MergeConflict[] = []
  let resolved = 0
  const value = async (state: TensorState, e: IndexEntry | undefined) => (e ? small(meta, await data.sampleBytes(state.meta, e)) : null)
  const conflict = async (c: Omit<MergeConflict, 'ours' | 'theirs' | 'tensor'>, oe: IndexEntry | undefined, te: IndexEntry | undefined) => {
    if (strategy) {
      resolved++
      return true
    }
    conflicts.push({tensor: name, ...c, ours: await value(o, oe), theirs: await value(t, te)})
    return false
  }
  const sameBytes = async (x: IndexEntry, y: IndexEntry) =>
    x.length === y.length && x.crc === y.crc && Buffer.from(await data.sampleBytes(o.meta, x)).equals(await data.sampleBytes(t.meta, y))

  for (let i = 0; i < tUpd.length; i++) {
    const te = tUpd[i]
    const pB = theirsToBase(dT.updated[i])
    const mine = oursUpdated.get(te.id)
    if (oursDeleted.has(te.id)) {
      // deleted by ours, changed by theirs: 'theirs' brings the sample back (at the end).
      if (await conflict({index: dT.updated[i], kind: 'deleted-ours'}, undefined, te)) if (strategy === 'theirs') appends.push(te)
    } else if (mine) {
      if (await sameBytes(mine.e, te)) continue
      if (await conflict({index: mine.pos, kind: 'both-changed'}, mine.e, te)) if (strategy === 'theirs') updates.set(mine.pos, loc(te))
    } else {
      untouched.push({id: te.id, pB, update: loc(te)})
    }
  }
  for (let i = 0; i < tDel.length; i++) {
    const be = tDel[i]
    if (oursDeleted.has(be.id)) continue
    const mine = oursUpdated.get(be.id)
    if (mine) {
      if (await conflict({index: mine.pos, kind: 'deleted-theirs'}, mine.e, undefined)) if (strategy === 'theirs') deletes.add(mine.pos)
    } else {
      untouched.push({id: be.id, pB: dT.deleted[i]})
    }
  }
  for (const [i, pos] of (await positionsInOurs(untouched)).entries()) {
    const u = untouched[i]
    if (u.update) updates.set(pos, u.update)
    else deletes.add(pos)
  }
  for (const te of tAdd) {
    const mine = oursAdded.get(te.id)
    if (!mine) {
      appends.push(te)
      continue
    }
    // Both sides added the same sample (both merged it from elsewhere).
    if (await sameBytes(mine.e, te)) continue
    if (await conflict({index: mine.pos, kind: 'both-changed'}, mine.e, te)) if (strategy === 'theirs') updates.set(mine.pos, loc(te))
  }
  if (conflicts.length > 0) return {state: o, conflicts, resolved}
  const edited = await editIndex(data.nodes, o.index, {updates, deletes, appends})
  return {state: {meta, index: edited.root, length: edited.length}, conflicts, resolved}
}

/** A sample value for a conflict report: the value when small, else a description. */
function small(meta: TensorMeta, bytes: Uint8Array): unknown {
  if (bytes.byteLength > 256) return `<${bytes.byteLength} bytes>`
  try {
    const json = sampleToJson(meta, decodeSample(meta, bytes))
    const text = JSON.stringify(json)
    return text.length <= 200 ? json : `<${bytes.byteLength} bytes>`
  } catch {
    return `<${bytes.byteLength} bytes>`
  }
}
