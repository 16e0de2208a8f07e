// Editing an index without rebuilding it. The old tree is walked in order and fed to the same
// builder a fresh build uses; a subtree with no edit in it is handed over whole (by hash, unread)
// whenever the builder is at a boundary of that subtree's level. Since boundaries depend only on
// ids, the builder then makes exactly the nodes a fresh build would, and k edits cost
// O(k * depth) node reads and writes: the paths to the edits, one extra path where deleting a
// boundary entry merges a node into its right neighbour, and the right spine for appends.
import {IndexOutOfRangeError} from '../errors.js'
import {endsNodeAt, mixZeros, mixZerosOfHalves} from './boundary.js'
import {TreeBuilder, type IndexRoot} from './builder.js'
import {loadChild, loadNode} from './cache.js'
import {INNER_KIND, refOf, type IndexNode} from './node.js'
import {resolveParams, type IndexEntry, type NodeIO, type NodeRef, type TreeParams} from './types.js'

export interface IndexEdits {
  /** New location of the sample at an old position; the sample keeps its id. */
  updates?: Map<number, Omit<IndexEntry, 'id'>>
  /** Old positions to remove (later samples move up). A deleted position's update is ignored. */
  deletes?: Iterable<number>
  /** Entries added after the last old one, in order. */
  appends?: Iterable<IndexEntry>
}

/** Index of the first value >= x in an ascending array. */
function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid] < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Sorted old positions that an update or delete touches, to test a subtree's range quickly. */
class TouchedPositions {
  private readonly sorted: number[]

  constructor(positions: Iterable<number>) {
    this.sorted = [...new Set(positions)].sort((a, b) => a - b)
  }

  /** Is any touched position in [start, end)? */
  within(start: number, end: number): boolean {
    const i = lowerBound(this.sorted, start)
    return i < this.sorted.length && this.sorted[i] < end
  }
}

function checkPosition(position: number, length: number, what: string): void {
  if (!Number.isSafeInteger(position) || position < 0 || position >= length) {
    throw new IndexOutOfRangeError(`${what} of sample ${position} is out of range for an index of ${length} samples`, {data: {position, length}})
  }
}

/** Applies `edits` (positions of the old tree) and returns the new root: the root buildIndex would give. */
export async function editIndex(io: NodeIO, root: string, edits: IndexEdits, params?: Partial<TreeParams>): Promise<IndexRoot> {
  const resolved = resolveParams(params)
  const rootNode = await loadNode(io, root)
  const length = rootNode.count
  const updates = edits.updates ?? new Map<number, Omit<IndexEntry, 'id'>>()
  const deletes = new Set<number>()
  for (const position of edits.deletes ?? []) {
    checkPosition(position, length, 'delete')
    deletes.add(position)
  }
  for (const position of updates.keys()) checkPosition(position, length, 'update')
  const appends = edits.appends ?? []
  const touched = new TouchedPositions([...updates.keys(), ...deletes])
  const deleted = new TouchedPositions(deletes)
  const updatePositions = [...updates.keys()].sort((a, b) => a - b)
  /** The updates of the leaf at [start, start + count), as [slot, location] in slot order. */
  const updatesWithin = (start: number, count: number): [number, Omit<IndexEntry, 'id'>][] => {
    const out: [number, Omit<IndexEntry, 'id'>][] = []
    for (let i = lowerBound(updatePositions, start); i < updatePositions.length && updatePositions[i] < start + count; i++) {
      out.push([updatePositions[i] - start, updates.get(updatePositions[i])!])
    }
    return out
  }
  const builder = new TreeBuilder(io, resolved)
  const appendIterator = appends[Symbol.iterator]()
  const firstAppend = appendIterator.next()
  const hasAppends = !firstAppend.done

  // A subtree can be reused when nothing in it changes, the builder is at a boundary of its level,
  // and it ends at such a boundary too (or nothing at all follows it).
  const visit = async (ref: NodeRef, start: number, isTail: boolean, loaded?: IndexNode): Promise<void> => {
    const untouched = !touched.within(start, start + ref.count)
    if (untouched && builder.isEmptyThrough(ref.level)) {
      const closed = endsNodeAt(resolved, mixZeros(ref.lastId), ref.level)
      if (closed || (isTail && !hasAppends)) {
        const wait = builder.addNode(ref)
        if (wait) await wait
        return
      }
    }
    const node = loaded ?? (await loadChild(io, ref))
    if (node.kind === INNER_KIND) {
      // Children with an edit in them are always read: fetch them together, not one round trip
      // after another (the walk itself must stay in order).
      const prefetched = node.children.map((_, k) => {
        const childStart = start + node.startOf(k)
        if (!touched.within(childStart, childStart + node.counts[k])) return undefined
        const load = loadChild(io, node.childRef(k))
        load.catch(() => {}) // awaited below; an earlier failure must not leave it unhandled
        return load
      })
      const last = node.children.length - 1
      for (let k = 0; k <= last; k++) {
        const child = prefetched[k] ? await prefetched[k] : undefined
        await visit(node.childRef(k), start + node.startOf(k), isTail && k === last, child)
      }
      return
    }
    // A leaf with updates only keeps its ids and so its boundaries: when the builder is at a leaf
    // boundary and the leaf closes (ends at one, or ends the tree), its updated copy is the leaf
    // add() would make, without an entry object per entry.
    const [lo, hi] = node.count > 0 ? node.idHalvesAt(node.count - 1) : [0, 0]
    const closes = endsNodeAt(resolved, mixZerosOfHalves(lo, hi), 0) || (isTail && !hasAppends)
    if (closes && builder.isEmptyThrough(0) && !deleted.within(start, start + node.count)) {
      const wait = builder.addLeaf(node.withLocations(updatesWithin(start, node.count)))
      if (wait) await wait
      return
    }
    for (let j = 0; j < node.count; j++) {
      const position = start + j
      if (deletes.has(position)) continue
      const update = updates.get(position)
      const entry = update ? {id: node.idAt(j), chunk: update.chunk, offset: update.offset, length: update.length, crc: update.crc} : node.entryAt(j)
      const wait = builder.add(entry)
      if (wait) await wait
    }
  }

  if (length > 0) await visit(refOf(rootNode, root), 0, true, rootNode)
  for (let next = firstAppend; !next.done; next = appendIterator.next()) {
    const wait = builder.add(next.value)
    if (wait) await wait
  }
  return builder.finish()
}
