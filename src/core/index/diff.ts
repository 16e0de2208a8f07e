// Diff of two indexes whose cost follows the change, not the size. Both trees are expanded level
// by level from the top; at every step a subtree whose hash occurs on both sides holds the same
// entries on both sides and is dropped unread. Only nodes that differ are read, and a change of k
// entries makes O(k) nodes differ per level. The entries of differing leaves are then matched by
// sample id. Requires sample ids to be unique within an index (the ids are random 64-bit).
import {loadChildren, loadNode, type LoadedChild} from './cache.js'
import {INNER_KIND, type IndexNode, type InnerNode, type LeafNode} from './node.js'
import type {NodeIO, NodeRef} from './types.js'

export interface IndexDiff {
  /** Positions in B of samples whose id is not in A. */
  added: number[]
  /** Positions in B of samples in both whose (chunk, offset, length, crc) changed. */
  updated: number[]
  /** Positions in A of samples whose id is not in B. */
  deleted: number[]
}

/** Nodes read together while expanding one level (see open). */
const READ_BATCH = 256

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

/** One side after opening the subtrees of one level. */
interface Opened {
  /** Subtrees of lower levels, not opened yet (the side's tree is taller, or they are leaves). */
  kept: Placed[]
  /** Inner nodes opened at this level, with the position of their first entry. */
  inner: {node: InnerNode; start: number}[]
}

/** Reads the subtrees at `level`; leaves go to `leaves`, inner nodes are returned to be split. */
async function open(io: NodeIO, frontier: Placed[], level: number, leaves: PlacedLeaf[]): Promise<Opened> {
  const kept: Placed[] = []
  const opened: Placed[] = []
  for (const p of frontier) (p.ref.level === level ? opened : kept).push(p)
  // read together (loadChildren: one store call, verified and decoded in one loop), not a promise
  // chain each; READ_BATCH at a time, which bounds the reads a remote store is asked for at once
  const refs = opened.filter(p => !p.node).map(p => p.ref)
  const loaded: LoadedChild[] = []
  for (let k = 0; k < refs.length; k += READ_BATCH) loaded.push(...(await loadChildren(io, refs.slice(k, k + READ_BATCH))))
  let r = 0
  const nodes = opened.map(p => {
    if (p.node) return p.node
    const {node, error} = loaded[r++]
    if (node === undefined) throw error
    return node
  })
  const inner: Opened['inner'] = []
  opened.forEach((p, i) => {
    const node = nodes[i]
    if (node.kind === INNER_KIND) inner.push({node, start: p.start})
    else leaves.push({leaf: node, start: p.start})
  })
  return {kept, inner}
}

/** Every subtree one side holds after opening a level, in position order, by hash. */
class Holdings {
  readonly hashes: string[] = []
  /** Per hash: index into `kept`, or -1 - index into `inner`. */
  private readonly owners: number[] = []
  /** Per hash held by an inner node: the child slot. */
  private readonly slots: number[] = []

  constructor(private readonly side: Opened) {
    // Kept subtrees are of lower levels than the opened ones: they come first only when the two
    // trees differ in height, where alignment is poor anyway and the hash sets below take over.
    side.kept.forEach((p, i) => {
      this.hashes.push(p.ref.hash)
      this.owners.push(i)
      this.slots.push(0)
    })
    side.inner.forEach(({node}, m) => {
      for (let k = 0; k < node.children.length; k++) {
        this.hashes.push(node.children[k])
        this.owners.push(-1 - m)
        this.slots.push(k)
      }
    })
  }

  placed(i: number): Placed {
    const owner = this.owners[i]
    if (owner >= 0) return this.side.kept[owner]
    const {node, start} = this.side.inner[-1 - owner]
    const k = this.slots[i]
    return {ref: node.childRef(k), start: start + node.startOf(k)}
  }
}

/** How far ahead a lost alignment is looked for (a deleted boundary merges a few nodes into one). */
const RESYNC_WINDOW = 4

/**
 * Drops the subtrees both sides hold and returns each side's next frontier. A changed inner node
 * shares almost all of its ~256 children with its counterpart, in the same order, so the two
 * sequences are walked side by side and equal hashes dropped pairwise, without hashing or an
 * object per child; only what does not line up is matched through hash sets. The outcome is the
 * same as matching everything by set: a hash occurs at most once on a side (its entries' ids are
 * unique in the tree), so a pair dropped in the walk could not have matched anything else.
 */
