// Value types shared by every part of the sample index. The index is a pure data structure over
// an injected NodeIO, so this module does no I/O of its own and knows nothing of object stores.
import {InvalidValueError} from '../errors.js'

/** One sample of one tensor at one version: where its bytes live and how to check them. */
export interface IndexEntry {
  /** Stable unsigned 64-bit sample id (random); diff and merge match samples by it. */
  id: bigint
  /** sha256 hex of the chunk object holding the sample bytes. */
  chunk: string
  /** Byte offset of the sample inside the chunk payload. */
  offset: number
  /** Byte length of the sample. */
  length: number
  /** zlib.crc32 of the sample bytes (verifies ranged reads). */
  crc: number
}

/** Where tree nodes live: content-addressed and immutable. Tests use an in-memory Map. */
export interface NodeIO {
  /** Bytes of the node object named `hash` (the index re-hashes them anyway). */
  read(hash: string): Promise<Uint8Array>
  /** Stores the bytes and returns sha256hex(bytes); idempotent. */
  write(bytes: Uint8Array): Promise<string>
  /**
   * Optional: the bytes of several nodes at once, each handed to visit(i, bytes) in any order (or
   * visit(i, undefined, error)); `bytes` are valid only until visit returns. Range reads use it for
   * the leaves under a page.
   */
  visitMany?(hashes: readonly string[], visit: (i: number, bytes: Uint8Array | undefined, error?: unknown) => void): Promise<void>
}

/**
 * Shape parameters. A tree is canonical only for the params it was built with, so everything
 * that edits or compares one tree must use the same params (the defaults, unless a tensor's
 * meta records others). Tests use small values to get deep trees from few entries.
 */
export interface TreeParams {
  /** A leaf ends after an entry whose id mix has this many low zero bits: ~2^leafBits entries a leaf. */
  leafBits: number
  /** Each level up needs nodeBits more zero bits: ~2^nodeBits children a node. */
  nodeBits: number
}

export const DEFAULT_TREE_PARAMS: Readonly<TreeParams> = Object.freeze({leafBits: 8, nodeBits: 8})

export function resolveParams(params?: Partial<TreeParams>): TreeParams {
  const resolved = {...DEFAULT_TREE_PARAMS, ...params}
  for (const key of ['leafBits', 'nodeBits'] as const) {
    const bits = resolved[key]
    if (!Number.isInteger(bits) || bits < 1 || bits > 16) {
      throw new InvalidValueError(`index tree param ${key} must be an integer in [1, 16], got ${bits}`, {data: {[key]: bits}})
    }
  }
  return resolved
}

/** A reference to a subtree as its parent records it: enough to reuse it without reading it. */
export interface NodeRef {
  hash: string
  /** 0 for a leaf. */
  level: number
  /** Entries in the subtree. */
  count: number
  /** Id of the subtree's last entry: decides whether the subtree ends a node one level up. */
  lastId: bigint
  /**
   * The only child when the node has exactly one (null: several, or a leaf; undefined: not
   * known without reading the node). Single-child chains are cut off the top of a tree.
   */
  onlyChild?: NodeRef | null
}
