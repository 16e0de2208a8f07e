// Tree nodes as values, and their one encoding (see FORMAT in the module's report / docs/FORMAT.md).
// Leaves are columnar so that ~256 entries cost ~20 bytes each and decode without per-entry
// objects; an entry object is only made when a caller asks for one.
import {encode} from '../codec.js'
import {InvalidValueError} from '../errors.js'
import {isHash} from '../hash.js'
import type {IndexEntry, NodeRef} from './types.js'

export const INDEX_NODE_VERSION = 1
/** Kinds of decoded nodes in memory. */
export const LEAF_KIND = 'leaf'
export const INNER_KIND = 'inner'
/** The `kind` tags on disk: like every object of the project, a node says what it is first. */
export const LEAF_TAG = 'index-leaf'
export const INNER_TAG = 'index-inner'

const MAX_U64 = (1n << 64n) - 1n

/** Bytes per chunk-table index in a leaf: the narrowest that can address `tableSize` chunks. */
export function chunkIndexWidth(tableSize: number): 1 | 2 | 4 {
  return tableSize <= 0x100 ? 1 : tableSize <= 0x10000 ? 2 : 4
}

/**
 * A leaf's byte offsets or lengths: a Uint32Array as read from disk (leaf-wire.ts, values below
 * 2^32), plain numbers when built in memory or decoded generically.
 */
export type LeafNumbers = number[] | Uint32Array

export class LeafNode {
  readonly kind = LEAF_KIND
  readonly level = 0
  readonly count: number
  private readonly idView: DataView
  private readonly crcView: DataView

  /** Fields are trusted: decodeNode and fromEntries validate them. */
  constructor(
    readonly ids: Uint8Array,
    readonly chunkTable: string[],
    /** Per entry, its chunk's place in chunkTable (as read: one byte each when the table is ≤ 256). */
    readonly chunkOf: Uint8Array | Uint32Array,
    readonly offsets: LeafNumbers,
    readonly lengths: LeafNumbers,
    readonly crcs: Uint8Array,
  ) {
    this.count = ids.length / 8
    this.idView = new DataView(ids.buffer, ids.byteOffset, ids.byteLength)
    this.crcView = new DataView(crcs.buffer, crcs.byteOffset, crcs.byteLength)
  }

  static fromEntries(entries: readonly IndexEntry[]): LeafNode {
    const n = entries.length
    const ids = new Uint8Array(8 * n)
    const idView = new DataView(ids.buffer)
    const crcs = new Uint8Array(4 * n)
    const crcView = new DataView(crcs.buffer)
    const tableIndex = new Map<string, number>()
    const chunkTable: string[] = []
    const chunkOf = new Uint32Array(n)
    const offsets = new Array<number>(n)
    const lengths = new Array<number>(n)
    let lastChunk: string | undefined
    let lastT = 0
    for (let j = 0; j < n; j++) {
      const e = entries[j]
      idView.setBigUint64(8 * j, e.id, true)
      // Neighbours usually share a chunk: a string compare is cheaper than a map lookup.
      let t = e.chunk === lastChunk ? lastT : tableIndex.get(e.chunk)
      if (t === undefined) {
        checkChunkHash(e.chunk)
        t = chunkTable.length
        tableIndex.set(e.chunk, t)
        chunkTable.push(e.chunk)
      }
      chunkOf[j] = t
      lastChunk = e.chunk
      lastT = t
      offsets[j] = e.offset
      lengths[j] = e.length
      crcView.setUint32(4 * j, e.crc, true)
    }
    return new LeafNode(ids, chunkTable, chunkOf, offsets, lengths, crcs)
  }

