// A disk cache of whole numeric columns, keyed by the tensor's index root (a content hash, so an
// entry can never go stale: another version of the column has another root). `lake add --key`
// needs every key of the base version to find the rows a file names; at 1M rows reading them from
// the index is ~2000 leaf nodes (~1 s), from here one 4 MB file. Updating other columns (labels)
// keeps the key tensor's root, so a run of keyed updates hits every time.
//
// File <dir>/<index root>.<dtype>: 'LKCC', u32 version 1, f64 length, u32 crc32 of the payload,
// u32 reserved, then the column's little-endian bytes. A damaged, short or foreign file is
// ignored (and rewritten); nothing in it is trusted without its crc. Not durable, not shared with
// other machines: it is only ever a shortcut to what the index holds.
import {mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {crc32} from 'node:zlib'
import {dtypeInfo, littleEndianBytes, typedArrayFromLittleEndian, type NumericDtype, type TypedArray} from '../format/dtype.js'

const MAGIC = 0x4343_4b4c // 'LKCC' little-endian
const VERSION = 1
const HEADER_BYTES = 24
/** Columns shorter than this are read from the index: cheap enough, and no file churn. */
export const COLUMN_CACHE_MIN_ROWS = 100_000
/** Entries kept; the oldest go first. */
const MAX_ENTRIES = 8

export class ColumnCache {
  /** `minRows`: shorter columns are not cached (default COLUMN_CACHE_MIN_ROWS). */
  constructor(
    readonly dir: string,
    readonly minRows = COLUMN_CACHE_MIN_ROWS,
  ) {}

  private file(indexRoot: string, dtype: NumericDtype): string {
    return join(this.dir, `${indexRoot}.${dtype}`)
  }

  /** The column of the index `indexRoot` when cached and intact, else undefined. */
  get(indexRoot: string, dtype: NumericDtype, length: number): TypedArray | undefined {
    let bytes: Buffer
    try {
      bytes = readFileSync(this.file(indexRoot, dtype))
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

  /** Keeps `column` as the column of `indexRoot`; failures are ignored (it is a cache). */
  put(indexRoot: string, dtype: NumericDtype, column: TypedArray): void {
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
      this.trim()
    } catch {
      // a full disk or a read-only dataset: the next add reads the index, as without a cache
    }
  }

  private trim(): void {
    const entries = readdirSync(this.dir)
      .filter((name) => !name.endsWith('.tmp'))
      .map((name) => ({name, mtimeMs: statSync(join(this.dir, name)).mtimeMs}))
    if (entries.length <= MAX_ENTRIES) return
    entries.sort((a, b) => a.mtimeMs - b.mtimeMs)
    for (const {name} of entries.slice(0, entries.length - MAX_ENTRIES)) rmSync(join(this.dir, name), {force: true})
  }
}
