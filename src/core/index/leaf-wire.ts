// A direct reader for the one msgpack layout the writer gives index leaves (docs/FORMAT.md: a map
// of exactly kind, v, ids, chunks, chunkOf, offsets, lengths, crcs). A leaf is mostly two arrays of
// ~256 numbers, and msgpackr's generic reader costs about a microsecond a number while its code is
// cold: reading a label column of 20k rows at one version decodes 40k of them, a large part of that
// read's time in a fresh process. Anything not in this layout (another order or type, a newer
// version, a number that is not an unsigned integer below 2^32, trailing bytes) gives undefined and
// the caller decodes with the generic codec as before, so what is accepted, and what is refused
// and how, is unchanged; decode.ts validates either result. Written with locals and plain loops:
// in a fresh process this code runs interpreted, where closures and calls cost the most.

import {isAscii} from 'node:buffer'

// 0x88: a map of 8 entries; a4 "kind" aa "index-leaf"; a1 "v" 01
const PREFIX = bytesOf([0x88, 0xa4, 'kind', 0xaa, 'index-leaf', 0xa1, 'v', 0x01])
const KEYS = ['ids', 'chunks', 'chunkOf', 'offsets', 'lengths', 'crcs'].map((k) => bytesOf([0xa0 | k.length, k]))

function bytesOf(parts: (number | string)[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((x) => (typeof x === 'number' ? [x] : [...x].map((c) => c.charCodeAt(0)))))
}

/**
 * The fields of a leaf in the writer's layout, or undefined. What the leaf keeps lies in one new
 * buffer (the caller may reuse what it read into): offsets and lengths, only integers in [0, 2^32)
 * and one of each per id (else undefined), as one Uint32Array, then copies of the ids, crcs,
 * chunkOf and chunks bins. One buffer, not one per field nor a copy of all of `raw`: a typed array
 * with a buffer of its own costs microseconds to make and to collect, a good part of a leaf's
 * read, and every new page of memory a page fault.
 */
export function readLeafFields(raw: Uint8Array): {kind: string; v: number; ids: Uint8Array; chunks: Uint8Array; chunkOf: Uint8Array; offsets: Uint32Array; lengths: Uint32Array; crcs: Uint8Array} | undefined {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
  const at: [number] = [0]
  if (!expect(raw, at, PREFIX) || !expect(raw, at, KEYS[0])) return undefined
  const idsLength = binLength(raw, view, at)
  const idsAt = at[0] - idsLength
  if (idsLength < 0 || idsLength % 8 !== 0 || !expect(raw, at, KEYS[1])) return undefined
  const n = idsLength / 8
  const chunksLength = binLength(raw, view, at)
  const chunksAt = at[0] - chunksLength
  if (chunksLength < 0 || !expect(raw, at, KEYS[2])) return undefined
  const chunkOfLength = binLength(raw, view, at)
  const chunkOfAt = at[0] - chunkOfLength
  if (chunkOfLength < 0 || !expect(raw, at, KEYS[3])) return undefined
  // [offsets, lengths: 4n each][ids: 8n][crcs: 4n][chunkOf][chunks]: every typed view aligned
  const own = new Uint8Array(20 * n + chunkOfLength + chunksLength)
  const offsets = uints(raw, view, at, new Uint32Array(own.buffer, 0, n))
  if (offsets === null || !expect(raw, at, KEYS[4])) return undefined
  const lengths = uints(raw, view, at, new Uint32Array(own.buffer, 4 * n, n))
  if (lengths === null || !expect(raw, at, KEYS[5])) return undefined
  const crcsLength = binLength(raw, view, at)
  const crcsAt = at[0] - crcsLength
  // crcs of another length than 4 per id: the generic decoder reports it
  if (crcsLength !== 4 * n || at[0] !== raw.byteLength) return undefined
  // (the fields in the order of the layout: decode.ts checks it)
  return {
    kind: 'index-leaf',
    v: 1,
    ids: copyInto(own, 8 * n, raw, idsAt, idsLength),
    chunks: copyInto(own, 20 * n + chunkOfLength, raw, chunksAt, chunksLength),
    chunkOf: copyInto(own, 20 * n, raw, chunkOfAt, chunkOfLength),
    offsets,
    lengths,
    crcs: copyInto(own, 16 * n, raw, crcsAt, crcsLength),
  }
}

/** raw[from, from + length) copied to own at `to`, as the view of own it now is. */
function copyInto(own: Uint8Array, to: number, raw: Uint8Array, from: number, length: number): Uint8Array {
  own.set(raw.subarray(from, from + length), to)
  return own.subarray(to, to + length)
}

function expect(raw: Uint8Array, at: [number], bytes: Uint8Array): boolean {
  const p = at[0]
  if (p + bytes.length > raw.length) return false
  for (let i = 0; i < bytes.length; i++) if (raw[p + i] !== bytes[i]) return false
  at[0] = p + bytes.length
  return true
}

/** bin 8/16/32: its byte length, with at[0] moved past it (so its bytes start at at[0] - length); -1 when not a bin. */
function binLength(raw: Uint8Array, view: DataView, at: [number]): number {
  let p = at[0]
  const end = raw.length
  if (p >= end) return -1
  const tag = raw[p]
  let n: number
  if (tag === 0xc4 && p + 2 <= end) {
    n = raw[p + 1]
    p += 2
  } else if (tag === 0xc5 && p + 3 <= end) {
    n = view.getUint16(p + 1)
    p += 3
  } else if (tag === 0xc6 && p + 5 <= end) {
    n = view.getUint32(p + 1)
    p += 5
  } else return -1
  if (p + n > end) return -1
  at[0] = p + n
  return n
}

/**
 * An array of unsigned integers below 2^32 (fixint, uint 8/16/32) read into `out`, which it must
 * fill exactly; null for anything else. Runs of one encoding are read in loops of their own, and
 * an array of fixints only (the lengths of a column of small samples) by one native check and
 * copy: in a fresh process this runs interpreted, where a loop over the 40k numbers of a 20k-row
 * column's leaves costs milliseconds.
 */
function uints(raw: Uint8Array, view: DataView, at: [number], out: Uint32Array): Uint32Array | null {
  let p = at[0]
  const end = raw.length
  if (p >= end) return null
  const tag = raw[p]
  let n: number
  if (tag >= 0x90 && tag <= 0x9f) {
    n = tag - 0x90
    p += 1
  } else if (tag === 0xdc && p + 3 <= end) {
    n = view.getUint16(p + 1)
    p += 3
  } else if (tag === 0xdd && p + 5 <= end) {
    n = view.getUint32(p + 1)
    p += 5
  } else return null
  // one number per entry (another count is damage: the generic decoder reports it)
  if (n !== out.length || n > end - p) return null
  const fixints = raw.subarray(p, p + n)
  if (isAscii(fixints)) {
    at[0] = p + n
    out.set(fixints)
    return out
  }
  let i = 0
  while (i < n) {
    const b = raw[p]
    if (b === 0xce) {
      if (p + 5 > end) return null
      while (i < n && p + 5 <= end && raw[p] === 0xce) {
        out[i++] = view.getUint32(p + 1)
        p += 5
      }
    } else if (b === 0xcd) {
      if (p + 3 > end) return null
      while (i < n && p + 3 <= end && raw[p] === 0xcd) {
        out[i++] = (raw[p + 1] << 8) | raw[p + 2]
        p += 3
      }
    } else if (b < 0x80) {
      out[i++] = b
      p += 1
    } else if (b === 0xcc && p + 2 <= end) {
      out[i++] = raw[p + 1]
      p += 2
    } else return null
  }
  at[0] = p
  return out
}