  /**
   * This leaf with the locations of some entries replaced (ids, and so boundaries, unchanged):
   * what fromEntries would make of the updated entries, without an entry object per entry.
   * `updates` are [slot, location] pairs in ascending slot order.
   */
  withLocations(updates: readonly [number, Omit<IndexEntry, 'id'>][]): LeafNode {
    const n = this.count
    // plain numbers: an updated location may not fit a Uint32Array (checkEntry allows any byte count)
    const offsets = Array.from(this.offsets)
    const lengths = Array.from(this.lengths)
    // a copy (a Buffer's slice would be a view of this leaf's bytes); ids are shared, unchanged
    const crcs = new Uint8Array(this.crcs)
    const crcView = new DataView(crcs.buffer)
    const chunkOf = new Uint32Array(n)
    const chunkTable: string[] = []
    const tableIndex = new Map<string, number>()
    let u = 0
    let lastChunk: string | undefined
    let lastT = 0
    for (let j = 0; j < n; j++) {
      let chunk: string
      if (u < updates.length && updates[u][0] === j) {
        const loc = updates[u++][1]
        checkEntry({...loc, id: this.idAt(j)})
        chunk = loc.chunk
        offsets[j] = loc.offset
        lengths[j] = loc.length
        crcView.setUint32(4 * j, loc.crc, true)
      } else {
        chunk = this.chunkTable[this.chunkOf[j]]
      }
      // Slots are numbered by first appearance, as fromEntries numbers them.
      let t = chunk === lastChunk ? lastT : tableIndex.get(chunk)
      if (t === undefined) {
        checkChunkHash(chunk)
        t = chunkTable.length
        tableIndex.set(chunk, t)
        chunkTable.push(chunk)
      }
      chunkOf[j] = t
      lastChunk = chunk
      lastT = t
    }
    if (u !== updates.length) throw new Error('internal: leaf updates out of order or out of range')
    return new LeafNode(this.ids, chunkTable, chunkOf, offsets, lengths, crcs)
  }

  idAt(j: number): bigint {
    return this.idView.getBigUint64(8 * j, true)
  }

  /** Low and high 32-bit halves of id j, for boundary checks without BigInt arithmetic. */
  idHalvesAt(j: number): [number, number] {
    return [this.idView.getUint32(8 * j, true), this.idView.getUint32(8 * j + 4, true)]
  }

  /** Does `other` hold the same ids in the same order? One comparison of the id columns. */
  sameIds(other: LeafNode): boolean {
    return this.count === other.count && Buffer.from(this.ids.buffer, this.ids.byteOffset, this.ids.byteLength).equals(other.ids)
  }

  /** Is id j of this leaf id k of `other`? Compares bytes, so no BigInt is made. */
  sameIdAt(j: number, other: LeafNode, k: number): boolean {
    return this.idView.getUint32(8 * j, true) === other.idView.getUint32(8 * k, true) && this.idView.getUint32(8 * j + 4, true) === other.idView.getUint32(8 * k + 4, true)
  }

  chunkAt(j: number): string {
    return this.chunkTable[this.chunkOf[j]]
  }

  crcAt(j: number): number {
    return this.crcView.getUint32(4 * j, true)
  }

  entryAt(j: number): IndexEntry {
    return {
      id: this.idAt(j),
      chunk: this.chunkTable[this.chunkOf[j]],
      offset: this.offsets[j],
      length: this.lengths[j],
      crc: this.crcView.getUint32(4 * j, true),
    }
  }

  /** Rough decoded size, for the cache's byte budget. */
  get sizeEstimate(): number {
    return 256 + this.count * 48 + this.chunkTable.length * 80
  }
}

export class InnerNode {
  readonly kind = INNER_KIND
  /** starts[k] = entries before child k; starts[children.length] = total. */
  private readonly starts: Float64Array
  private readonly lastIdView: DataView

  constructor(
    readonly level: number,
    readonly children: string[],
    readonly counts: number[],
    readonly lastIds: Uint8Array,
  ) {
    this.starts = new Float64Array(children.length + 1)
    for (let k = 0; k < counts.length; k++) this.starts[k + 1] = this.starts[k] + counts[k]
    this.lastIdView = new DataView(lastIds.buffer, lastIds.byteOffset, lastIds.byteLength)
  }

  static fromRefs(level: number, refs: readonly NodeRef[]): InnerNode {
    const lastIds = new Uint8Array(8 * refs.length)
    const view = new DataView(lastIds.buffer)
    refs.forEach((r, k) => view.setBigUint64(8 * k, r.lastId, true))
    return new InnerNode(level, refs.map(r => r.hash), refs.map(r => r.count), lastIds)
  }

