// Checking LevelDB's table files (.lake/db/*.ldb) before LevelDB reads them. LevelDB verifies no
// block checksum on reads by default (classic-level offers no way to turn it on), and some
// damaged blocks then trip an assertion in its native code that aborts the whole process. fsck
// therefore walks every table itself (footer, index and meta blocks, then each block's masked
// crc32c) and only opens the database when all of them are intact. Format reference: LevelDB's
// doc/table_format.md (leveldb 1.20, as classic-level bundles it).
import {open, readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'

const TABLE_MAGIC = 0xdb4775248b80fb57n
const FOOTER_BYTES = 48
const TRAILER_BYTES = 5
const NO_COMPRESSION = 0
const SNAPPY = 1

export interface LevelFileProblem {
  /** e.g. 'leveldb table 000044.ldb' */
  object: string
  problem: string
}

/**
 * The table files of the database at `dir` that are not intact, with why. By default only the
 * tables the current MANIFEST lists: fsck runs without the database's lock, and a table another
 * lake process's compaction is still writing is listed there only once complete (and a listed
 * table never changes, so a size other than the listed one is damage). With `all`, or when the
 * MANIFEST cannot be read (then LevelDB's open fails too), every table file in the directory:
 * LevelDB's repair reads them all.
 */
export async function checkLevelTables(dir: string, opts: {all?: boolean} = {}): Promise<LevelFileProblem[]> {
  let names: string[]
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.ldb') || n.endsWith('.sst')).sort()
  } catch {
    return [] // no directory: opening the database reports that
  }
  const live = opts.all ? null : await liveTables(dir)
  const problems: LevelFileProblem[] = []
  for (const name of names) {
    const listedSize = live?.get(Number.parseInt(name, 10))
    if (live && listedSize === undefined) continue
    const why = await checkTable(join(dir, name), listedSize)
    if (why !== null) problems.push({object: `leveldb table ${name}`, problem: why})
  }
  return problems
}

class Damaged extends Error {}

async function checkTable(file: string, listedSize?: number): Promise<string | null> {
  let bytes: Buffer
  try {
    const handle = await open(file, 'r')
    try {
      bytes = await handle.readFile()
    } finally {
      await handle.close()
    }
  } catch (err) {
    // Listed, then gone: another lake process's LevelDB compacted it away meanwhile (tables are
    // checked without the database's lock). A table the database still needs but that is missing
    // fails the database's open instead, which fsck reports.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    return `cannot be read: ${(err as Error).message}`
  }
  // An empty file is no table LevelDB uses (every table ends with a footer): LevelDB's repair
  // can leave one behind, and a used table cut to nothing fails LevelDB's open cleanly.
  if (bytes.length === 0 && listedSize === undefined) return null
  try {
    if (listedSize !== undefined && bytes.length !== listedSize) throw new Damaged(`${bytes.length} bytes, but the database lists it with ${listedSize}`)
    if (bytes.length < FOOTER_BYTES) throw new Damaged(`${bytes.length} bytes is shorter than a table footer`)
    const footer = bytes.subarray(bytes.length - FOOTER_BYTES)
    if (footer.readBigUInt64LE(40) !== TABLE_MAGIC) throw new Damaged('the footer has no table magic number')
    const cursor = {at: 0}
    const metaindex = readHandle(footer, cursor)
    const index = readHandle(footer, cursor)
    const limit = bytes.length - FOOTER_BYTES
    for (const handle of [metaindex, index]) readBlock(bytes, handle, limit)
    // Every data block the index names, and every meta block (the bloom filter) the metaindex names.
    for (const parent of [index, metaindex]) {
      for (const handle of blockValues(readBlock(bytes, parent, limit))) readBlock(bytes, readHandle(handle, {at: 0}), limit)
    }
    return null
  } catch (err) {
    if (err instanceof Damaged) return err.message
    throw err
  }
}

interface Handle {
  offset: number
  size: number
}

function varint(buf: Uint8Array, cursor: {at: number}): number {
  let result = 0
  let scale = 1
  for (let i = 0; i < 10; i++) {
    if (cursor.at >= buf.length) throw new Damaged('a length runs past its block')
    const b = buf[cursor.at++]
    result += (b & 0x7f) * scale
    if (b < 0x80) {
      if (!Number.isSafeInteger(result)) throw new Damaged('a length is out of range')
      return result
    }
    scale *= 128
  }
  throw new Damaged('a length is not a valid varint')
}

