// Pack files of the file store: many small immutable objects in one file, so that a command's
// index pages, roots and commits become durable with one file fsync and one directory fsync
// instead of a file, an fsync, a rename and a directory fsync each (docs/FORMAT.md "Packs").
//
// Layout (all integers little-endian):
//   header  'LAKEPACK' | u32 version (1) | u32 0
//   bodies  the objects' bytes, one after another
//   index   count entries of 24 bytes, sorted by (crc32 of the key, key):
//             u32 crc32(key) | u32 key offset in the key table | f64 body offset | u32 body length | u32 key length
//           then the key table (the keys' UTF-8 bytes)
//   trailer f64 index offset | u32 index length | u32 count | u32 crc32(index) | u32 0 | 'LAKEKCAP'
// A pack is written whole to a temp file, fsynced, then renamed to pack-<hash of its index>.pack:
// readers see all of its objects or none. Bodies are not checksummed here: every whole-object read
// is re-hashed by ObjectDb, and chunks (read by range) never go into packs.
import {createHash} from 'node:crypto'
import {closeSync, fstatSync, openSync, readSync, writeSync} from 'node:fs'
import {crc32} from 'node:zlib'
import {Lru} from '../lru.js'

/** The directory of a file store's packs: an internal name ('.lake-*'), so never a key. */
export const PACK_DIR = '.lake-packs'
export const PACK_MAGIC = 'LAKEPACK'
const TRAILER_MAGIC = 'LAKEKCAP'
const VERSION = 1
const HEADER_BYTES = 16
const ENTRY_BYTES = 24
const TRAILER_BYTES = 32

/** A pack's file name: pack-<32 hex>.pack. */
export const PACK_NAME = /^pack-[0-9a-f]{32}\.pack$/

export interface PackObject {
  key: string
  bytes: Uint8Array
}

export interface PackedEntry {
  offset: number
  length: number
}

/** Why a pack's index cannot be used (names the file). */
export class PackFormatError extends Error {
  constructor(path: string, why: string) {
    super(`pack ${path} is damaged: ${why}`)
  }
}

/** The index of one pack, searched in place (no per-entry objects: a pack may hold 100k keys). */
export class PackIndex {
  readonly count: number
  private readonly view: DataView
  private readonly keyTable: Buffer

  constructor(
    /** index bytes: entries then key table */
    private readonly index: Buffer,
    count: number,
  ) {
    this.count = count
    this.view = new DataView(index.buffer, index.byteOffset, index.byteLength)
    this.keyTable = index.subarray(count * ENTRY_BYTES)
  }

  /** `hash`: keyHash(key), when the caller searches several packs for one key */
  lookup(key: string, hash = keyHash(key)): PackedEntry | undefined {
    const want = hash
    let lo = 0
    let hi = this.count
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.view.getUint32(mid * ENTRY_BYTES, true) < want) lo = mid + 1
      else hi = mid
    }
    for (let i = lo; i < this.count && this.view.getUint32(i * ENTRY_BYTES, true) === want; i++) {
      if (this.keyAt(i) === key) return this.entryAt(i)
    }
    return undefined
  }

  /** Every key with its place, in no particular order. */
  *entries(): Generator<[string, PackedEntry]> {
    for (let i = 0; i < this.count; i++) yield [this.keyAt(i), this.entryAt(i)]
  }

  private keyAt(i: number): string {
    const at = this.view.getUint32(i * ENTRY_BYTES + 4, true)
    const length = this.view.getUint32(i * ENTRY_BYTES + 20, true)
    return this.keyTable.toString('utf8', at, at + length)
  }

  private entryAt(i: number): PackedEntry {
    return {offset: this.view.getFloat64(i * ENTRY_BYTES + 8, true), length: this.view.getUint32(i * ENTRY_BYTES + 16, true)}
  }
}

export function keyHash(key: string): number {
  return crc32(key) >>> 0
}

/**
 * The bytes of a pack holding `objects` (each key once), as parts to write in order, its name and
 * its index. Keys are assumed distinct.
 */
