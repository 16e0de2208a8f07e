// Moving HEAD to a branch (writable) or a commit/tag (detached, read-only until -b).
import type {Repo} from '../repo/repo.js'
import {appendEvents} from '../events/log.js'
import {branchRef, type EventBody} from '../events/records.js'
import {DirtyStateError, RefExistsError} from '../errors.js'
import {readRef, revisionSource} from '../version/source.js'
import {resolveRevision} from '../version/resolve.js'
import {checkRefName} from './refs.js'
import {commitRoot, readState} from './state.js'

export interface CheckoutResult {
  head: string
  branch: string | null
  detached: boolean
}

export async function checkout(repo: Repo, rev: string, opts: {newBranch?: string; force?: boolean} = {}): Promise<CheckoutResult> {
  if (opts.newBranch) checkRefName(opts.newBranch, 'branch')
  return repo.withDb(async (db) => {
    const {head, staged, baseRoot} = await readState(repo, db)
    const target = await resolveRevision(revisionSource(db), rev)
    const isBranch = !opts.newBranch && (await readRef(db, branchRef(rev))) !== undefined
    const dirty = staged.root !== baseRoot
    if (opts.newBranch && (await readRef(db, branchRef(opts.newBranch)))) {
      throw new RefExistsError(`branch '${opts.newBranch}' already exists`, {hint: `check it out with 'lake checkout ${opts.newBranch}'`})
    }
    // -b carries staged changes to the new branch when it starts where HEAD is.
    const carry = dirty && !!opts.newBranch && target === head.commit
    if (dirty && !carry && !opts.force) {
      throw new DirtyStateError('you have staged changes that are not committed', {
        hint: "commit them, carry them to a new branch with 'lake checkout HEAD -b NAME', or discard them with --force",
      })
    }
    const branch = opts.newBranch ?? (isBranch ? rev : null)
    const events: EventBody[] = []
    if (opts.newBranch) events.push({type: 'ref.set', ref: branchRef(opts.newBranch), commit: target, old: null})
    const root = carry ? staged.root : await commitRoot(repo, target)
    const from = head.branch ?? head.commit?.slice(0, 12) ?? '(none)'
    const to = branch ?? target.slice(0, 12)
    events.push({type: 'head.move', branch, commit: target, from: head.commit, root, carry, reason: `checkout: moving from ${from} to ${to}`})
    await appendEvents(db, events)
    return {head: target, branch, detached: branch === null}
  })
}

/** Discards staged changes (back to HEAD's root). */
export async function resetStaged(repo: Repo): Promise<void> {
  await repo.withDb(async (db) => {
    const {head, staged, baseRoot} = await readState(repo, db)
    if (staged.root === baseRoot) return
    await appendEvents(db, [{type: 'staged.reset', base: head.commit, root: baseRoot}])
  })
}