function readHandle(buf: Uint8Array, cursor: {at: number}): Handle {
  return {offset: varint(buf, cursor), size: varint(buf, cursor)}
}

/** The block's contents (decompressed), after checking its trailer's crc. */
function readBlock(file: Buffer, h: Handle, limit: number): Uint8Array {
  if (h.offset + h.size + TRAILER_BYTES > limit) throw new Damaged(`a block at ${h.offset} (${h.size} bytes) runs past the end of the data`)
  const withType = file.subarray(h.offset, h.offset + h.size + 1)
  const stored = file.readUInt32LE(h.offset + h.size + 1)
  if (unmask(stored) !== crc32c(withType)) throw new Damaged(`the block at ${h.offset} fails its checksum`)
  const contents = withType.subarray(0, h.size)
  const type = withType[h.size]
  if (type === NO_COMPRESSION) return contents
  if (type === SNAPPY) return snappyDecompress(contents)
  throw new Damaged(`the block at ${h.offset} has unknown compression ${type}`)
}

/** The values of a block's entries (block handles, for index and metaindex blocks). */
function blockValues(block: Uint8Array): Uint8Array[] {
  if (block.length < 4) throw new Damaged('a block is too short for its restart count')
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength)
  const restarts = view.getUint32(block.length - 4, true)
  const end = block.length - 4 * (restarts + 1)
  if (restarts === 0 || end < 0) throw new Damaged('a block has an impossible restart count')
  const values: Uint8Array[] = []
  const cursor = {at: 0}
  while (cursor.at < end) {
    varint(block, cursor) // bytes shared with the previous key
    const unshared = varint(block, cursor)
    const valueLength = varint(block, cursor)
    cursor.at += unshared
    if (cursor.at + valueLength > end) throw new Damaged('a block entry runs past its block')
    values.push(block.subarray(cursor.at, cursor.at + valueLength))
    cursor.at += valueLength
  }
  return values
}

function snappyDecompress(src: Uint8Array): Uint8Array {
  const cursor = {at: 0}
  const length = varint(src, cursor)
  if (length > src.length * 64 + 64) throw new Damaged('a compressed block claims an impossible length')
  const out = new Uint8Array(length)
  let o = 0
  let i = cursor.at
  while (i < src.length) {
    const tag = src[i++]
    const kind = tag & 3
    if (kind === 0) {
      let n = tag >>> 2
      if (n >= 60) {
        const extra = n - 59
        if (i + extra > src.length) throw new Damaged('a compressed block is cut short')
        n = 0
        for (let k = 0; k < extra; k++) n += src[i + k] * 2 ** (8 * k)
        i += extra
      }
      n += 1
      if (i + n > src.length || o + n > length) throw new Damaged('a compressed block is malformed')
      out.set(src.subarray(i, i + n), o)
      i += n
      o += n
      continue
    }
    let n: number
    let offset: number
    if (kind === 1) {
      if (i >= src.length) throw new Damaged('a compressed block is cut short')
      n = ((tag >>> 2) & 7) + 4
      offset = ((tag >>> 5) << 8) | src[i++]
    } else {
      const width = kind === 2 ? 2 : 4
      if (i + width > src.length) throw new Damaged('a compressed block is cut short')
      n = (tag >>> 2) + 1
      offset = width === 2 ? src[i] | (src[i + 1] << 8) : (src[i] | (src[i + 1] << 8) | (src[i + 2] << 16)) + src[i + 3] * 2 ** 24
      i += width
    }
    if (offset === 0 || offset > o || o + n > length) throw new Damaged('a compressed block is malformed')
    for (let k = 0; k < n; k++, o++) out[o] = out[o - offset]
  }
  if (o !== length) throw new Damaged('a compressed block is shorter than it claims')
  return out
}

// --- the MANIFEST: which tables the database uses ------------------------------------------------

const LOG_BLOCK = 32768
const LOG_HEADER = 7
const FULL = 1
const FIRST = 2
const MIDDLE = 3
const LAST = 4

