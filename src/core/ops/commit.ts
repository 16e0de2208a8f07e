import type {Repo} from '../repo/repo.js'
import {appendEvents} from '../events/log.js'
import {NothingToCommitError, UsageError} from '../errors.js'
import {moveSharedBranch} from './shared.js'
import {readCodeLink} from '../codelink/codelink.js'
import {readGraph} from '../version/source.js'
import {readState, requireBranch} from './state.js'

export interface CommitResult {
  commit: string
  branch: string
  parents: string[]
}

export async function commit(repo: Repo, opts: {message: string; allowEmpty?: boolean}): Promise<CommitResult> {
  if (!opts.message || opts.message.trim() === '') throw new UsageError('a commit message is required', {hint: "lake commit -m 'what changed'"})
  // Slow reads (git status, config) happen before taking the dataset.
  const [code, author] = await Promise.all([readCodeLink(repo.root), repo.author()])
  return repo.withDb(async (db) => {
    const {head, staged, baseRoot} = await readState(repo, db)
    const branch = requireBranch(head, 'commit')
    if (staged.root === baseRoot && !opts.allowEmpty) {
      throw new NothingToCommitError('nothing to commit', {hint: "stage changes with 'lake add', 'lake append', 'lake update' or 'lake delete', or pass --allow-empty"})
    }
    const parents = head.commit ? [head.commit] : []
    const parentTime = head.commit ? ((await readGraph(db, head.commit))?.time ?? 0) : 0
    // Times never go backwards along first parents: @{time} relies on it (docs/FORMAT.md).
    const time = Math.max(Date.now(), parentTime)
    const id = await repo.data.putCommit({parents, root: staged.root, message: opts.message, author, time, branch, code})
    // durable before any ref (shared or local) names it
    await repo.objects.flush()
    // Shared storage: the branch others see moves first, by compare-and-swap from our parent;
    // if another machine committed meanwhile, nothing changes here (pull first).
    await moveSharedBranch(repo, branch, head.commit, id)
    await appendEvents(db, [{type: 'commit', commit: id, parents, root: staged.root, branch, commitTime: time, message: opts.message}])
    return {commit: id, branch, parents}
  })
}
