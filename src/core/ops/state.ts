// Reading the current state of a dataset (HEAD, staged state, their roots) in one short DB visit.
import type {Repo} from '../repo/repo.js'
import type {EventDb} from '../events/db.js'
import type {HeadState, StagedState} from '../events/records.js'
import {DetachedHeadError, StorageError} from '../errors.js'
import {NeedsEventDb, readHead, readStaged, refsOnlySource, revisionSource} from '../version/source.js'
import {resolveRevision, type RevisionSource} from '../version/resolve.js'

export interface RepoState {
  head: HeadState
  staged: StagedState
  /** Root of the commit HEAD points at (the empty root on an unborn branch). */
  baseRoot: string
}

export async function commitRoot(repo: Repo, commit: string | null): Promise<string> {
  return commit ? (await repo.data.getCommit(commit)).root : repo.data.emptyRoot()
}

export async function readState(repo: Repo, db: EventDb): Promise<RepoState> {
  const head = await readHead(db)
  const staged = await readStaged(db)
  if (!staged) throw new StorageError('the dataset has no staged state: its event log is incomplete', {hint: "run 'lake fsck'"})
  return {head, staged, baseRoot: await commitRoot(repo, head.commit)}
}

export function requireBranch(head: HeadState, what: string): string {
  if (head.branch === null) {
    throw new DetachedHeadError(`cannot ${what}: HEAD is detached at ${head.commit?.slice(0, 12)} (read-only)`, {
      hint: "create a branch here with 'lake checkout HEAD -b NEW_BRANCH', or check out a branch",
    })
  }
  return head.branch
}

/**
 * Resolves a revision: from the ref snapshot when it matches the event log's files and the
 * revision needs only HEAD and refs (no LevelDB open), else in a short DB visit.
 */
export async function resolve(repo: Repo, rev: string): Promise<string> {
  return (await resolveAll(repo, [rev]))[0]
}

/**
 * Resolves several revisions against one state of the refs: all from one ref snapshot when each
 * needs only HEAD and refs, else all in one short DB visit (never some from each).
 */
export async function resolveAll(repo: Repo, revs: readonly string[]): Promise<string[]> {
  const all = async (src: RevisionSource) => {
    const out: string[] = []
    for (const rev of revs) out.push(await resolveRevision(src, rev))
    return out
  }
  const snap = repo.refSnapshot()
  if (snap) {
    try {
      return await all(refsOnlySource(snap))
    } catch (error) {
      if (!(error instanceof NeedsEventDb)) throw error
    }
  }
  return repo.withDb((db) => all(revisionSource(db)))
}