/**
 * Table number → size of every table the current MANIFEST lists, or null when CURRENT or the
 * MANIFEST cannot be read or parsed. A MANIFEST replaced meanwhile (another process opened the
 * database) is read again from the new CURRENT.
 */
async function liveTables(dir: string): Promise<Map<number, number> | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    let manifest: Buffer
    try {
      const current = (await readFile(join(dir, 'CURRENT'), 'latin1')).trim()
      if (!/^MANIFEST-\d+$/.test(current)) return null
      manifest = await readFile(join(dir, current))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
      return null
    }
    try {
      return applyEdits(logRecords(manifest))
    } catch (err) {
      if (err instanceof Damaged) return null
      throw err
    }
  }
  return null
}

/** The records of a LevelDB log file (the MANIFEST's format): 32 KiB blocks of checksummed fragments. */
function* logRecords(buf: Buffer): Generator<Uint8Array> {
  let pos = 0
  let parts: Uint8Array[] | null = null
  while (pos + LOG_HEADER <= buf.length) {
    const left = LOG_BLOCK - (pos % LOG_BLOCK)
    if (left < LOG_HEADER) {
      pos += left // a block's zero-filled trailer
      continue
    }
    const length = buf.readUInt16LE(pos + 4)
    const type = buf[pos + 6]
    if (type === 0 && length === 0) break // zeroes after the last record
    if (pos + LOG_HEADER + length > buf.length) throw new Damaged('a MANIFEST record runs past its end')
    const typed = buf.subarray(pos + 6, pos + LOG_HEADER + length)
    if (unmask(buf.readUInt32LE(pos)) !== crc32c(typed)) throw new Damaged('a MANIFEST record fails its checksum')
    const data = typed.subarray(1)
    pos += LOG_HEADER + length
    if (type === FULL) yield data
    else if (type === FIRST) parts = [data]
    else if ((type === MIDDLE || type === LAST) && parts) {
      parts.push(data)
      if (type === LAST) {
        yield Buffer.concat(parts)
        parts = null
      }
    } else throw new Damaged(`a MANIFEST record has type ${type}`)
  }
}

/** Applies the VersionEdits (db/version_edit.cc) in order: the tables they leave. */
function applyEdits(records: Iterable<Uint8Array>): Map<number, number> {
  const files = new Map<string, {number: number; size: number}>()
  for (const edit of records) {
    const cursor = {at: 0}
    const deleted: string[] = []
    const added: [string, {number: number; size: number}][] = []
    const skipSlice = () => {
      const length = varint(edit, cursor) // read first: `cursor.at += varint(...)` would lose the varint's own bytes
      cursor.at += length
      if (cursor.at > edit.length) throw new Damaged('a MANIFEST entry runs past its record')
    }
    while (cursor.at < edit.length) {
      const tag = varint(edit, cursor)
      if (tag === 1) skipSlice() // comparator name
      else if (tag === 2 || tag === 3 || tag === 4 || tag === 9) varint(edit, cursor) // log, next file, last sequence, prev log
      else if (tag === 5) {
        varint(edit, cursor) // compact pointer: level, key
        skipSlice()
      } else if (tag === 6) {
        const level = varint(edit, cursor)
        deleted.push(`${level}:${varint(edit, cursor)}`)
      } else if (tag === 7) {
        const level = varint(edit, cursor)
        const number = varint(edit, cursor)
        const size = varint(edit, cursor)
        skipSlice() // smallest key
        skipSlice() // largest key
        added.push([`${level}:${number}`, {number, size}])
      } else throw new Damaged(`a MANIFEST entry has unknown tag ${tag}`)
    }
    // As LevelDB applies an edit: its deletions, then its additions (a table moved down a level).
    for (const key of deleted) files.delete(key)
    for (const [key, file] of added) files.set(key, file)
  }
  return new Map([...files.values()].map((f) => [f.number, f.size]))
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (let i = 0; i < bytes.length; i++) crc = CRC32C_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

/** LevelDB stores crcs masked (rotated and offset), so a crc of data holding crcs stays distinct. */
function unmask(masked: number): number {
  const rot = (masked - 0xa282ead8) >>> 0
  return ((rot >>> 17) | (rot << 15)) >>> 0
}
