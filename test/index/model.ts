// A plain-array model of the index, for property tests: what an edit and a diff should give.
import type {IndexDiff, IndexEdits, IndexEntry} from '../../src/core/index/index.js'

export function applyEdits(model: readonly IndexEntry[], edits: IndexEdits): IndexEntry[] {
  const deletes = new Set(edits.deletes ?? [])
  const out: IndexEntry[] = []
  model.forEach((entry, position) => {
    if (deletes.has(position)) return
    const update = edits.updates?.get(position)
    out.push(update ? {id: entry.id, ...update} : entry)
  })
  out.push(...(edits.appends ?? []))
  return out
}

export function modelDiff(a: readonly IndexEntry[], b: readonly IndexEntry[]): IndexDiff {
  const byIdA = new Map(a.map(e => [e.id, e]))
  const idsB = new Set(b.map(e => e.id))
  const diff: IndexDiff = {added: [], updated: [], deleted: []}
  b.forEach((e, position) => {
    const old = byIdA.get(e.id)
    if (!old) diff.added.push(position)
    else if (old.chunk !== e.chunk || old.offset !== e.offset || old.length !== e.length || old.crc !== e.crc) diff.updated.push(position)
  })
  a.forEach((e, position) => {
    if (!idsB.has(e.id)) diff.deleted.push(position)
  })
  return diff
}
