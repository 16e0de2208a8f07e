// `lake push [REMOTE] [BRANCH]`: copy the objects the remote lacks (children first), then move the
// remote branch by compare-and-swap. A push that is not a fast-forward is refused unless --force;
// a remote that moved since it was read refuses the push ("pull first") and nothing half-visible
// remains: objects without a ref pointing at them are invisible (and gc-able) there.
import type {Repo} from '../repo/repo.js'
import {appendEvents} from '../events/log.js'
import {branchRef, tagRef} from '../events/records.js'
import {RemoteMovedError, UnknownRefError} from '../errors.js'
import {transfer} from '../remote/transfer.js'
import type {Remote} from '../remote/remote.js'
import {listRefs, readGraph, readHead, readRef} from '../version/source.js'
import {mergeBase} from '../version/merge-base.js'
import {DEFAULT_REMOTE, openRemote} from './remote.js'

export interface PushResult {
  remote: string
  branch: string
  commit: string
  old: string | null
  forced: boolean
  upToDate: boolean
  objects: number
  bytes: number
  tags: string[]
}

export async function push(repo: Repo, name = DEFAULT_REMOTE, branch?: string, opts: {force?: boolean; tags?: boolean; onProgress?: (objects: number, bytes: number) => void} = {}): Promise<PushResult> {
  const remote = openRemote(repo, name)
  try {
    return await pushTo(repo, remote, branch, opts)
  } finally {
    await remote.close()
  }
}

export async function pushTo(repo: Repo, remote: Remote, branchName: string | undefined, opts: {force?: boolean; tags?: boolean; onProgress?: (objects: number, bytes: number) => void} = {}): Promise<PushResult> {
  const local = await repo.withDb(async (db) => {
    const branch = branchName ?? (await readHead(db)).branch
    if (!branch) throw new UnknownRefError('HEAD is detached: name the branch to push', {hint: 'lake push origin BRANCH'})
    const commit = await readRef(db, branchRef(branch))
    if (!commit) throw new UnknownRefError(`no branch named '${branch}' with commits`, {hint: "see 'lake branch'"})
    return {branch, commit, tags: opts.tags ? await listRefs(db, 'tags') : []}
  })
  await remote.ensureInitialized()
  const theirs = await remote.readRef(branchRef(local.branch))
  const result: PushResult = {remote: remote.name, branch: local.branch, commit: local.commit, old: theirs?.commit ?? null, forced: false, upToDate: theirs?.commit === local.commit, objects: 0, bytes: 0, tags: []}
  if (!result.upToDate) {
    if (theirs && !opts.force) {
      const fastForward = await repo.withDb(async (db) => (await readGraph(db, theirs.commit)) !== undefined && (await mergeBase((id) => readGraph(db, id), theirs.commit, local.commit)) === theirs.commit)
      if (!fastForward) {
        throw new RemoteMovedError(`remote '${remote.name}' has commits on '${local.branch}' that this dataset does not have (not a fast-forward)`, {
          hint: `pull first ('lake pull ${remote.name} ${local.branch}'), or overwrite with --force`,
        })
      }
    }
    result.forced = !!theirs && !!opts.force
    const moved = await transfer(repo.objects, remote.objects, [local.commit], {depth: 'all', known: (id) => remote.objects.has(id), onProgress: opts.onProgress})
    result.objects += moved.objects
    result.bytes += moved.bytes
    await remote.casRef(branchRef(local.branch), local.commit, theirs?.etag ?? null)
  }
  for (const tag of local.tags) {
    const there = await remote.readRef(tagRef(tag.name))
    if (there?.commit === tag.commit) continue
    if (there && !opts.force) throw new RemoteMovedError(`tag '${tag.name}' names another commit on remote '${remote.name}'`, {hint: 'tags do not move: delete one of them, or overwrite with --force'})
    const moved = await transfer(repo.objects, remote.objects, [tag.commit], {depth: 'all', known: (id) => remote.objects.has(id)})
    result.objects += moved.objects
    result.bytes += moved.bytes
    await remote.casRef(tagRef(tag.name), tag.commit, there?.etag ?? null)
    result.tags.push(tag.name)
  }
  // Remember what the remote now holds (remote-tracking ref).
  await repo.withDb((db) => appendEvents(db, [{type: 'remote.update', remote: remote.name, heads: {[local.branch]: local.commit}, removed: [], commits: []}]))
  return result
}
