// What a dataset keeps alive: every commit a branch, tag, HEAD or reflog entry names, their
// ancestors, the staged state, and everything those reach (version roots, index nodes, chunks).
// fsck checks it; gc deletes what it does not contain.
import type {Repo} from '../repo/repo.js'
import type {EventDb} from '../events/db.js'
import {LakeError} from '../errors.js'
import {decodeNode} from '../index/index.js'
import {decodeCommit} from '../version/commit.js'
import {decodeRoot} from '../dataset/version-root.js'
import {listRefs, readHead, readStaged, reflogCount, revisionSource} from '../version/source.js'

export type ObjectKind = 'commit' | 'root' | 'node' | 'chunk'

export interface Starts {
  commits: string[]
  stagedRoot?: string
}

export async function reachabilityStarts(db: EventDb): Promise<Starts> {
  const commits = new Set<string>()
  const head = await readHead(db)
  if (head.commit) commits.add(head.commit)
  for (const r of [...(await listRefs(db, 'heads')), ...(await listRefs(db, 'tags')), ...(await listRefs(db, 'remotes'))]) commits.add(r.commit)
  const src = revisionSource(db)
  const n = await reflogCount(db)
  for (let i = 0; i < n; i++) {
    const e = await src.reflog(i)
    if (e?.commit) commits.add(e.commit)
  }
  return {commits: [...commits], stagedRoot: (await readStaged(db))?.root}
}

export interface Reachable {
  kinds: Map<string, ObjectKind>
  /** Objects that are reachable but missing or unreadable. */
  problems: {object: string; problem: string}[]
}

/** What refers to the staged state's root in `referrers`. */
export const STAGED = 'staged'

/**
 * Walks from the starts, reading each object once through the verifying read path. With
 * `referrers`, records for every object the objects that refer to it (STAGED for the staged
 * root): fsck follows them back to name the commits a damaged object affects.
 */
export async function walkReachable(repo: Repo, starts: Starts, referrers?: Map<string, string[]>): Promise<Reachable> {
  const kinds = new Map<string, ObjectKind>()
  const problems: {object: string; problem: string}[] = []
  const stack: {hash: string; kind: ObjectKind; from: string; by?: string}[] = starts.commits.map((hash) => ({hash, kind: 'commit' as ObjectKind, from: 'a ref or the reflog'}))
  if (starts.stagedRoot) stack.push({hash: starts.stagedRoot, kind: 'root', from: 'the staged state', by: STAGED})
  while (stack.length > 0) {
    const {hash, kind, from, by} = stack.pop()!
    if (referrers && by !== undefined) {
      const list = referrers.get(hash)
      if (list === undefined) referrers.set(hash, [by])
      else if (!list.includes(by)) list.push(by)
    }
    if (kinds.has(hash)) continue
    kinds.set(hash, kind)
    try {
      if (kind === 'chunk') {
        if (!(await repo.objects.has(hash))) throw new LakeError('OBJECT_NOT_FOUND', 'missing')
        continue // re-hashed by fsck's pass over every object
      }
      const bytes = await repo.objects.get(hash)
      if (kind === 'commit') {
        const c = decodeCommit(bytes, hash)
        for (const p of c.parents) stack.push({hash: p, kind: 'commit', from: `commit ${hash}`, by: hash})
        stack.push({hash: c.root, kind: 'root', from: `commit ${hash}`, by: hash})
      } else if (kind === 'root') {
        for (const t of Object.values(decodeRoot(bytes, hash).tensors)) stack.push({hash: t.index, kind: 'node', from: `version root ${hash}`, by: hash})
      } else {
        const node = decodeNode(hash, bytes)
        if (node.kind === 'leaf') for (const c of node.chunkTable) stack.push({hash: c, kind: 'chunk', from: `index node ${hash}`, by: hash})
        else for (const c of node.children) stack.push({hash: c, kind: 'node', from: `index node ${hash}`, by: hash})
      }
    } catch (error) {
      const code = (error as LakeError).code
      problems.push({object: hash, problem: `${kind} ${code === 'OBJECT_NOT_FOUND' ? 'missing' : (error as Error).message} (reached from ${from})`})
    }
  }
  return {kinds, problems}
}