function unshared(a: Holdings, b: Holdings): [Placed[], Placed[]] {
  const [x, y] = [a.hashes, b.hashes]
  const restA: number[] = []
  const restB: number[] = []
  let i = 0
  let j = 0
  walk: while (i < x.length && j < y.length) {
    if (x[i] === y[j]) {
      i++
      j++
      continue
    }
    for (let d = 1; d <= RESYNC_WINDOW; d++) {
      if (i + d < x.length && x[i + d] === y[j]) {
        while (d-- > 0) restA.push(i++)
        continue walk
      }
      if (j + d < y.length && x[i] === y[j + d]) {
        while (d-- > 0) restB.push(j++)
        continue walk
      }
    }
    restA.push(i++)
    restB.push(j++)
  }
  while (i < x.length) restA.push(i++)
  while (j < y.length) restB.push(j++)
  const inA = new Set(restA.map(k => x[k]))
  const inB = new Set(restB.map(k => y[k]))
  return [restA.filter(k => !inB.has(x[k])).map(k => a.placed(k)), restB.filter(k => !inA.has(y[k])).map(k => b.placed(k))]
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

  /** At the first entry of a leaf: where that leaf starts. */
  get atLeafStart(): boolean {
    return this.j === 0
  }

  get leafStart(): number {
    return this.leaves[this.leafIndex].start
  }

  nextLeaf(): void {
    this.leafIndex++
    this.j = 0
    this.skipEmpty()
  }

  private skipEmpty(): void {
    while (this.leafIndex < this.leaves.length && this.j >= this.leaves[this.leafIndex].leaf.count) {
      this.leafIndex++
      this.j = 0
    }
  }
}

/**
 * Compares entry locations of two leaves. Chunks are compared by chunk-table slot through a map
 * made once per pair of leaves: the entries of a changed leaf are mostly unchanged, and comparing
 * their 64-character chunk hashes one by one was the larger part of matching them.
 */
class LocationMatcher {
  private x?: LeafNode
  private y?: LeafNode
  /** Slot in y's chunk table of each chunk of x's (-1: not in y). */
  private slots = new Int32Array(0)

  same(x: LeafNode, i: number, y: LeafNode, j: number): boolean {
    if (x.offsets[i] !== y.offsets[j] || x.lengths[i] !== y.lengths[j] || x.crcAt(i) !== y.crcAt(j)) return false
    if (x !== this.x || y !== this.y) {
      const inY = new Map(y.chunkTable.map((chunk, t) => [chunk, t]))
      this.slots = Int32Array.from(x.chunkTable, chunk => inY.get(chunk) ?? -1)
      this.x = x
      this.y = y
    }
    return this.slots[x.chunkOf[i]] === y.chunkOf[j]
  }
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
  const locations = new LocationMatcher()
  const matched = (x: Parked, y: Parked) => {
    if (!locations.same(x.leaf, x.j, y.leaf, y.j)) diff.updated.push(y.position)
  }
  const here = (c: EntryCursor): Parked => ({leaf: c.leaf, j: c.slot, position: c.position})
  while (!a.done || !b.done) {
    // Usually a changed leaf holds the same ids as its counterpart (its samples were updated):
    // one byte comparison of the id columns, then only the locations are compared.
    if (!a.done && !b.done && a.atLeafStart && b.atLeafStart && a.leaf.sameIds(b.leaf)) {
      const [x, y, start] = [a.leaf, b.leaf, b.leafStart]
      for (let j = 0; j < x.count; j++) if (!locations.same(x, j, y, j)) diff.updated.push(start + j)
      a.nextLeaf()
      b.nextLeaf()
      continue
    }
    if (!a.done && !b.done && a.leaf.sameIdAt(a.slot, b.leaf, b.slot)) {
      // the common case, taken for almost every entry: no objects made
      if (!locations.same(a.leaf, a.slot, b.leaf, b.slot)) diff.updated.push(b.position)
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
  // The roots differ (checked above); each round opens the highest level left on either side and
  // keeps, of what the opened nodes point at, only the subtrees the other side does not hold.
  while (a.length > 0 || b.length > 0) {
    const level = highestLevel(a, highestLevel(b, 0))
    const [openedA, openedB] = await Promise.all([open(io, a, level, leavesA), open(io, b, level, leavesB)])
    ;[a, b] = unshared(new Holdings(openedA), new Holdings(openedB))
  }
  matchEntries(leavesA, leavesB, diff)
  const byNumber = (x: number, y: number) => x - y
  diff.added.sort(byNumber)
  diff.updated.sort(byNumber)
  diff.deleted.sort(byNumber)
  return diff
}
