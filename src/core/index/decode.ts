// Decoding is the trust boundary of the index: every node read goes through here, and anything
// that is not exactly a node this code could have written is refused with CorruptObjectError
// naming the object, instead of surfacing later as a wrong sample.
import {decode} from '../codec.js'
import {CorruptObjectError, FormatVersionError} from '../errors.js'
import {INDEX_NODE_VERSION, INNER_TAG, InnerNode, LEAF_TAG, LeafNode, chunkIndexWidth, type IndexNode, type LeafNumbers} from './node.js'
import {readLeafFields} from './leaf-wire.js'

const LEAF_KEYS = ['kind', 'v', 'ids', 'chunks', 'chunkOf', 'offsets', 'lengths', 'crcs']
const INNER_KEYS = ['kind', 'v', 'level', 'children', 'counts', 'lastIds']
/** Deeper than any tree the boundary rule can make (64 mix bits, at least 1 bit a level). */
const MAX_LEVEL = 64

class Malformed extends Error {}

function fail(why: string): never {
  throw new Malformed(why)
}

function bytes(value: unknown, name: string, unit: number): Uint8Array {
  if (!(value instanceof Uint8Array)) fail(`${name} is not binary`)
  if (value.length % unit !== 0) fail(`${name} length ${value.length} is not a multiple of ${unit}`)
  return value
}

function counts(value: unknown, name: string, n: number, min: number): number[] {
  if (!Array.isArray(value) || value.length !== n) fail(`${name} is not an array of ${n} numbers`)
  for (const x of value) {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min) fail(`${name} holds ${String(x)}`)
  }
  return value as number[]
}

function sized(value: LeafNumbers, name: string, n: number): LeafNumbers {
  if (value.length !== n) fail(`${name} is not an array of ${n} numbers`)
  return value
}

function hexTable(value: Uint8Array): string[] {
  const hex = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')
  const table: string[] = []
  for (let i = 0; i < hex.length; i += 64) table.push(hex.slice(i, i + 64))
  return table
}

const ZEROS = new Uint8Array(4096)

function isAllZero(bytes: Uint8Array): boolean {
  for (let at = 0; at < bytes.length; at += ZEROS.length) {
    const part = bytes.subarray(at, at + ZEROS.length)
    if (Buffer.compare(part, ZEROS.subarray(0, part.length)) !== 0) return false
  }
  return true
}

function exactKeys(obj: Record<string, unknown>, keys: string[]): void {
  const actual = Object.keys(obj)
  if (actual.length !== keys.length || keys.some((k, i) => actual[i] !== k)) fail(`fields are [${actual.join(', ')}]`)
}

/** `wire`: read by leaf-wire.ts, whose offsets and lengths are integers in [0, 2^32) by construction. */
function decodeLeaf(obj: Record<string, unknown>, wire: boolean): LeafNode {
  exactKeys(obj, LEAF_KEYS)
  const ids = bytes(obj.ids, 'ids', 8)
  const n = ids.length / 8
  const table = hexTable(bytes(obj.chunks, 'chunks', 32))
  if (n > 0 && (table.length === 0 || table.length > n)) fail(`chunk table of ${table.length} for ${n} entries`)
  if (n === 0 && table.length !== 0) fail('empty leaf with a chunk table')
  if (new Set(table).size !== table.length) fail('chunk table repeats a chunk')
  const width = chunkIndexWidth(table.length)
  const rawChunkOf = bytes(obj.chunkOf, 'chunkOf', 1)
  if (rawChunkOf.length !== width * n) fail(`chunkOf has ${rawChunkOf.length} bytes, expected ${width * n}`)
  // the usual leaf, all of one chunk: every index is 0, checked natively (a loop per entry costs
  // milliseconds over a column's leaves while this code is still interpreted)
  if (table.length === 1 && width === 1 && isAllZero(rawChunkOf)) return finishLeaf(obj, wire, ids, table, rawChunkOf, n)
  const view = new DataView(rawChunkOf.buffer, rawChunkOf.byteOffset, rawChunkOf.byteLength)
  // one byte an index: the bytes read are the indices (no array of their own to allocate)
  const chunkOf = width === 1 ? rawChunkOf : new Uint32Array(n)
  let seen = 0
  for (let j = 0; j < n; j++) {
    const t = width === 1 ? rawChunkOf[j] : width === 2 ? view.getUint16(2 * j, true) : view.getUint32(4 * j, true)
    // The writer numbers chunks by first appearance; anything else is not a canonical node.
    if (t > seen) fail(`chunkOf[${j}] = ${t} skips ahead of first appearance`)
    if (t === seen) seen++
    chunkOf[j] = t
  }
  if (seen !== table.length) fail('chunk table has unused chunks')
  return finishLeaf(obj, wire, ids, table, chunkOf, n)
}

