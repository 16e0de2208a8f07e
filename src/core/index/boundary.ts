// Where nodes end. A boundary depends on one entry's id and nothing else, so a tree's shape is a
// pure function of its id sequence: updates never move a boundary, deleting a boundary entry
// merges two nodes, and appends only touch the right spine. Level h needs leafBits + h*nodeBits
// low zero bits, so every level-h boundary is also a boundary of every level below it.
//
// The mix is part of the on-disk format (it decides which trees are canonical): never change it
// without bumping the index format version.
import type {TreeParams} from './types.js'

/** Bits of mix available; a level whose threshold exceeds this never ends early. */
const MIX_BITS = 64

// A typed-array alias is the cheapest way from a BigInt to its halves (~2x a DataView); the
// half indices follow the host's byte order so every machine computes the same mix.
const scratch64 = new BigUint64Array(1)
const scratch32 = new Uint32Array(scratch64.buffer)
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
const LO = LITTLE_ENDIAN ? 0 : 1
const HI = 1 - LO

// murmur3's 32-bit finalizer: full avalanche, so sequential ids still give random-looking shapes.
function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x)
}

/**
 * Trailing zero bits of the 64-bit mix of an id given as its two 32-bit halves. Computed from
 * halves with Math.imul because BigInt arithmetic per entry would dominate building 1M entries.
 */
export function mixZerosOfHalves(lo: number, hi: number): number {
  // The constant keeps small ids (0, 1, 2... in tests and imports) away from fmix32's fixed point 0.
  const a = fmix32((lo ^ Math.imul(hi ^ 0x5bd1e995, 0x9e3779b1)) >>> 0)
  if (a !== 0) return ctz32(a)
  const b = fmix32((hi ^ Math.imul(lo, 0x85ebca6b) ^ 0x27d4eb2f) >>> 0)
  return 32 + ctz32(b)
}

export function mixZeros(id: bigint): number {
  scratch64[0] = id
  return mixZerosOfHalves(scratch32[LO], scratch32[HI])
}

/** Zero bits a level-`level` node's last entry needs to end that node (level 0 = leaf). */
export function levelThreshold(params: TreeParams, level: number): number {
  return params.leafBits + level * params.nodeBits
}

/** Does an entry whose mix has `zeros` trailing zero bits end a node at `level`? */
export function endsNodeAt(params: TreeParams, zeros: number, level: number): boolean {
  const needed = levelThreshold(params, level)
  return needed <= MIX_BITS && zeros >= needed
}
