// Reading an index: positions are implicit, so entry i is found by descending on the subtree
// counts of inner nodes: one node read per level (~3 for 1M entries at default params).
import {IndexOutOfRangeError} from '../errors.js'
import {cachedChild, cachedNode, loadChild, loadChildren, loadNode} from './cache.js'
import {INNER_KIND, type IndexNode, type LeafNode} from './node.js'
import type {IndexEntry, NodeIO, NodeRef} from './types.js'

/** Child nodes fetched ahead of the one being read during a range scan (per level). */
const READ_AHEAD = 8
/** Leaves read together by a range scan (a level-1 node has ~256). */
const LEAF_BATCH = 64

export async function indexLength(io: NodeIO, root: string): Promise<number> {
  return (await loadNode(io, root)).count
}

function outOfRange(what: string, length: number): IndexOutOfRangeError {
  return new IndexOutOfRangeError(`${what} is out of range for an index of ${length} samples`, {data: {length}})
}

/** Entry at position i: O(depth) node reads. */
export async function getEntry(io: NodeIO, root: string, i: number): Promise<IndexEntry> {
  let node = cachedNode(io, root) ?? (await loadNode(io, root))
  if (!Number.isSafeInteger(i) || i < 0 || i >= node.count) throw outOfRange(`sample index ${i}`, node.count)
  while (node.kind === INNER_KIND) {
    const k = node.childIndexOf(i)
    i -= node.startOf(k)
    const ref = node.childRef(k)
    node = cachedChild(io, ref) ?? (await loadChild(io, ref))
  }
  return node.entryAt(i)
}

function checkRange(node: IndexNode, start: number, end: number): void {
  const valid = Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end <= node.count
  if (!valid) throw outOfRange(`range [${start}, ${end})`, node.count)
}

/** Entries [start, end) in order, reading only the nodes that hold them (with some read-ahead). */
export async function* readEntries(io: NodeIO, root: string, start: number, end: number): AsyncGenerator<IndexEntry> {
  for await (const batch of readEntryBatches(io, root, start, end)) yield* batch
}

/** Positions [from, to) of one leaf. */
export interface LeafSlice {
  leaf: LeafNode
  from: number
  to: number
}

/**
 * Entries [start, end) in order, one array per leaf: a scan without a promise per entry (a 1M
 * entry scan is ~10x faster than readEntries).
 */
export async function* readEntryBatches(io: NodeIO, root: string, start: number, end: number): AsyncGenerator<IndexEntry[]> {
  for await (const {leaf, from, to} of readLeafSlices(io, root, start, end)) {
    const batch = new Array<IndexEntry>(to - from)
    for (let j = from; j < to; j++) batch[j - from] = leaf.entryAt(j)
    yield batch
  }
}

/**
 * The leaves holding entries [start, end), in order, each with the positions in it that are in
 * range: the cheapest scan, for readers that use a leaf's columns (chunk, offset, length, crc)
 * without making an entry object, or a BigInt id, per sample.
 */
export async function* readLeafSlices(io: NodeIO, root: string, start: number, end: number): AsyncGenerator<LeafSlice> {
  for await (const batch of readLeafSliceBatches(io, root, start, end)) yield* batch
}

/**
 * readLeafSlices a batch at a time: the leaves read together (up to LEAF_BATCH), so a reader
 * awaits once per batch, not once per leaf (in a fresh process each await through the generators
 * of a scan costs microseconds, and a 20k-row column has ~80 leaves). A leaf that cannot be read
 * ends its batch early and is thrown at the next step, so a scan still fails where it gets to it.
 */
export async function* readLeafSliceBatches(io: NodeIO, root: string, start: number, end: number): AsyncGenerator<LeafSlice[]> {
  const node = await loadNode(io, root)
  checkRange(node, start, end)
  if (start < end) yield* walkRange(io, node, start, end)
}

/** start and end are relative to `node` and lie within it. */
async function* walkRange(io: NodeIO, node: IndexNode, start: number, end: number): AsyncGenerator<LeafSlice[]> {
  if (node.kind !== INNER_KIND) {
    yield [{leaf: node, from: start, to: end}]
    return
  }
  const first = node.childIndexOf(start)
  const last = node.childIndexOf(end - 1)
  if (node.level === 1) {
    // leaves: read LEAF_BATCH at a time, together (loadChildren)
    for (let k0 = first; k0 <= last; k0 += LEAF_BATCH) {
      const refs: NodeRef[] = []
      for (let k = k0; k <= Math.min(last, k0 + LEAF_BATCH - 1); k++) refs.push(node.childRef(k))
      const loaded = await loadChildren(io, refs)
      const batch: LeafSlice[] = []
      for (let i = 0; i < loaded.length; i++) {
        const {node: leaf, error} = loaded[i]
        if (leaf === undefined) {
          if (batch.length > 0) yield batch
          throw error
        }
        const offset = node.startOf(k0 + i)
        batch.push({leaf: leaf as LeafNode, from: Math.max(start - offset, 0), to: Math.min(end - offset, leaf.count)})
      }
      yield batch
    }
    return
  }
  const loads: (Promise<IndexNode> | undefined)[] = []
  let next = first
  for (let k = first; k <= last; k++) {
    while (next <= last && next <= k + READ_AHEAD) {
      const load = loadChild(io, node.childRef(next++))
      // A consumer that stops early never awaits the read-ahead; its failure must not go unhandled.
      load.catch(() => {})
      loads.push(load)
    }
    const child = (await loads[k - first])!
    loads[k - first] = undefined // let a long scan drop the nodes it has read
    const offset = node.startOf(k)
    yield* walkRange(io, child, Math.max(start - offset, 0), Math.min(end - offset, child.count))
  }
}

export async function getEntries(io: NodeIO, root: string, start: number, end: number): Promise<IndexEntry[]> {
  const out: IndexEntry[] = []
  for await (const batch of readEntryBatches(io, root, start, end)) for (const entry of batch) out.push(entry)
  return out
}

/**
 * Positions of the given sample ids. A full scan, O(n) entries (ids are random, so no key order
 * can narrow the search); stops early once every id is found. Ids not present are left out.
 */
export async function findPositionsById(io: NodeIO, root: string, ids: Set<bigint>): Promise<Map<bigint, number>> {
  const found = new Map<bigint, number>()
  if (ids.size === 0) return found
  let position = 0
  scan: for await (const batch of readEntryBatches(io, root, 0, await indexLength(io, root))) {
    for (const entry of batch) {
      if (ids.has(entry.id) && !found.has(entry.id)) {
        found.set(entry.id, position)
        if (found.size === ids.size) break scan
      }
      position++
    }
  }
  return found
}