  get count(): number {
    return this.starts[this.children.length]
  }

  get lastId(): bigint {
    return this.lastIdAt(this.children.length - 1)
  }

  lastIdAt(k: number): bigint {
    return this.lastIdView.getBigUint64(8 * k, true)
  }

  startOf(k: number): number {
    return this.starts[k]
  }

  /** The child holding entry i (0 <= i < count): binary search over the prefix counts. */
  childIndexOf(i: number): number {
    let lo = 0
    let hi = this.children.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (this.starts[mid] <= i) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  childRef(k: number): NodeRef {
    return {hash: this.children[k], level: this.level - 1, count: this.counts[k], lastId: this.lastIdAt(k)}
  }

  get sizeEstimate(): number {
    return 256 + this.children.length * 120
  }
}

export type IndexNode = LeafNode | InnerNode

/** The id of a node's last entry (0n for the empty leaf, which is only ever a root, never a child). */
export function lastIdOf(node: IndexNode): bigint {
  if (node.kind === INNER_KIND) return node.lastId
  return node.count === 0 ? 0n : node.idAt(node.count - 1)
}

export function refOf(node: IndexNode, hash: string): NodeRef {
  const onlyChild = node.kind === INNER_KIND && node.children.length === 1 ? node.childRef(0) : null
  return {hash, level: node.level, count: node.count, lastId: lastIdOf(node), onlyChild}
}

export function encodeNode(node: IndexNode): Uint8Array {
  if (node.kind === LEAF_KIND) {
    const width = chunkIndexWidth(node.chunkTable.length)
    const chunkOf = new Uint8Array(width * node.count)
    const view = new DataView(chunkOf.buffer)
    for (let j = 0; j < node.count; j++) {
      if (width === 1) chunkOf[j] = node.chunkOf[j]
      else if (width === 2) view.setUint16(2 * j, node.chunkOf[j], true)
      else view.setUint32(4 * j, node.chunkOf[j], true)
    }
    return encode({
      kind: LEAF_TAG,
      v: INDEX_NODE_VERSION,
      ids: node.ids,
      chunks: Buffer.from(node.chunkTable.join(''), 'hex'),
      chunkOf,
      // as msgpack arrays of integers (a typed array would encode as an extension)
      offsets: Array.isArray(node.offsets) ? node.offsets : Array.from(node.offsets),
      lengths: Array.isArray(node.lengths) ? node.lengths : Array.from(node.lengths),
      crcs: node.crcs,
    })
  }
  return encode({
    kind: INNER_TAG,
    v: INDEX_NODE_VERSION,
    level: node.level,
    children: Buffer.from(node.children.join(''), 'hex'),
    counts: node.counts,
    lastIds: node.lastIds,
  })
}

function isByteCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}

function badEntry(e: IndexEntry, what: string): InvalidValueError {
  return new InvalidValueError(`index entry for sample id ${String(e?.id)} has an invalid ${what}`, {data: {entry: e}})
}

/** Refuses an entry the index could not store faithfully (cheap: runs once per built entry). */
export function checkEntry(e: IndexEntry): void {
  if (typeof e.id !== 'bigint' || e.id < 0n || e.id > MAX_U64) throw badEntry(e, 'id (need an unsigned 64-bit bigint)')
  if (!isByteCount(e.offset)) throw badEntry(e, 'offset')
  if (!isByteCount(e.length)) throw badEntry(e, 'length')
  if (typeof e.crc !== 'number' || e.crc >>> 0 !== e.crc) throw badEntry(e, 'crc (need an unsigned 32-bit integer)')
  if (typeof e.chunk !== 'string') throw badEntry(e, 'chunk hash')
}

/** Chunk hashes are checked once per distinct chunk per leaf rather than once per entry. */
export function checkChunkHash(chunk: string): void {
  if (!isHash(chunk)) throw new InvalidValueError(`index entry names an invalid chunk hash ${JSON.stringify(chunk)}`, {data: {chunk}})
}
