// `lake merge REV`: three-way merge of REV into the current branch by sample identity.
// Reads state briefly, merges the trees without holding the dataset, then appends the commit
// (or the fast-forward) only if HEAD and the staged state are still what it read.
import type {Repo} from '../repo/repo.js'
import {appendEvents} from '../events/log.js'
import {branchRef} from '../events/records.js'
import {ConcurrentChangeError, DirtyStateError, MergeConflictError, SelfMergeError, UnrelatedHistoriesError, UsageError} from '../errors.js'
import {mergeRoots, type MergeConflict, type MergeStrategy} from '../dataset/merge.js'
import {EMPTY_ROOT} from '../dataset/version-root.js'
import {readCodeLink} from '../codelink/codelink.js'
import {readGraph, revisionSource} from '../version/source.js'
import {resolveRevision} from '../version/resolve.js'
import {mergeBase} from '../version/merge-base.js'
import {commitRoot, readState, requireBranch, type RepoState} from './state.js'
import {dropLease, releaseLease, takeLease} from './lease.js'
import {moveSharedBranch} from './shared.js'

export interface MergeResult {
  commit: string
  fastForward: boolean
  conflicts: MergeConflict[]
  resolved: number
  /** Nothing to merge: REV is already contained in HEAD. */
  upToDate: boolean
  base: string | null
}

export interface MergeOptions {
  strategy?: MergeStrategy
  message?: string
  noFf?: boolean
  allowUnrelated?: boolean
}

export async function merge(repo: Repo, rev: string, opts: MergeOptions = {}): Promise<MergeResult> {
  if (opts.strategy && opts.strategy !== 'ours' && opts.strategy !== 'theirs') throw new UsageError(`unknown strategy '${opts.strategy}'`, {hint: 'use --strategy ours or --strategy theirs'})
  const plan = await repo.withDb(async (db) => {
    const state = await readState(repo, db)
    const branch = requireBranch(state.head, 'merge')
    const theirs = await resolveRevision(revisionSource(db), rev)
    const ours = state.head.commit
    if (rev === branch || rev === 'HEAD') throw new SelfMergeError(`cannot merge '${rev}' into itself`, {hint: 'name another branch or commit'})
    const base = ours ? await mergeBase((id) => readGraph(db, id), ours, theirs) : null
    if (ours && !base && !opts.allowUnrelated) {
      throw new UnrelatedHistoriesError(`'${rev}' shares no history with '${branch}'`, {hint: 'pass --allow-unrelated to merge them anyway (as if from an empty dataset)'})
    }
    return {branch, ours, theirs, base, state, lease: await takeLease(db, 'merge')}
  })
  try {
    return await mergeUnderLease(repo, rev, opts, plan)
  } catch (error) {
    await releaseLease(repo, plan.lease)
    throw error
  }
}

type MergePlan = {branch: string; ours: string | null; theirs: string; base: string | null; state: RepoState; lease: string}

async function mergeUnderLease(repo: Repo, rev: string, opts: MergeOptions, plan: MergePlan): Promise<MergeResult> {
  const {branch, ours, theirs, base} = plan
  const done = (commit: string, extra: Partial<MergeResult>): MergeResult => ({commit, fastForward: false, conflicts: [], resolved: 0, upToDate: false, base, ...extra})
  if (ours && (ours === theirs || base === theirs)) {
    await releaseLease(repo, plan.lease)
    return done(ours, {upToDate: true})
  }

  const commitAfterChecks = <T>(fn: (db: Parameters<Parameters<Repo['withDb']>[0]>[0]) => Promise<T>) =>
    repo.withDb(async (db) => {
      const now = await readState(repo, db)
      if (now.head.branch !== branch || now.head.commit !== ours || now.staged.root !== plan.state.staged.root) {
        throw new ConcurrentChangeError('another lake process moved HEAD or staged changes while merging; nothing was changed', {hint: 'run the merge again'})
      }
      const result = await fn(db)
      await dropLease(db, plan.lease)
      return result
    })

  const dirty = plan.state.staged.root !== plan.state.baseRoot
  // Fast-forward: ours is an ancestor of theirs (or the branch has no commit yet).
  if ((!ours || base === ours) && !opts.noFf) {
    let root = await commitRoot(repo, theirs)
    if (dirty) root = await carryStaged(repo, plan.state.baseRoot, root, plan.state.staged.root)
    await commitAfterChecks(async (db) => {
      await moveSharedBranch(repo, branch, ours, theirs)
      return appendEvents(db, [
        {type: 'ref.set', ref: branchRef(branch), commit: theirs, old: ours},
        {type: 'head.move', branch, commit: theirs, from: ours, root, carry: dirty, reason: `merge ${rev}: fast-forward`},
      ])
    })
    return done(theirs, {fastForward: true})
  }
  if (dirty) throw new DirtyStateError('cannot merge with staged changes', {hint: "commit them first, or discard them with 'lake checkout --force HEAD'"})

  const [baseRoot, oursRoot, theirsRoot] = await Promise.all([
    base ? repo.data.getRoot(await commitRoot(repo, base)) : EMPTY_ROOT,
    repo.data.getRoot(await commitRoot(repo, ours)),
    repo.data.getRoot(await commitRoot(repo, theirs)),
  ])
  const outcome = await mergeRoots(repo.data, baseRoot, oursRoot, theirsRoot, opts.strategy)
  if (outcome.conflicts.length > 0) {
    throw new MergeConflictError(`merge of '${rev}' into '${branch}' has ${outcome.conflicts.length} conflict${outcome.conflicts.length === 1 ? '' : 's'}; nothing was changed`, {
      hint: 'resolve them with --strategy ours or --strategy theirs, or change one side and merge again',
      data: {conflicts: outcome.conflicts},
    })
  }
  const rootId = await repo.data.putRoot(outcome.root)
  const [code, author] = await Promise.all([readCodeLink(repo.root), repo.author()])
  const message = opts.message ?? `Merge ${rev} into ${branch}`
  const id = await commitAfterChecks(async (db) => {
    const parentTime = (await readGraph(db, ours!))?.time ?? 0
    const time = Math.max(Date.now(), parentTime)
    const commit = await repo.data.putCommit({parents: [ours!, theirs], root: rootId, message, author, time, branch, code})
    await moveSharedBranch(repo, branch, ours, commit)
    await appendEvents(db, [{type: 'commit', commit, parents: [ours!, theirs], root: rootId, branch, commitTime: time, message}])
    return commit
  })
  return done(id, {resolved: outcome.resolved})
}

/**
 * Staged changes ride along a fast-forward: they are re-applied on top of the new HEAD as a merge of
 * (old HEAD → new HEAD) with (old HEAD → staged), new HEAD's order first. Overlapping changes refuse.
 */
async function carryStaged(repo: Repo, oldHeadRoot: string, newHeadRoot: string, stagedRoot: string): Promise<string> {
  const [base, head, staged] = await Promise.all([repo.data.getRoot(oldHeadRoot), repo.data.getRoot(newHeadRoot), repo.data.getRoot(stagedRoot)])
  const outcome = await mergeRoots(repo.data, base, head, staged)
  if (outcome.conflicts.length > 0) {
    throw new DirtyStateError(`your staged changes overlap ${outcome.conflicts.length} change${outcome.conflicts.length === 1 ? '' : 's'} being merged`, {
      hint: "commit them first (then merge), or discard them with 'lake checkout --force HEAD'",
      data: {conflicts: outcome.conflicts},
    })
  }
  return repo.data.putRoot(outcome.root)
}
