// What is staged relative to HEAD: a diff of the two version roots that walks only the index pages
// that differ (cost follows the change).
import type {Repo} from '../repo/repo.js'
import {diffRoots} from '../dataset/diff.js'
import {readState} from './state.js'

export interface TensorStatus {
  tensor: string
  added: number
  updated: number
  deleted: number
  created?: boolean
  removed?: boolean
}

export interface StatusResult {
  branch: string | null
  head: string | null
  detached: boolean
  changes: TensorStatus[]
  clean: boolean
}

export async function status(repo: Repo): Promise<StatusResult> {
  const state = await repo.withDb((db) => readState(repo, db))
  const {head, staged, baseRoot} = state
  const changes: TensorStatus[] = []
  if (staged.root !== baseRoot) {
    const diff = await diffRoots(repo.data, await repo.data.getRoot(baseRoot), await repo.data.getRoot(staged.root))
    for (const d of diff) {
      changes.push({
        tensor: d.name,
        added: d.added.length,
        updated: d.updated.length,
        deleted: d.deleted.length,
        ...(d.status === 'added' ? {created: true} : {}),
        ...(d.status === 'removed' ? {removed: true} : {}),
      })
    }
  }
  return {branch: head.branch, head: head.commit, detached: head.branch === null, changes, clean: staged.root === baseRoot}
}
