// `lake fetch [REMOTE]`: learn the remote's branch tips (remote-tracking refs origin/<branch>) and
// the commits behind them. A lazy clone copies commit objects only (sample data is read on demand);
// otherwise every object the new commits reach is copied.
import type {Repo} from '../repo/repo.js'
import {appendEvents} from '../events/log.js'
import {tagRef, type EventBody} from '../events/records.js'
import {transfer, type CommitInfo} from '../remote/transfer.js'
import type {Remote, RemoteRef} from '../remote/remote.js'
import {dropLease, releaseLease, takeLease} from './lease.js'
import {listRefs, readGraph, readRef} from '../version/source.js'
import {DEFAULT_REMOTE, openRemote} from './remote.js'

export interface FetchResult {
  remote: string
  heads: Record<string, string>
  commits: number
  objects: number
  bytes: number
  tags: string[]
}

export async function fetchRemote(repo: Repo, name = DEFAULT_REMOTE, opts: {full?: boolean; onProgress?: (objects: number, bytes: number) => void} = {}): Promise<FetchResult> {
  const remote = openRemote(repo, name)
  try {
    return await fetchFrom(repo, remote, opts)
  } finally {
    await remote.close()
  }
}

export async function fetchFrom(repo: Repo, remote: Remote, opts: {full?: boolean; onProgress?: (objects: number, bytes: number) => void} = {}): Promise<FetchResult> {
  await remote.requireDataset()
  const heads = await remote.listRefs('heads')
  const tags = await remote.listRefs('tags')
  const lease = await repo.withDb((db) => takeLease(db, 'fetch'))
  try {
    return await fetchUnderLease(repo, remote, opts, heads, tags, lease)
  } catch (error) {
    await releaseLease(repo, lease)
    throw error
  }
}

async function fetchUnderLease(repo: Repo, remote: Remote, opts: {full?: boolean; onProgress?: (objects: number, bytes: number) => void}, heads: RemoteRef[], tags: RemoteRef[], lease: string): Promise<FetchResult> {
  const lazyClone = repo.config.objectsFrom === remote.name
  const lazy = lazyClone && !opts.full
  // Objects first (no lock held): a commit object present here means its history is too.
  const moved = await transfer(remote.objects, repo.localObjects, [...heads, ...tags].map((r) => r.commit), {
    depth: lazy ? 'commits' : 'all',
    // A lazy clone holds commit objects without their data: fetching it full walks everything.
    known: lazyClone && opts.full ? async () => false : (id) => repo.localObjects.has(id),
    onProgress: opts.onProgress,
  })
  return repo.withDb(async (db) => {
    // Index exactly the commits the graph lacks, parents first; walk further down if an earlier
    // interrupted fetch left commit objects that were never indexed.
    const pending: CommitInfo[] = []
    const known = new Set<string>()
    const isKnown = async (id: string) => known.has(id) || (await readGraph(db, id)) !== undefined
    for (const c of moved.commits) if (!(await isKnown(c.id))) {
      pending.push(c)
      known.add(c.id)
    }
    const missingParents = [...heads, ...tags].map((r) => r.commit).filter((id) => !known.has(id))
    for (const c of pending) missingParents.push(...c.parents)
    const extra = await indexMissing(repo, missingParents, isKnown)
    const commits = [...extra, ...pending]
    const old = (await listRefs(db, 'remotes')).filter((r) => r.name.startsWith(`${remote.name}/`)).map((r) => r.name.slice(remote.name.length + 1))
    const headMap = Object.fromEntries(heads.map((h) => [h.name, h.commit]))
    const events: EventBody[] = [{type: 'remote.update', remote: remote.name, heads: headMap, removed: old.filter((b) => !(b in headMap)), commits}]
    const newTags: string[] = []
    for (const t of tags) {
      if (!(await readRef(db, tagRef(t.name)))) {
        events.push({type: 'ref.set', ref: tagRef(t.name), commit: t.commit, old: null})
        newTags.push(t.name)
      }
    }
    await appendEvents(db, events)
    await dropLease(db, lease)
    if (lazyClone && opts.full) {
      await repo.updateConfig((c) => {
        delete c.objectsFrom
      })
    }
    return {remote: remote.name, heads: headMap, commits: commits.length, objects: moved.objects, bytes: moved.bytes, tags: newTags}
  })
}

/** Commits whose objects are here but which the graph lacks, parents first. */
async function indexMissing(repo: Repo, ids: string[], isKnown: (id: string) => Promise<boolean>): Promise<CommitInfo[]> {
  const out: CommitInfo[] = []
  const seen = new Set<string>()
  const visit = async (id: string): Promise<void> => {
    if (seen.has(id) || (await isKnown(id))) return
    seen.add(id)
    const c = await repo.data.getCommit(id)
    for (const p of c.parents) await visit(p)
    out.push({id, parents: c.parents, time: c.time})
  }
  for (const id of ids) await visit(id)
  return out
}
