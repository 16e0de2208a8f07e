// Shared fixtures for the index tests: an in-memory NodeIO that counts reads and writes, and
// entry generators (ids from a seeded mix so shapes vary but runs are reproducible).
import {sha256hex} from '../../src/core/hash.js'
import {ObjectNotFoundError} from '../../src/core/errors.js'
import type {IndexEntry, NodeIO} from '../../src/core/index/index.js'

export class MemoryNodeIO implements NodeIO {
  readonly objects = new Map<string, Uint8Array>()
  reads = 0
  writes = 0

  async read(hash: string): Promise<Uint8Array> {
    this.reads++
    const bytes = this.objects.get(hash)
    if (!bytes) throw new ObjectNotFoundError(`no object ${hash}`)
    return bytes
  }

  async write(bytes: Uint8Array): Promise<string> {
    this.writes++
    const hash = sha256hex(bytes)
    this.objects.set(hash, Uint8Array.from(bytes))
    return hash
  }

  resetCounts(): void {
    this.reads = 0
    this.writes = 0
  }
}

/**
 * A MemoryNodeIO with visitMany as a store that reuses its read buffer implements it: each node is
 * handed out as a view of one scratch buffer, overwritten with junk as soon as visit returns. A
 * reader that keeps a view of what it was handed reads junk later.
 */
export class BorrowingNodeIO extends MemoryNodeIO {
  private scratch = new Uint8Array(1 << 16)

  async visitMany(hashes: readonly string[], visit: (i: number, bytes: Uint8Array | undefined, error?: unknown) => void): Promise<void> {
    // in reverse: visitMany promises no order
    for (let i = hashes.length - 1; i >= 0; i--) {
      this.reads++
      const bytes = this.objects.get(hashes[i])
      if (!bytes) {
        visit(i, undefined, new ObjectNotFoundError(`no object ${hashes[i]}`))
        continue
      }
      if (bytes.length > this.scratch.length) this.scratch = new Uint8Array(bytes.length)
      this.scratch.set(bytes)
      visit(i, this.scratch.subarray(0, bytes.length))
      this.scratch.fill(0xee)
    }
  }
}

const CHUNKS = Array.from({length: 16}, (_, i) => sha256hex(Buffer.from(`chunk ${i}`)))

/** A splitmix64 step: distinct inputs give distinct, random-looking 64-bit ids. */
export function idFor(n: bigint): bigint {
  let z = (n * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn
  return z ^ (z >> 31n)
}

/** Entry number `serial` (ids unique per serial), at location variant `variant`. */
export function makeEntry(serial: number, variant = 0): IndexEntry {
  return {
    id: idFor(BigInt(serial)),
    chunk: CHUNKS[(serial + variant) % CHUNKS.length],
    offset: serial * 100 + variant,
    length: 10 + ((serial + variant) % 90),
    crc: (Math.imul(serial + 1, 2654435761) ^ variant) >>> 0,
  }
}

export function makeEntries(count: number, firstSerial = 0): IndexEntry[] {
  return Array.from({length: count}, (_, i) => makeEntry(firstSerial + i))
}

export function location(e: IndexEntry): Omit<IndexEntry, 'id'> {
  return {chunk: e.chunk, offset: e.offset, length: e.length, crc: e.crc}
}

/** Small params: ~4 entries a leaf, ~4 children a node, so a few hundred entries give deep trees. */
export const DEEP = {leafBits: 2, nodeBits: 2}

/** Levels from the root down to the leaves (1 for a lone leaf), read without counting. */
export async function treeDepth(io: MemoryNodeIO, root: string): Promise<number> {
  const {decodeNode} = await import('../../src/core/index/index.js')
  let node = decodeNode(root, io.objects.get(root)!)
  let depth = 1
  while (node.kind === 'inner') {
    const child = node.children[0]
    node = decodeNode(child, io.objects.get(child)!)
    depth++
  }
  return depth
}

/**
 * Checks the canonical shape independently of the builder: every node but the last of its level
 * ends at a boundary of its level, no node holds a boundary before its end, and the root is a
 * leaf or has at least two children.
 */
export async function checkShape(io: MemoryNodeIO, root: string, params: {leafBits: number; nodeBits: number}): Promise<void> {
  const {decodeNode} = await import('../../src/core/index/index.js')
  const {endsNodeAt, mixZeros} = await import('../../src/core/index/boundary.js')
  const load = (h: string) => decodeNode(h, io.objects.get(h)!)
  let level = [load(root)]
  if (level[0].kind === 'inner' && level[0].children.length < 2) throw new Error('root has a single child')
  for (;;) {
    const h = level[0].level
    level.forEach((node, i) => {
      const ids = node.kind === 'leaf' ? Array.from({length: node.count}, (_, j) => node.idAt(j)) : node.children.map((_, k) => node.lastIdAt(k))
      ids.forEach((id, j) => {
        const ends = endsNodeAt(params, mixZeros(id), h)
        const isLast = j === ids.length - 1
        if (!isLast && ends) throw new Error(`level ${h} node ${i} holds a boundary at ${j}`)
        if (isLast && i < level.length - 1 && !ends) throw new Error(`level ${h} node ${i} ends without a boundary`)
      })
    })
    if (h === 0) return
    level = level.flatMap(node => (node.kind === 'inner' ? node.children.map(load) : []))
  }
}