export function buildPack(objects: PackObject[]): {parts: Uint8Array[]; size: number; name: string; index: PackIndex} {
  const placed: {key: string; offset: number; length: number}[] = []
  let at = HEADER_BYTES
  for (const {key, bytes} of objects) {
    placed.push({key, offset: at, length: bytes.length})
    at += bytes.length
  }
  const tail = packTail(placed, at)
  return {parts: [packHeader(), ...objects.map((o) => o.bytes), tail.index, tail.trailer], size: tail.size, name: tail.name, index: tail.packIndex}
}

function packHeader(): Buffer {
  const header = Buffer.alloc(HEADER_BYTES)
  header.write(PACK_MAGIC, 0, 'latin1')
  header.writeUInt32LE(VERSION, 8)
  return header
}

/** The index and trailer of a pack whose bodies end at `bodiesEnd`, and its name. */
function packTail(objects: {key: string; offset: number; length: number}[], bodiesEnd: number): {index: Buffer; trailer: Buffer; name: string; packIndex: PackIndex; size: number} {
  const at = bodiesEnd
  const placed = objects.map((o) => ({...o, keyBytes: Buffer.from(o.key, 'utf8'), hash: keyHash(o.key)}))
  placed.sort((a, b) => a.hash - b.hash || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  const keyBytesTotal = placed.reduce((n, p) => n + p.keyBytes.length, 0)
  const index = Buffer.alloc(placed.length * ENTRY_BYTES + keyBytesTotal)
  let keyAt = 0
  for (const [i, p] of placed.entries()) {
    const e = i * ENTRY_BYTES
    index.writeUInt32LE(p.hash, e)
    index.writeUInt32LE(keyAt, e + 4)
    index.writeDoubleLE(p.offset, e + 8)
    index.writeUInt32LE(p.length, e + 16)
    index.writeUInt32LE(p.keyBytes.length, e + 20)
    p.keyBytes.copy(index, placed.length * ENTRY_BYTES + keyAt)
    keyAt += p.keyBytes.length
  }
  const trailer = Buffer.alloc(TRAILER_BYTES)
  trailer.writeDoubleLE(at, 0)
  trailer.writeUInt32LE(index.length, 8)
  trailer.writeUInt32LE(placed.length, 12)
  trailer.writeUInt32LE(crc32(index) >>> 0, 16)
  trailer.write(TRAILER_MAGIC, 24, 'latin1')
  const name = `pack-${createHash('sha256').update(index).update(trailer).digest('hex').slice(0, 32)}.pack`
  return {index, trailer, name, packIndex: new PackIndex(index, placed.length), size: at + index.length + TRAILER_BYTES}
}

/**
 * Writes to `fd` (from its start) a pack of the objects of the pack at `source` that `keep`
 * accepts, one object at a time (a pack of any size, in little memory): what gc does to a pack
 * holding objects it deletes. Returns the new pack's name, index and size.
 */
export function copyPack(source: string, index: PackIndex, keep: (key: string) => boolean, fd: number): {name: string; index: PackIndex; size: number} {
  const kept = [...index.entries()].filter(([key]) => keep(key)).sort((a, b) => a[1].offset - b[1].offset)
  const src = openSync(source, 'r')
  try {
    // (written in order: sequential writes, the form the power-cut journal models)
    writeAll(fd, packHeader())
    const placed: {key: string; offset: number; length: number}[] = []
    let at = HEADER_BYTES
    for (const [key, {offset, length}] of kept) {
      writeAll(fd, readAt(src, offset, length))
      placed.push({key, offset: at, length})
      at += length
    }
    const tail = packTail(placed, at)
    writeAll(fd, tail.index)
    writeAll(fd, tail.trailer)
    return {name: tail.name, index: tail.packIndex, size: tail.size}
  } finally {
    closeSync(src)
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done)
}

// Pack indexes this process has read and checked, by path. A named pack never changes (its name is
// the hash of its index), so a store opened again in the same process (the resident process opens
// each command's dataset afresh; a program may open a dataset many times) need not read and check
// them again: a million-row dataset's largest pack has a ~0.9 MB index, ~3 ms and that much new
// memory at each open. An entry serves only the file it was read from: the same device, inode and
// size, and the same 32-byte trailer (which holds the index's crc32, length and count). Not the
// mtime or ctime: a touch (gc's grace period) changes those and nothing else, and some kernels
// stamp them in steps of milliseconds. A pack damaged on disk after its index was read here is
// seen by fsck, which reads every index afresh; every object read is checked either way.
const PACK_INDEX_CACHE_BYTES = 64 * 1024 * 1024
interface CachedPackIndex {
  index: PackIndex
  bytes: number
  dev: number
  ino: number
  size: number
  trailer: Buffer
}
// (a few hundred bytes of objects besides the index's own, per entry)
const packIndexes = new Lru<string, CachedPackIndex>({maxSize: PACK_INDEX_CACHE_BYTES, sizeOf: (c) => c.bytes + 512})

/** Forgets the index read from `path` (the pack is gone: folded, rewritten by gc, deleted). */
export function forgetPackIndex(path: string): void {
  packIndexes.delete(path)
}

/**
 * Reads and checks a pack's index (synchronously: a few KB to a few MB). One this process has
 * read from the same file already is not read again, unless `fresh` (fsck: check what is on disk).
 */
export function readPackIndex(path: string, opts: {fresh?: boolean} = {}): {index: PackIndex; size: number; mtimeMs: number} {
  const fd = openSync(path, 'r')
  try {
    const st = fstatSync(fd)
    if (st.size < HEADER_BYTES + TRAILER_BYTES) throw new PackFormatError(path, `${st.size} bytes is too short for a pack`)
    const trailer = readAt(fd, st.size - TRAILER_BYTES, TRAILER_BYTES)
    const known = opts.fresh ? undefined : packIndexes.get(path)
    if (known && known.dev === st.dev && known.ino === st.ino && known.size === st.size && known.trailer.equals(trailer)) {
      return {index: known.index, size: st.size, mtimeMs: st.mtimeMs}
    }
    packIndexes.delete(path)
    const header = readAt(fd, 0, HEADER_BYTES)
    if (header.toString('latin1', 0, 8) !== PACK_MAGIC) throw new PackFormatError(path, 'no pack header')
    if (header.readUInt32LE(8) !== VERSION) throw new PackFormatError(path, `pack version ${header.readUInt32LE(8)} is not one this lake reads (${VERSION})`)
    if (trailer.toString('latin1', 24, 32) !== TRAILER_MAGIC) throw new PackFormatError(path, 'no pack trailer (truncated?)')
    const indexAt = trailer.readDoubleLE(0)
    const indexLength = trailer.readUInt32LE(8)
    const count = trailer.readUInt32LE(12)
    if (indexAt + indexLength + TRAILER_BYTES !== st.size || count * ENTRY_BYTES > indexLength) throw new PackFormatError(path, 'its trailer does not match its size')
    const index = readAt(fd, indexAt, indexLength)
    if ((crc32(index) >>> 0) !== trailer.readUInt32LE(16)) throw new PackFormatError(path, 'its index fails its checksum')
    const packIndex = new PackIndex(index, count)
    packIndexes.set(path, {index: packIndex, bytes: index.length, dev: st.dev, ino: st.ino, size: st.size, trailer})
    return {index: packIndex, size: st.size, mtimeMs: st.mtimeMs}
  } finally {
    closeSync(fd)
  }
}

function readAt(fd: number, position: number, length: number): Buffer {
  // (a buffer of its own, never a slice of Node's shared pool: an index kept for the process
  // would keep the whole 8 KiB pool chunk alive)
  const out = Buffer.allocUnsafeSlow(length)
  for (let filled = 0; filled < length; ) {
    const n = readSync(fd, out, filled, length - filled, position + filled)
    if (n === 0) throw new Error(`unexpected end of file at ${position + filled}`)
    filled += n
  }
  return out
}

/**
 * Which packs to fold into the next one (ascending by size): the smallest run such that every pack
 * left is at least twice the size of all smaller ones together. Geometric packing: a store keeps
 * O(log n) packs, and each byte is rewritten O(log n) times over its life.
 */
export function packsToMerge<T extends {size: number}>(packs: T[]): T[] {
  const sorted = [...packs].sort((a, b) => a.size - b.size)
  let take = 0
  let total = 0
  for (let i = 0; i < sorted.length; i++) {
    total += sorted[i].size
    if (i + 1 < sorted.length && sorted[i + 1].size < 2 * total) take = i + 2
  }
  return sorted.slice(0, take)
}
