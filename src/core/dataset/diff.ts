// Comparing two version roots tensor by tensor. Equal index roots are skipped outright; differing
// ones are walked by diffIndexes, which reads only the index pages that differ, so the cost
// follows the change, not the dataset.
import {diffIndexes} from '../index/index.js'
import type {DataStore} from './store.js'
import type {VersionRoot} from './version-root.js'

export interface TensorDiff {
  name: string
  status: 'added' | 'removed' | 'modified'
  /** Positions in B of samples whose id is not in A (sorted). */
  added: number[]
  /** Positions in B of samples present in both whose bytes changed (sorted). */
  updated: number[]
  /** Positions in A of samples whose id is not in B (sorted). */
  deleted: number[]
  /** htype/dtype/class names/other meta changed. */
  metaChanged: boolean
  /** Lengths in A and B. */
  lengthA: number
  lengthB: number
}

export async function diffRoots(data: DataStore, a: VersionRoot, b: VersionRoot): Promise<TensorDiff[]> {
  const names = [...new Set([...Object.keys(a.tensors), ...Object.keys(b.tensors)])].sort()
  const out: TensorDiff[] = []
  for (const name of names) {
    const ta = a.tensors[name]
    const tb = b.tensors[name]
    if (!ta) {
      out.push({name, status: 'added', added: range(0, tb.length), updated: [], deleted: [], metaChanged: false, lengthA: 0, lengthB: tb.length})
    } else if (!tb) {
      out.push({name, status: 'removed', added: [], updated: [], deleted: range(0, ta.length), metaChanged: false, lengthA: ta.length, lengthB: 0})
    } else {
      const metaChanged = JSON.stringify(ta.meta) !== JSON.stringify(tb.meta)
      if (ta.index === tb.index && !metaChanged) continue
      const d = ta.index === tb.index ? {added: [], updated: [], deleted: []} : await diffIndexes(data.nodes, ta.index, tb.index)
      out.push({name, status: 'modified', ...d, metaChanged, lengthA: ta.length, lengthB: tb.length})
    }
  }
  return out
}

const range = (start: number, end: number) => Array.from({length: end - start}, (_, i) => start + i)

/** Sorted positions → half-open ranges: [0,1,2,5] → [[0,3],[5,6]]. */
export function toRanges(positions: number[]): [number, number][] {
  const out: [number, number][] = []
  for (const p of positions) {
    const last = out[out.length - 1]
    if (last && last[1] === p) last[1] = p + 1
    else out.push([p, p + 1])
  }
  return out
}

/**
 * Samples never change relative order (edits delete, update in place and append; merges keep
 * ours' order), so the k-th sample of B that is not added is the k-th sample of A that is not
 * deleted. This maps B positions to A positions from the diff alone.
 */
export function positionMapBtoA(d: {added: number[]; deleted: number[]}): (b: number) => number {
  return (b: number) => {
    const k = b - countBelow(d.added, b)
    // The k-th (0-based) position of A not in `deleted`.
    let lo = k
    let hi = k + d.deleted.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (mid - countBelow(d.deleted, mid + 1) >= k) hi = mid
      else lo = mid + 1
    }
    return lo
  }
}

/** Number of sorted values < x. */
export function countBelow(sorted: number[], x: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid] < x) lo = mid + 1
    else hi = mid
  }
  return lo
}
