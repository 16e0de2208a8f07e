// A disk cache of whole numeric columns, keyed by the tensor's index root (a content hash, so an
// entry can never go stale: another version of the column has another root). `lake add --key`
// needs every key of the base version to find the rows a file names; at 1M rows reading them from
// the index is ~2000 leaf nodes (~1 s), from here one 4 MB file. Updating other columns (labels)
// keeps the key tensor's root, so a run of keyed updates hits every time.
//
// Beside them, latest-<name hash>.<dtype> names the root last cached for a tensor name, so that
// a miss (the key tensor got appends, so a new root) can start from that column and patch in what
// an index diff says changed, instead of reading the whole column again.
//
// File <dir>/<index root>.<dtype>: 'LKCC', u32 version 1, f64 length, u32 crc32 of the payload,
// u32 reserved, then the column's little-endian bytes. A damaged, short or foreign file is
// ignored (and rewritten); nothing in it is trusted without its crc. Not durable, not shared with
// other machines: it is only ever a shortcut to what the index holds.
//
// The last few columns read or written are also kept in memory: an add with two keyed tables
// (updates, then new rows) looks the key column up twice, and a library process that adds again
// starts the next refresh from the column it holds. (The resident process opens each command's
// dataset afresh: it gains only the first.)
import {mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {crc32} from 'node:zlib'
import {sha256hex} from '../hash.js'
import {dtypeInfo, littleEndianBytes, typedArrayFromLittleEndian, type NumericDtype, type TypedArray} from '../format/dtype.js'

const MAGIC = 0x4343_4b4c // 'LKCC' little-endian
const VERSION = 1
const HEADER_BYTES = 24
/** Columns shorter than this are read from the index: cheap enough, and no file churn. */
export const COLUMN_CACHE_MIN_ROWS = 10_000
/** Entries kept; the oldest go first. */
const MAX_ENTRIES = 8
/** Columns kept in memory (the most recent), and their bytes at most. */
const MEMORY_ENTRIES = 2
const MEMORY_BYTES = 64 * 1024 * 1024

export class ColumnCache {
  /** Most recent last: file name → column (never mutated: callers only read what get returns). */
  private readonly memory = new Map<string, TypedArray>()

  /** `minRows`: shorter columns are not cached (default COLUMN_CACHE_MIN_ROWS). */
  constructor(
    readonly dir: string,
    readonly minRows = COLUMN_CACHE_MIN_ROWS,
  ) {}

  private file(indexRoot: string, dtype: NumericDtype): string {
    return join(this.dir, `${indexRoot}.${dtype}`)
  }

  /** The column of the index `indexRoot` when cached and intact, else undefined. Read only: it may be shared. */
  get(indexRoot: string, dtype: NumericDtype, length: number): TypedArray | undefined {
    const file = this.file(indexRoot, dtype)
    const held = this.memory.get(file)
    if (held && held.length === length) {
      this.remember(file, held)
      return held
    }
    const column = this.readFile(file, dtype, length)
    if (column) this.remember(file, column)
    return column
  }

  private remember(file: string, column: TypedArray): void {
    this.memory.delete(file)
    if (column.byteLength > MEMORY_BYTES) return
    this.memory.set(file, column)
    let bytes = 0
    for (const c of this.memory.values()) bytes += c.byteLength
    for (const [k, c] of this.memory) {
      if (this.memory.size <= MEMORY_ENTRIES && bytes <= MEMORY_BYTES) break
      this.memory.delete(k)
      bytes -= c.byteLength
    }
  }

  private readFile(file: string, dtype: NumericDtype, length: number): TypedArray | undefined {
    let bytes: Buffer
    try {
      bytes = readFileSync(file)
    } catch {
      return undefined
    }
    const payloadBytes = length * dtypeInfo(dtype).itemBytes
    if (bytes.length !== HEADER_BYTES + payloadBytes) return undefined
    if (bytes.readUInt32LE(0) !== MAGIC || bytes.readUInt32LE(4) !== VERSION || bytes.readDoubleLE(8) !== length) return undefined
    const payload = bytes.subarray(HEADER_BYTES)
    if (crc32(payload) !== bytes.readUInt32LE(16)) return undefined
    return typedArrayFromLittleEndian(dtype, payload)
  }

  /** The root (and length) last cached for tensor `name`, if any. */
  latest(name: string, dtype: NumericDtype): {root: string; length: number} | undefined {
    try {
      const [root, length] = readFileSync(this.latestFile(name, dtype), 'utf8').split(' ')
      return /^[0-9a-f]{64}$/.test(root) && Number.isSafeInteger(Number(length)) ? {root, length: Number(length)} : undefined
    } catch {
      return undefined
    }
  }

  private latestFile(name: string, dtype: NumericDtype): string {
    return join(this.dir, `latest-${sha256hex(new TextEncoder().encode(name)).slice(0, 16)}.${dtype}`)
  }

  /** Keeps `column` as the column of `indexRoot` (tensor `name`'s latest); failures are ignored (it is a cache). */
  put(indexRoot: string, dtype: NumericDtype, column: TypedArray, name?: string): void {
    this.remember(this.file(indexRoot, dtype), column)
    try {
      mkdirSync(this.dir, {recursive: true})
      const payload = littleEndianBytes(column)
      const out = Buffer.alloc(HEADER_BYTES + payload.length)
      out.writeUInt32LE(MAGIC, 0)
      out.writeUInt32LE(VERSION, 4)
      out.writeDoubleLE(column.length, 8)
      out.writeUInt32LE(crc32(payload), 16)
      out.set(payload, HEADER_BYTES)
      const target = this.file(indexRoot, dtype)
      const temp = `${target}.${process.pid}.tmp`
      writeFileSync(temp, out)
      renameSync(temp, target)
      if (name !== undefined) {
        const pointer = this.latestFile(name, dtype)
        writeFileSync(`${pointer}.${process.pid}.tmp`, `${indexRoot} ${column.length}`)
        renameSync(`${pointer}.${process.pid}.tmp`, pointer)
      }
      this.trim(target)
    } catch {
      // a full disk or a read-only dataset: the next add reads the index, as without a cache
    }
  }

  /** Keeps MAX_ENTRIES columns, the oldest go; never `keep` (just written: others may share its mtime). */
  private trim(keep: string): void {
    const entries = readdirSync(this.dir)
      .filter((name) => !name.endsWith('.tmp') && !name.startsWith('latest-') && join(this.dir, name) !== keep)
      .map((name) => ({name, mtimeMs: statSync(join(this.dir, name)).mtimeMs}))
    if (entries.length < MAX_ENTRIES) return
    entries.sort((a, b) => a.mtimeMs - b.mtimeMs)
    for (const {name} of entries.slice(0, entries.length - (MAX_ENTRIES - 1))) rmSync(join(this.dir, name), {force: true})
  }
}