function finishLeaf(obj: Record<string, unknown>, wire: boolean, ids: Uint8Array, table: string[], chunkOf: Uint8Array | Uint32Array, n: number): LeafNode {
  const offsets = wire ? sized(obj.offsets as Uint32Array, 'offsets', n) : counts(obj.offsets, 'offsets', n, 0)
  const lengths = wire ? sized(obj.lengths as Uint32Array, 'lengths', n) : counts(obj.lengths, 'lengths', n, 0)
  const crcs = bytes(obj.crcs, 'crcs', 4)
  if (crcs.length !== 4 * n) fail(`crcs has ${crcs.length} bytes, expected ${4 * n}`)
  return new LeafNode(ids, table, chunkOf, offsets, lengths, crcs)
}

function decodeInner(obj: Record<string, unknown>): InnerNode {
  exactKeys(obj, INNER_KEYS)
  const level = obj.level
  if (typeof level !== 'number' || !Number.isInteger(level) || level < 1 || level > MAX_LEVEL) fail(`level ${String(level)}`)
  const children = hexTable(bytes(obj.children, 'children', 32))
  if (children.length === 0) fail('inner node without children')
  const childCounts = counts(obj.counts, 'counts', children.length, 1)
  const lastIds = bytes(obj.lastIds, 'lastIds', 8)
  if (lastIds.length !== 8 * children.length) fail(`lastIds has ${lastIds.length} bytes for ${children.length} children`)
  const node = new InnerNode(level, children, childCounts, lastIds)
  if (!Number.isSafeInteger(node.count)) fail('total count overflows')
  return node
}

/**
 * Decodes and validates the bytes of index node `hash` (the hash is only used to name it). The node
 * may keep views of `raw`, unless `borrowed`: then raw is the caller's, valid only during this call
 * (a read buffer it reuses), and the node gets bytes of its own.
 */
export function decodeNode(hash: string, raw: Uint8Array, opts: {borrowed?: boolean} = {}): IndexNode {
  // leaves in the writer's layout are read directly (leaf-wire.ts, which copies); anything else generically
  const wire = readLeafFields(raw)
  let obj: unknown = wire
  if (obj === undefined) {
    try {
      // the generic decoder gives binary fields as views of what it decodes
      obj = decode(opts.borrowed ? raw.slice() : raw)
    } catch (err) {
      throw corrupt(hash, `is not msgpack (${(err as Error).message})`)
    }
  }
  try {
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) fail('not a map')
    const rec = obj as Record<string, unknown>
    // As for every object (docs/FORMAT.md): a newer version is not damage, it needs a newer lake
    // (which may also have new kinds of index node).
    const indexKind = typeof rec.kind === 'string' && rec.kind.startsWith('index-')
    if (indexKind && typeof rec.v === 'number' && Number.isInteger(rec.v) && rec.v > INDEX_NODE_VERSION) {
      throw new FormatVersionError(`index node ${hash} has format version ${rec.v}; this lake reads up to ${INDEX_NODE_VERSION}`, {hint: 'upgrade lake', data: {hash}})
    }
    if (rec.kind !== LEAF_TAG && rec.kind !== INNER_TAG) fail(`kind ${(typeof rec.kind === 'string' ? JSON.stringify(rec.kind) : `of type ${typeof rec.kind}`)} is not an index node`)
    if (rec.v !== INDEX_NODE_VERSION) fail(`format version ${String(rec.v)}`)
    return rec.kind === LEAF_TAG ? decodeLeaf(rec, wire !== undefined) : decodeInner(rec)
  } catch (err) {
    if (err instanceof Malformed) throw corrupt(hash, `is malformed: ${err.message}`)
    throw err
  }
}

export function corrupt(hash: string, what: string, hint = 'run `lake fsck` to find damaged objects'): CorruptObjectError {
  return new CorruptObjectError(`index node ${hash} ${what}`, {hint, data: {hash}})
}
