// History, newest first. Walks the commit graph index (LevelDB) and reads commit objects only for
// the entries it prints, so `log -n 10` costs the same on 20 or 20,000 commits.
import type {Repo} from '../repo/repo.js'
import type {EventDb} from '../events/db.js'
import type {CommitGraphEntry} from '../events/projections.js'
import {listRefs, readGraph, readHead, revisionSource} from '../version/source.js'
import {resolveRevision} from '../version/resolve.js'
import {commitSummary} from '../version/commit.js'

export interface LogEntry {
  commit: string
  parents: string[]
  message: string
  author: string
  timestamp: string
  branch: string | null
  code: {sha: string; dirty: boolean} | null
}

export async function log(repo: Repo, opts: {rev?: string; limit?: number; all?: boolean} = {}): Promise<{commits: LogEntry[]}> {
  const ids = await repo.withDb(async (db) => {
    const starts: string[] = []
    if (opts.all) {
      const head = await readHead(db)
      if (head.commit) starts.push(head.commit)
      for (const r of [...(await listRefs(db, 'heads')), ...(await listRefs(db, 'tags'))]) starts.push(r.commit)
    } else {
      const head = await readHead(db)
      if (opts.rev || head.commit) starts.push(await resolveRevision(revisionSource(db), opts.rev ?? 'HEAD'))
    }
    return walk(db, starts, opts.limit ?? Infinity)
  })
  const commits: LogEntry[] = []
  for (const id of ids) {
    commits.push(commitSummary(id, await repo.data.getCommit(id)))
  }
  return {commits}
}

/** Newest-first walk over all parents (like git log's default date order). */
async function walk(db: EventDb, starts: string[], limit: number): Promise<string[]> {
  const seen = new Set<string>()
  const queue: {id: string; entry: CommitGraphEntry}[] = []
  const push = async (id: string) => {
    if (seen.has(id)) return
    seen.add(id)
    const entry = await readGraph(db, id)
    if (entry) queue.push({id, entry})
  }
  for (const s of starts) await push(s)
  const out: string[] = []
  while (queue.length > 0 && out.length < limit) {
    // Queues stay small (the frontier), so a linear pick of the newest is fine.
    let best = 0
    for (let i = 1; i < queue.length; i++) {
      const a = queue[i].entry
      const b = queue[best].entry
      if (a.time > b.time || (a.time === b.time && a.depth > b.depth)) best = i
    }
    const [{id, entry}] = queue.splice(best, 1)
    out.push(id)
    for (const p of entry.parents) await push(p)
  }
  return out
}
