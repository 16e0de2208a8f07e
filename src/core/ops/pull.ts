// `lake pull [REMOTE] [BRANCH]`: fetch, then merge REMOTE/BRANCH into the current branch (a
// fast-forward, or a merge by sample identity as `lake merge` does; conflicts refuse).
import type {Repo} from '../repo/repo.js'
import {UnknownRefError} from '../errors.js'
import {readHead} from '../version/source.js'
import {fetchRemote, type FetchResult} from './fetch.js'
import {merge, type MergeResult, type MergeOptions} from './merge.js'
import {DEFAULT_REMOTE} from './remote.js'

export async function pull(repo: Repo, name = DEFAULT_REMOTE, branch?: string, opts: MergeOptions & {onProgress?: (objects: number, bytes: number) => void} = {}): Promise<{fetch: FetchResult; merge: MergeResult}> {
  const current = await repo.withDb(async (db) => (await readHead(db)).branch)
  const target = branch ?? current
  if (!target) throw new UnknownRefError('HEAD is detached: name the branch to pull', {hint: 'lake pull origin BRANCH'})
  const fetched = await fetchRemote(repo, name, {onProgress: opts.onProgress})
  if (!(target in fetched.heads)) throw new UnknownRefError(`remote '${name}' has no branch '${target}'`, {hint: `its branches: ${Object.keys(fetched.heads).join(', ') || 'none'}`})
  const merged = await merge(repo, `${name}/${target}`, {...opts, message: opts.message ?? `Merge ${name}/${target} into ${current}`})
  return {fetch: fetched, merge: merged}
}
