// Diff of two indexes whose cost follows the change, not the size. Both trees are expanded level
// by level from the top; at every step a subtree whose hash occurs on both sides holds the same
// entries on both sides and is dropped unread. Only nodes that differ are read, and a change of k
// entries makes O(k) nodes differ per level. The entries of differing leaves are then matched by
// sample id. Requires sample ids to be unique within an index (the ids are random 64-bit).
import {loadChild, loadNode} from './cache.js'
import {INNER_KIND, type IndexNode, type LeafNode} from './node.js'
import type {NodeIO, NodeRef} from './types.js'

export interface IndexDiff {
  /** Positions in B of samples whose id is not in A. */
  added: number[]
  /** Positions in B of samples in both whose (chunk, offset, length, crc) changed. */
  updated: number[]
  /** Positions in A of samples whose id is not in B. */
  deleted: number[]
}

/** Reads in flight while expanding one level (object stores reward parallel reads). */
const PARALLEL_READS = 16

interface Placed {
  ref: NodeRef
  /** Position of the subtree's first entry in its tree. */
  start: number
  /** Already read (the roots). */
  node?: IndexNode
}

interface PlacedLeaf {
  leaf: LeafNode
  start: number
}

/** An entry waiting for its partner on the other side. */
interface Parked {
  leaf: LeafNode
  j: number
  position: number
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i])
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return results
}

/** Replaces the subtrees at `level` by their children; leaves go to `leaves` instead. */
async function expand(io: NodeIO, frontier: Placed[], level: number, leaves: PlacedLeaf[]): Promise<Placed[]> {
  const kept = frontier.filter(p => p.ref.level !== level)
  const opened = frontier.filter(p => p.ref.level === level)
  const nodes = await mapLimited(opened, PARALLEL_READS, p => (p.node ? Promise.resolve(p.node) : loadChild(io, p.ref)))
  opened.forEach((p, i) => {
    const node = nodes[i]
    if (node.kind === INNER_KIND) {
      for (let k = 0; k < node.children.length; k++) kept.push({ref: node.childRef(k), start: p.start + node.startOf(k)})
    } else {
      leaves.push({leaf: node, start: p.start})
    }
  })
  return kept
}

function dropShared(a: Placed[], b: Placed[]): [Placed[], Placed[]] {
  const inA = new Set(a.map(p => p.ref.hash))
  const inB = new Set(b.map(p => p.ref.hash))
  return [a.filter(p => !inB.has(p.ref.hash)), b.filter(p => !inA.has(p.ref.hash))]
}

/** The differing leaves of one side as one sequence of entries in position order. */
class EntryCursor {
  private leafIndex = 0
  private j = 0

  constructor(private readonly leaves: PlacedLeaf[]) {
    leaves.sort((x, y) => x.start - y.start)
    this.skipEmpty()
  }

  get done(): boolean {
    return this.leafIndex >= this.leaves.length
  }

  get leaf(): LeafNode {
    return this.leaves[this.leafIndex].leaf
  }

  get slot(): number {
    return this.j
  }

  get position(): number {
    return this.leaves[this.leafIndex].start + this.j
  }

  next(): void {
    this.j++
    this.skipEmpty()
  }

  private skipEmpty(): void {
    while (this.leafIndex < this.leaves.length && this.j >= this.leaves[this.leafIndex].leaf.count) {
      this.leafIndex++
      this.j = 0
    }
  }
}

function sameLocation(x: LeafNode, i: number, y: LeafNode, j: number): boolean {
  return x.offsets[i] === y.offsets[j] && x.lengths[i] === y.lengths[j] && x.crcAt(i) === y.crcAt(j) && x.chunkAt(i) === y.chunkAt(j)
}

/**
 * Matches the entries of differing leaves by id. Both sides are walked in order, so the common
 * case (ids in the same order, a few deleted, added or updated) needs no lookup at all; an entry
 * that does not line up is parked in a map until its partner turns up, which keeps the maps as
 * small as the change while staying correct for any reordering.
 */
function matchEntries(leavesA: PlacedLeaf[], leavesB: PlacedLeaf[], diff: IndexDiff): void {
  const a = new EntryCursor(leavesA)
  const b = new EntryCursor(leavesB)
  const parkedA = new Map<bigint, Parked>()
  const parkedB = new Map<bigint, Parked>()
  const matched = (x: Parked, y: Parked) => {
    if (!sameLocation(x.leaf, x.j, y.leaf, y.j)) diff.updated.push(y.position)
  }
  const here = (c: EntryCursor): Parked => ({leaf: c.leaf, j: c.slot, position: c.position})
  while (!a.done || !b.done) {
    if (!a.done && !b.done && a.leaf.sameIdAt(a.slot, b.leaf, b.slot)) {
      matched(here(a), here(b))
      a.next()
      b.next()
      continue
    }
    const idB = b.done ? undefined : b.leaf.idAt(b.slot)
    const partnerOfB = idB === undefined ? undefined : parkedA.get(idB)
    if (partnerOfB) {
      parkedA.delete(idB!)
      matched(partnerOfB, here(b))
      b.next()
      continue
    }
    const idA = a.done ? undefined : a.leaf.idAt(a.slot)
    const partnerOfA = idA === undefined ? undefined : parkedB.get(idA)
    if (partnerOfA) {
      parkedB.delete(idA!)
      matched(here(a), partnerOfA)
      a.next()
      continue
    }
    if (idA !== undefined) {
      parkedA.set(idA, here(a))
      a.next()
    }
    if (idB !== undefined) {
      parkedB.set(idB, here(b))
      b.next()
    }
  }
  for (const {position} of parkedA.values()) diff.deleted.push(position)
  for (const {position} of parkedB.values()) diff.added.push(position)
}

// A loop, not Math.max(...spread): a frontier can hold more items than a call has arguments.
function highestLevel(frontier: Placed[], floor: number): number {
  let level = floor
  for (const p of frontier) if (p.ref.level > level) level = p.ref.level
  return level
}

export async function diffIndexes(io: NodeIO, rootA: string, rootB: string): Promise<IndexDiff> {
  const diff: IndexDiff = {added: [], updated: [], deleted: []}
  if (rootA === rootB) return diff
  const [nodeA, nodeB] = await Promise.all([loadNode(io, rootA), loadNode(io, rootB)])
  const place = (node: IndexNode, hash: string): Placed => ({ref: {hash, level: node.level, count: node.count, lastId: 0n}, start: 0, node})
  let a = [place(nodeA, rootA)]
  let b = [place(nodeB, rootB)]
  const leavesA: PlacedLeaf[] = []
  const leavesB: PlacedLeaf[] = []
  for (;;) {
    ;[a, b] = dropShared(a, b)
    if (a.length === 0 && b.length === 0) break
    const level = highestLevel(a, highestLevel(b, 0))
    ;[a, b] = await Promise.all([expand(io, a, level, leavesA), expand(io, b, level, leavesB)])
  }
  matchEntries(leavesA, leavesB, diff)
  const byNumber = (x: number, y: number) => x - y
  diff.added.sort(byNumber)
  diff.updated.sort(byNumber)
  diff.deleted.sort(byNumber)
  return diff
}
