// The bottom-up streaming builder. It holds only the open node of each level (a few hundred
// entries or refs each), writes a node the moment it closes, and accepts whole subtrees, which is
// how the editor reuses untouched parts of an old tree: one builder, so an edited tree is
// byte-for-byte the tree a fresh build of the same sequence makes.
import {sha256hex} from '../hash.js'
import {endsNodeAt, mixZeros, mixZerosOfHalves} from './boundary.js'
import {loadNode, rememberNode} from './cache.js'
import {InnerNode, LeafNode, checkEntry, encodeNode, refOf, type IndexNode} from './node.js'
import {resolveParams, type IndexEntry, type NodeIO, type NodeRef, type TreeParams} from './types.js'
import {WriteQueue} from './writes.js'

export interface IndexRoot {
  /** Hash of the root node (an empty leaf for an empty index). */
  root: string
  /** Number of entries. */
  length: number
}

export class TreeBuilder {
  private readonly params: TreeParams
  private readonly writes: WriteQueue
  /** Entries of the open leaf. */
  private readonly entries: IndexEntry[] = []
  /** open[h] (h >= 1): refs to the level h-1 children of the open level-h node. */
  private readonly open: NodeRef[][] = [[]]
  private count = 0

  constructor(private readonly io: NodeIO, params?: Partial<TreeParams>) {
    this.params = resolveParams(params)
    this.writes = new WriteQueue(io)
  }

  get length(): number {
    return this.count
  }

  /** Appends one entry; await the result when it is a promise (write backpressure). */
  add(entry: IndexEntry): Promise<void> | undefined {
    checkEntry(entry)
    // A copy: the leaf is encoded later, and a caller may reuse or change its object meanwhile.
    this.entries.push({id: entry.id, chunk: entry.chunk, offset: entry.offset, length: entry.length, crc: entry.crc})
    this.count++
    const zeros = mixZeros(entry.id)
    if (endsNodeAt(this.params, zeros, 0)) {
      this.addChild(1, this.emitLeaf(), zeros)
      return this.writes.backpressure()
    }
    return undefined
  }

  /**
   * Appends a whole leaf made elsewhere (the editor's updated copy of an old leaf). Only valid when
   * isEmptyThrough(0) and the leaf is what add() would have made of its entries: it ends at a leaf
   * boundary, or it is the last thing added before finish().
   */
  addLeaf(leaf: LeafNode): Promise<void> | undefined {
    if (!this.isEmptyThrough(0)) throw new Error('internal: leaf added over an open leaf')
    if (leaf.count === 0) return undefined
    this.count += leaf.count
    const [lo, hi] = leaf.idHalvesAt(leaf.count - 1)
    // A last id that is no leaf boundary is no boundary of any level: nothing closes, as in add().
    this.addChild(1, this.emit(leaf), mixZerosOfHalves(lo, hi))
    return this.writes.backpressure()
  }

  /** True when a whole level-`level` subtree may be appended: no open node at or below it. */
  isEmptyThrough(level: number): boolean {
    if (this.entries.length > 0) return false
    for (let h = 1; h <= level && h < this.open.length; h++) if (this.open[h].length > 0) return false
    return true
  }

  /**
   * Appends an existing subtree as is. Only valid when isEmptyThrough(ref.level) and the subtree
   * either ends at a boundary of its level or is the last thing added before finish().
   */
  addNode(ref: NodeRef): Promise<void> | undefined {
    if (!this.isEmptyThrough(ref.level)) throw new Error(`internal: subtree ${ref.hash} added over an open node`)
    this.count += ref.count
    this.addChild(ref.level + 1, ref, mixZeros(ref.lastId))
    return this.writes.backpressure()
  }

  /** Closes every open node, writes the rest and returns the root. */
  async finish(): Promise<IndexRoot> {
    let top: NodeRef
    if (this.count === 0) {
      top = this.emit(LeafNode.fromEntries([]))
    } else {
      if (this.entries.length > 0) this.addChild(1, this.emitLeaf(), -1)
      top = this.closeRemaining()
    }
    const root = await this.collapse(top)
    await this.writes.drain()
    return {root: root.hash, length: this.count}
  }

  /** At the end the open nodes close bottom-up until one level holds a single node. */
  private closeRemaining(): NodeRef {
    for (let h = 1; ; h++) {
      const level = this.open[h]
      const higherEmpty = this.open.slice(h + 1).every(refs => refs.length === 0)
      if (higherEmpty && level.length === 1) return level[0]
      // The last entry ends no node at this level (else the node would be closed already), so
      // its parent needs no boundary check.
      if (level.length > 0) this.addChild(h + 1, this.emitInner(h), -1)
    }
  }

  /**
   * A boundary entry with many zero bits closes a chain of single-child nodes; at the top of a
   * tree they add nothing, so the canonical root is the first node below them with two children.
   */
  private async collapse(ref: NodeRef): Promise<NodeRef> {
    while (ref.level > 0) {
      if (ref.onlyChild === undefined) ref = refOf(await loadNode(this.io, ref.hash), ref.hash)
      if (!ref.onlyChild) break
      ref = ref.onlyChild
    }
    return ref
  }

  private addChild(level: number, ref: NodeRef, zeros: number): void {
    while (this.open.length <= level) this.open.push([])
    this.open[level].push(ref)
    if (endsNodeAt(this.params, zeros, level)) this.addChild(level + 1, this.emitInner(level), zeros)
  }

  private emitLeaf(): NodeRef {
    const leaf = LeafNode.fromEntries(this.entries)
    this.entries.length = 0
    return this.emit(leaf)
  }

  private emitInner(level: number): NodeRef {
    const children = this.open[level]
    this.open[level] = []
    const ref = this.emit(InnerNode.fromRefs(level, children))
    ref.onlyChild = children.length === 1 ? children[0] : null
    return ref
  }

  private emit(node: IndexNode): NodeRef {
    const bytes = encodeNode(node)
    const hash = sha256hex(bytes)
    this.writes.put(bytes, hash)
    rememberNode(this.io, hash, node)
    return {...refOf(node, hash), onlyChild: null}
  }
}

/** Builds the index of `entries` (streamed: memory stays bounded whatever their number). */
export async function buildIndex(
  io: NodeIO,
  entries: Iterable<IndexEntry> | AsyncIterable<IndexEntry>,
  params?: Partial<TreeParams>,
): Promise<IndexRoot> {
  const builder = new TreeBuilder(io, params)
  if (Symbol.asyncIterator in entries) {
    for await (const entry of entries) {
      const wait = builder.add(entry)
      if (wait) await wait
    }
  } else {
    for (const entry of entries) {
      const wait = builder.add(entry)
      if (wait) await wait
    }
  }
  return builder.finish()
}
