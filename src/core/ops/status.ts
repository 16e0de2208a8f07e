// What is staged relative to HEAD: a diff of the two version roots that walks only the index pages
// that differ (cost follows the change).
import type {Repo} from '../repo/repo.js'
import type {VersionRoot} from '../dataset/version-root.js'
import {diffIndexes} from '../index/index.js'
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

export async function diffRoots(repo: Repo, a: VersionRoot, b: VersionRoot) {
  const names = [...new Set([...Object.keys(a.tensors), ...Object.keys(b.tensors)])].sort()
  const out: {name: string; status: 'added' | 'removed' | 'modified'; added: number[]; updated: number[]; deleted: number[]; metaChanged: boolean}[] = []
  for (const name of names) {
    const ta = a.tensors[name]
    const tb = b.tensors[name]
    if (!ta) {
      out.push({name, status: 'added', added: range(tb.length), updated: [], deleted: [], metaChanged: false})
    } else if (!tb) {
      out.push({name, status: 'removed', added: [], updated: [], deleted: range(ta.length), metaChanged: false})
    } else {
      const metaChanged = JSON.stringify(ta.meta) !== JSON.stringify(tb.meta)
      if (ta.index === tb.index && !metaChanged) continue
      const d = ta.index === tb.index ? {added: [], updated: [], deleted: []} : await diffIndexes(repo.data.nodes, ta.index, tb.index)
      out.push({name, status: 'modified', ...d, metaChanged})
    }
  }
  return out
}

const range = (n: number) => Array.from({length: n}, (_, i) => i)

export async function status(repo: Repo): Promise<StatusResult> {
  const state = await repo.withDb((db) => readState(repo, db))
  const {head, staged, baseRoot} = state
  const changes: TensorStatus[] = []
  if (staged.root !== baseRoot) {
    const diff = await diffRoots(repo, await repo.data.getRoot(baseRoot), await repo.data.getRoot(staged.root))
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
