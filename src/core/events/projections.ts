// Projections of the event log: refs, HEAD, the reflog, the staged state and the commit graph
// index. `applyRecord` is the one place that says how an event changes them; the live append path
// and `rebuildProjections` both go through it, so a rebuild from the log yields identical state.
import {decode, encode} from '../codec.js'
import type {EventDb, Sub} from './db.js'
import {seqKey} from './db.js'
import {branchRef, remoteRef, type EventRecord, type HeadState, type StagedState} from './records.js'

export interface CommitGraphEntry {
  time: number
  /** Number of first-parent steps to the root commit. */
  depth: number
  /** Generation: 1 + the largest generation of its parents (roots: 1). Merge-base search uses it. */
  gen: number
  parents: string[]
  /** fp[k] = the first-parent ancestor 2^k steps back: ~N and @{time} in O(log n) reads. */
  fp: string[]
}

export interface ReflogEntry {
  commit: string | null
  branch: string | null
  time: number
  seq: number
  reason: string
}

export interface Tip {
  seq: number
  hash: string
}

export type SubName = 'state' | 'refs' | 'reflog' | 'commits'
export const PROJECTION_NAMES: readonly SubName[] = ['state', 'refs', 'reflog', 'commits']

/** Reads through pending writes, so several records applied in one batch see each other. */
export class ProjectionTx {
  private readonly pending = new Map<string, {sub: SubName; key: string; value: Uint8Array | null}>()
  /** `fresh`: read as if the projections were empty (a rebuild that replaces them in one batch). */
  constructor(readonly db: EventDb, private readonly fresh = false) {}

  private async raw(sub: SubName, key: string): Promise<Uint8Array | undefined> {
    const p = this.pending.get(`${sub}\0${key}`)
    if (p) return p.value ?? undefined
    if (this.fresh) return undefined
    return (await (this.db[sub] as Sub).get(key)) ?? undefined
  }

  async get<T>(sub: SubName, key: string): Promise<T | undefined> {
    const bytes = await this.raw(sub, key)
    return bytes === undefined ? undefined : decode<T>(bytes)
  }

  put(sub: SubName, key: string, value: unknown): void {
    this.pending.set(`${sub}\0${key}`, {sub, key, value: encode(value)})
  }

  del(sub: SubName, key: string): void {
    this.pending.set(`${sub}\0${key}`, {sub, key, value: null})
  }

  /** The pending writes by projection name (null: a delete). */
  writes(): {sub: SubName; key: string; value: Uint8Array | null}[] {
    return [...this.pending.values()]
  }

  /** The writes as abstract-level batch operations. */
  operations() {
    return [...this.pending.values()].map(({sub, key, value}) =>
      value === null
        ? {type: 'del' as const, sublevel: this.db[sub], key}
        : {type: 'put' as const, sublevel: this.db[sub], key, value},
    )
  }
}

async function pushReflog(tx: ProjectionTx, record: EventRecord, head: HeadState, reason: string) {
  const count = (await tx.get<number>('state', 'reflogCount')) ?? 0
  const entry: ReflogEntry = {commit: head.commit, branch: head.branch, time: record.time, seq: record.seq, reason}
  tx.put('reflog', seqKey(count), entry)
  tx.put('state', 'reflogCount', count + 1)
}

async function indexCommit(tx: ProjectionTx, commit: string, parents: string[], time: number) {
  if (await tx.get('commits', commit)) return
  const fp: string[] = []
  let depth = 0
  let gen = 1
  for (const p of parents) gen = Math.max(gen, ((await tx.get<CommitGraphEntry>('commits', p))?.gen ?? 0) + 1)
  if (parents.length > 0) {
    const parent = await tx.get<CommitGraphEntry>('commits', parents[0])
    depth = (parent?.depth ?? 0) + 1
    fp.push(parents[0])
    // fp[k] = fp[k-1] of the ancestor fp[k-1]
    for (let k = 1; ; k++) {
      const mid = await tx.get<CommitGraphEntry>('commits', fp[k - 1])
      const next = mid?.fp[k - 1]
      if (!next) break
      fp.push(next)
    }
  }
  tx.put('commits', commit, {time, depth, gen, parents, fp} satisfies CommitGraphEntry)
}

export async function applyRecord(tx: ProjectionTx, record: EventRecord): Promise<void> {
  switch (record.type) {
    case 'init': {
      const head: HeadState = {branch: record.branch, commit: null}
      tx.put('state', 'head', head)
      tx.put('state', 'staged', {base: null, root: record.root} satisfies StagedState)
      await pushReflog(tx, record, head, 'init')
      break
    }
    case 'stage':
      tx.put('state', 'staged', {base: record.base, root: record.root} satisfies StagedState)
      break
    case 'staged.reset':
      tx.put('state', 'staged', {base: record.base, root: record.root} satisfies StagedState)
      break
    case 'commit': {
      await indexCommit(tx, record.commit, record.parents, record.commitTime)
      const head: HeadState = {branch: record.branch, commit: record.commit}
      if (record.branch !== null) tx.put('refs', branchRef(record.branch), record.commit)
      tx.put('state', 'head', head)
      tx.put('state', 'staged', {base: record.commit, root: record.root} satisfies StagedState)
      await pushReflog(tx, record, head, `commit: ${record.message.split('\n')[0]}`)
      break
    }
    case 'ref.set':
      tx.put('refs', record.ref, record.commit)
      break
    case 'ref.delete':
      tx.del('refs', record.ref)
      break
    case 'remote.update':
      for (const c of record.commits) await indexCommit(tx, c.id, c.parents, c.time)
      for (const [branch, commit] of Object.entries(record.heads)) tx.put('refs', remoteRef(record.remote, branch), commit)
      for (const branch of record.removed) tx.del('refs', remoteRef(record.remote, branch))
      break
    case 'head.move': {
      const head: HeadState = {branch: record.branch, commit: record.commit}
      tx.put('state', 'head', head)
      tx.put('state', 'staged', {base: record.commit, root: record.root} satisfies StagedState)
      await pushReflog(tx, record, head, record.reason)
      break
    }
  }
}
