// `lake diff`: what changed between two versions (or a version and the staged state), per tensor,
// by sample identity. Cost follows the change: see dataset/diff.ts.
import type {Repo} from '../repo/repo.js'
import {diffRoots, positionMapBtoA, toRanges, type TensorDiff} from '../dataset/diff.js'
import type {TensorState, VersionRoot} from '../dataset/version-root.js'
import {findPositionsById, type IndexEntry} from '../index/index.js'
import {sampleToJson} from '../format/sample-json.js'
import {decodeSample} from '../format/sample.js'
import {UnknownTensorError} from '../errors.js'
import {revisionSource} from '../version/source.js'
import {resolveRevision} from '../version/resolve.js'
import {commitRoot, readState, resolveAll} from './state.js'

export const STAGED = 'STAGED'

export interface DiffTensorJson {
  name: string
  status: 'added' | 'removed' | 'modified'
  added: [number, number][]
  updated: number[]
  deleted: number[]
  metaChanged: boolean
  values?: {
    added: {index: number; value: unknown}[]
    updated: {index: number; old: unknown; new: unknown}[]
    deleted: {index: number; value: unknown}[]
    truncated: boolean
  }
}

export interface DiffResult {
  from: string | null
  to: string
  tensors: DiffTensorJson[]
}

export interface DiffOptions {
  /** Only this tensor. */
  tensor?: string
  /** Include sample values (needs `tensor`), at most `limit` per kind. */
  values?: boolean
  limit?: number
}

/** `lake diff` (HEAD vs staged), `lake diff A` (A vs staged), `lake diff A B`. */
export async function diff(repo: Repo, a?: string, b?: string, opts: DiffOptions = {}): Promise<DiffResult> {
  const ends = a && b ? await committedEnds(repo, a, b) : await repo.withDb(async (db) => {
    const src = revisionSource(db)
    const state = await readState(repo, db)
    const from = a ? await resolveRevision(src, a) : state.head.commit
    const to = b ? await resolveRevision(src, b) : STAGED
    return {from, to, fromRoot: from ? await commitRoot(repo, from) : state.baseRoot, toRoot: b ? await commitRoot(repo, to) : state.staged.root}
  })
  const rootA = await repo.data.getRoot(ends.fromRoot)
  const rootB = await repo.data.getRoot(ends.toRoot)
  let diffs = await diffRoots(repo.data, rootA, rootB)
  if (opts.tensor) {
    if (!rootA.tensors[opts.tensor] && !rootB.tensors[opts.tensor]) throw new UnknownTensorError(`unknown tensor '${opts.tensor}' in either version`)
    diffs = diffs.filter((d) => d.name === opts.tensor)
  }
  const tensors: DiffTensorJson[] = []
  for (const d of diffs) {
    const json: DiffTensorJson = {name: d.name, status: d.status, added: toRanges(d.added), updated: d.updated, deleted: d.deleted, metaChanged: d.metaChanged}
    if (opts.values && opts.tensor) json.values = await sampleValues(repo, rootA, rootB, d, opts.limit ?? 20)
    tensors.push(json)
  }
  return {from: ends.from, to: ends.to, tensors}
}

/**
 * Both ends of `diff A B`: two revisions, resolved like `show` resolves one (from the ref snapshot
 * when it is valid: no event-log open, which costs more than a small diff itself).
 */
async function committedEnds(repo: Repo, a: string, b: string) {
  const [from, to] = await resolveAll(repo, [a, b])
  return {from, to, fromRoot: await commitRoot(repo, from), toRoot: await commitRoot(repo, to)}
}

async function sampleValues(repo: Repo, a: VersionRoot, b: VersionRoot, d: TensorDiff, limit: number) {
  const value = (t: TensorState, e: IndexEntry) => repo.data.sampleBytes(t.meta, e).then((bytes) => sampleToJson(t.meta, decodeSample(t.meta, bytes)))
  const read = async (root: VersionRoot, index: number) => {
    const t = root.tensors[d.name]
    return value(t, await repo.data.entry(t, index))
  }
  const added = await Promise.all(d.added.slice(0, limit).map(async (index) => ({index, value: await read(b, index)})))
  // An updated sample's old value sits at its position in A: map B positions back through the diff.
  // The mapping assumes A and B order their common samples alike, which merges of a criss-cross
  // history can break; a sample not found where the mapping points is looked up by id.
  const toA = positionMapBtoA(d)
  const oldValue = async (index: number, id: bigint) => {
    const t = a.tensors[d.name]
    const guess = toA(index)
    let e = guess < t.length ? await repo.data.entry(t, guess) : undefined
    if (e?.id !== id) {
      const p = (await findPositionsById(repo.data.nodes, t.index, new Set([id]))).get(id)
      if (p === undefined) throw new Error(`diff: updated sample ${id.toString(16)} of tensor '${d.name}' is not in A`)
      e = await repo.data.entry(t, p)
    }
    return value(t, e)
  }
  const updated = await Promise.all(d.updated.slice(0, limit).map(async (index) => {
    const t = b.tensors[d.name]
    const e = await repo.data.entry(t, index)
    return {index, old: await oldValue(index, e.id), new: await value(t, e)}
  }))
  const deleted = await Promise.all(d.deleted.slice(0, limit).map(async (index) => ({index, value: await read(a, index)})))
  return {added, updated, deleted, truncated: d.added.length > limit || d.updated.length > limit || d.deleted.length > limit}
}
