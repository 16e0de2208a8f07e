// Staging a change without holding the dataset for long: read the staged state (short DB visit),
// write chunks and index pages (long, no lock), then append the stage event (short DB visit).
// If another process staged meanwhile, an append-only change is re-applied onto the new state;
// any other change is refused, and nothing is changed.
import type {Repo} from '../repo/repo.js'
import {appendEvents} from '../events/log.js'
import type {TensorChange} from '../events/records.js'
import {applyChangeset, ChangeBuilder, isAppendOnly, type Changeset} from '../dataset/changeset.js'
import type {VersionRoot} from '../dataset/version-root.js'
import {ConcurrentChangeError} from '../errors.js'
import {readState, requireBranch, type RepoState} from './state.js'
import {dropLease, releaseLease, takeLease} from './lease.js'

export interface StageResult {
  changes: TensorChange[]
  root: string
  staged: boolean
}

export async function stageChange(repo: Repo, action: string, build: (builder: ChangeBuilder) => Promise<void>): Promise<StageResult> {
  const before = await repo.withDb(async (db) => {
    const state = await readState(repo, db)
    requireBranch(state.head, actionVerb(action))
    return {...state, lease: await takeLease(db, action)}
  })
  try {
    return await stageUnderLease(repo, action, build, before)
  } catch (error) {
    await releaseLease(repo, before.lease)
    throw error
  }
}

async function stageUnderLease(repo: Repo, action: string, build: (builder: ChangeBuilder) => Promise<void>, before: RepoState & {lease: string}): Promise<StageResult> {
  const baseRoot = await repo.data.getRoot(before.staged.root)
  const builder = new ChangeBuilder(repo.data, baseRoot)
  await build(builder)
  const cs = await builder.finish()
  let applied = await applyChangeset(repo.data, baseRoot, cs)
  let rootId = await repo.data.putRoot(applied.root)
  // durable before the DB visit (appendEvents would flush too, holding the dataset meanwhile)
  await repo.objects.flush()
  return repo.withDb(async (db) => {
    const now = await readState(repo, db)
    requireBranch(now.head, actionVerb(action))
    if (now.staged.root !== before.staged.root || now.staged.base !== before.staged.base) {
      // Appends do not depend on positions, so they can land on whatever is staged now (even on a
      // new commit made meanwhile); updates and deletes name positions of the state they read.
      const nowRoot = await repo.data.getRoot(now.staged.root)
      if (!isAppendOnly(cs) || now.head.branch !== before.head.branch || tensorsChangedMeanwhile(cs, baseRoot, nowRoot)) {
        throw new ConcurrentChangeError(`another lake process changed the dataset while '${action}' ran; nothing was staged`, {hint: 'run the command again'})
      }
      applied = await applyChangeset(repo.data, nowRoot, cs)
      rootId = await repo.data.putRoot(applied.root)
    }
    const changed = rootId !== now.staged.root
    if (changed) {
      await appendEvents(db, [{type: 'stage', action, base: now.staged.base, root: rootId, changes: applied.changes, objects: cs.objects}])
    }
    await dropLease(db, before.lease)
    return {changes: applied.changes, root: rootId, staged: changed}
  })
}

/**
 * Appends re-apply only onto the tensors they were encoded for: a tensor gone meanwhile (its create
 * discarded by a reset or checkout), or whose meta changed meanwhile (class names learned by
 * another import, which this change's label indices and class names know nothing of), refuses it.
 */
function tensorsChangedMeanwhile(cs: Changeset, before: VersionRoot, now: VersionRoot): boolean {
  const touched = new Set([...cs.metas.keys(), ...cs.appends.keys(), ...cs.updates.keys(), ...cs.deletes.keys()])
  for (const name of touched) {
    const was = before.tensors[name]
    if (!was) continue // created by this change: applyChangeset checks a concurrent create's spec
    const is = now.tensors[name]
    if (!is || JSON.stringify(was.meta) !== JSON.stringify(is.meta)) return true
  }
  return false
}

/** 'samples.append' → 'append' for messages. */
const actionVerb = (action: string) => action.split('.').pop() ?? action
