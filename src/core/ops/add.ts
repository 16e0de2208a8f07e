// `lake add`: stage data from files. Every path of one call lands in one change (one stage
// event): a bad row anywhere refuses the whole call and changes nothing. Files are read and
// chunks written without holding the dataset (see stage.ts).
import fs from 'node:fs/promises'
import path from 'node:path'
import type {Repo} from '../repo/repo.js'
import type {ChangeBuilder} from '../dataset/changeset.js'
import {newSampleId} from '../dataset/ids.js'
import {createTensorMeta, withClassNames, type TensorMeta, type TensorMetaOptions} from '../format/tensor-meta.js'
import {decodeSample, encodeSample} from '../format/sample.js'
import {inferCsvColumn, inferJsonKey, parseCell} from '../format/infer.js'
import {valueFromJson} from '../format/sample-json.js'
import {BadInputFileError, UsageError} from '../errors.js'
import {detectFormat, INPUT_FORMATS, type InputFormat} from '../io/detect.js'
import {walkFiles} from '../io/files.js'
import {checkRelPath} from '../io/paths.js'
import {imageFolderClasses, walkImageFolder} from '../io/imagefolder.js'
import {csvHeader, readCsv} from '../io/csv.js'
import {readJsonl} from '../io/jsonl.js'
import {readNpyHeader, readNpyRows} from '../io/npy.js'
import {readInputHead, statInput} from '../io/input.js'
import {stageChange} from './stage.js'

export type AddFormat = InputFormat | 'auto'

export interface AddOptions {
  format?: AddFormat
  /** npy: the tensor to fill (default: the file's base name). */
  tensor?: string
  /** csv/jsonl: upsert rows by this column. */
  key?: string
  /** files: store paths under this prefix; re-adding syncs (and deletes) only under it. */
  prefix?: string
  onProgress?: (rows: number) => void
}

export interface AddResult {
  added: number
  updated: number
  deleted: number
  tensors: string[]
}

interface Tally {
  added: number
  updated: number
  deleted: number
  tensors: Set<string>
  rows: number
}

export async function add(repo: Repo, paths: string[], opts: AddOptions = {}): Promise<AddResult> {
  if (paths.length === 0) throw new UsageError('nothing to add: name at least one path')
  const format = opts.format ?? 'auto'
  if (format !== 'auto' && !INPUT_FORMATS.includes(format)) throw new UsageError(`unknown format '${format}'`, {hint: `formats: auto, ${INPUT_FORMATS.join(', ')}`})
  // Resolve every input before staging anything: a missing file refuses the whole call.
  const inputs: {file: string; format: InputFormat}[] = []
  for (const p of paths) inputs.push({file: p, format: format === 'auto' ? await detectFormat(p) : (await statInput(p), format)})
  // files inputs are upserts by path already, so they may come along; --key keys the tables
  const keyed = (i: {format: InputFormat}) => i.format === 'csv' || i.format === 'jsonl' || i.format === 'files'
  if (opts.key && (inputs.some((i) => !keyed(i)) || inputs.every((i) => i.format === 'files'))) {
    throw new UsageError('--key works with csv and jsonl inputs', {hint: 'files inputs may come along (they are matched by path); imagefolder and npy inputs only append'})
  }
  const tally: Tally = {added: 0, updated: 0, deleted: 0, tensors: new Set(), rows: 0}
  const chunkSize = repo.config.values['chunk.size']
  const ctx: ImportContext = {
    tally,
    opts,
    newMeta: (name, o) => createTensorMeta(name, {...o, ...(chunkSize ? {maxChunkBytes: Number(chunkSize)} : {})}),
  }
  await stageChange(repo, 'add', async (b) => {
    const fileInputs = inputs.filter((i) => i.format === 'files').map((i) => i.file)
    if (fileInputs.length) await importFiles(b, ctx, fileInputs)
    for (const input of inputs) {
      if (input.format === 'imagefolder') await importImageFolder(b, ctx, input.file)
      else if (input.format === 'csv' || input.format === 'jsonl') await importTable(b, ctx, input.file, input.format)
      else if (input.format === 'npy') await importNpy(b, ctx, input.file)
    }
  })
  return {added: tally.added, updated: tally.updated, deleted: tally.deleted, tensors: [...tally.tensors].sort()}
}

interface ImportContext {
  tally: Tally
  opts: AddOptions
  newMeta: (name: string, o: TensorMetaOptions) => TensorMeta
}

function ensureTensor(b: ChangeBuilder, ctx: ImportContext, name: string, o: TensorMetaOptions): TensorMeta {
  if (!b.hasTensor(name)) b.createTensor(ctx.newMeta(name, o))
  ctx.tally.tensors.add(name)
  return b.meta(name)
}

function progress(ctx: ImportContext) {
  ctx.tally.rows++
  if (ctx.tally.rows % 256 === 0) ctx.opts.onProgress?.(ctx.tally.rows)
}

/**
 * Reads a tensor's values at the base version, keyed by their text (for upserts by path or key).
 * With `wanted`, only those keys are kept: an upsert of 100 rows into 1M then costs one column read
 * and a numeric membership test per row, not a million strings in a map; with `prefix`, only
 * texts that start with it.
 */
async function positionsByValue(b: ChangeBuilder, tensor: string, wanted?: Set<string>, prefix = ''): Promise<Map<string, number>> {
  const map = new Map<string, number>()
  const t = b.base.tensors[tensor]
  if (!t || wanted?.size === 0) return map
  const keep = (text: string, i: number) => {
    if ((!wanted || wanted.has(text)) && text.startsWith(prefix)) map.set(text, i)
  }
  // numeric keys (ids) in one column read: no per-row sample objects
  const column = t.meta.dtype === 'bool' ? undefined : await b.store.readWholeScalarColumn(t)
  if (column) {
    const numbers = wanted && numericKeys(wanted)
    for (let i = 0; i < column.length; i++) {
      const x = column[i]
      if (numbers && !numbers.has(x)) continue
      // the same text decodeSample's value gives: 64-bit ints as numbers when safe
      keep(typeof x === 'bigint' ? keyText(x >= MIN_SAFE && x <= MAX_SAFE ? Number(x) : x) : keyText(x), i)
    }
    return map
  }
  // texts: only those under the prefix become strings
  // (the chunks stay cached: a library process that adds again reads only the chunks new since)
  if (await b.store.visitTexts(t, 0, t.length, prefix, keep, {keepSmallChunks: true})) return map
  for await (const {index, bytes} of b.store.readRange(t, 0, t.length)) keep(keyText(decodeSample(t.meta, bytes)), index)
  return map
}

/**
 * The wanted key texts as the numbers (and bigints) a numeric column holds, to skip non-matching
 * rows without making their text; undefined when some key is not a plain number's text (NaN's
 * "null", say), and every row's text must be made after all.
 */
function numericKeys(wanted: Set<string>): Set<number | bigint> | undefined {
  const out = new Set<number | bigint>()
  for (const k of wanted) {
    const n = Number(k)
    if (k === '' || String(n) !== k) return undefined
    out.add(n)
    if (Number.isInteger(n)) out.add(BigInt(k))
  }
  return out
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

// numbers take the fast path (String equals JSON.stringify for finite numbers): a key column of ids
// is turned into text once per add, for every row of the dataset
const keyText = (v: unknown) =>
  typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x))

/** True when the stored sample at `index` (base version) has exactly these bytes. */
async function storedEquals(b: ChangeBuilder, tensor: string, index: number, bytes: Uint8Array): Promise<boolean> {
  const t = b.base.tensors[tensor]
  if (!t || index >= t.length) return false
  const entry = await b.store.entry(t, index)
  if (entry.length !== bytes.byteLength) return false
  return Buffer.from(await b.store.sampleBytes(t.meta, entry)).equals(bytes)
}

function deleteRow(b: ChangeBuilder, index: number) {
  for (const name of b.tensorNames()) if (index < b.baseLength(name)) b.delete(name, index)
}

// --- files: a directory mirrored by path (tensors `path` and `content`) ---------------------------
async function importFiles(b: ChangeBuilder, ctx: ImportContext, inputs: string[]) {
  const pathMeta = ensureTensor(b, ctx, 'path', {htype: 'text'})
  const contentMeta = ensureTensor(b, ctx, 'content', {htype: 'binary'})
  const prefix = ctx.opts.prefix ? checkPrefix(ctx.opts.prefix) : ''
  // only paths under the prefix can match or be deleted
  const existing = await positionsByValue(b, 'path', undefined, prefix)
  const seen = new Set<string>()
  let syncsDirectory = false
  for (const input of inputs) {
    const info = await statInput(input)
    const files = info.isDirectory() ? walkFiles(input) : single(input, info.size)
    syncsDirectory ||= info.isDirectory()
    for await (const f of readAhead(files)) {
      const relPath = prefix + f.relPath
      // walkFiles checks the names it finds; a single file's name (say 'a\\b') is checked here.
      checkRelPath(relPath)
      if (seen.has(relPath)) throw new BadInputFileError(`two inputs both hold '${relPath}'`, {hint: 'add them with different --prefix values'})
      seen.add(relPath)
      const bytes = f.bytes
      const content = encodeSample(contentMeta, bytes, {index: 0})
      const at = existing.get(relPath)
      if (at === undefined) {
        const id = newSampleId()
        await b.append('path', encodeSample(pathMeta, relPath, {index: b.length('path')}), id)
        await b.append('content', content, id)
        ctx.tally.added++
      } else if (!(await storedEquals(b, 'content', at, content))) {
        await b.update('content', at, content)
        ctx.tally.updated++
      }
      progress(ctx)
    }
  }
  // Re-adding a directory mirrors it: paths under the prefix that are gone are deleted.
  if (syncsDirectory) {
    for (const [p, at] of existing) {
      if (p.startsWith(prefix) && !seen.has(p)) {
        deleteRow(b, at)
        ctx.tally.deleted++
      }
    }
  }
}

/** Files up to this size are read synchronously (see readAhead). */
const SYNC_READ_MAX = 256 * 1024

/**
 * The buffers readAhead reads small files into, in turn: a file's bytes stay valid until `size`
 * more files are read. A new buffer per file costs a page fault per 4 KiB touched (~10 µs each on
 * virtual machines): 200 images of 24 KiB took 14–31 ms to read so, 3 ms into buffers used before.
 * Each buffer is allocated on first use and only touched as far as files fill it.
 */
class ReadRing {
  private readonly buffers: Buffer[] = []
  private next = 0

  constructor(private readonly size: number) {}

  take(): Buffer {
    const k = this.next
    this.next = (k + 1) % this.size
    return (this.buffers[k] ??= Buffer.allocUnsafeSlow(SYNC_READ_MAX))
  }
}

/** A file read here and now when it turns out small (into `ring`), else through the thread pool. */
async function readSized<T extends {absPath: string}>(f: T, ring: ReadRing): Promise<T & {bytes: Buffer}> {
  const {bytes, whole} = readInputHead(f.absPath, SYNC_READ_MAX, {wholeOnly: true, into: ring.take()})
  return {...f, bytes: whole ? bytes : await fs.readFile(f.absPath)}
}

/**
 * File contents in walk order with up to `depth` reads in flight: one read at a time leaves the
 * disk and the thread pool idle between small files. The bytes of a small file live in a
 * ReadRing: they stay valid until the consumer has asked for the file after next; what it keeps
 * of them (a copy into a chunk) it takes before then.
 */
async function* readAhead<T extends {absPath: string; size?: number}>(files: AsyncIterable<T>, depth = 16): AsyncGenerator<T & {bytes: Buffer}> {
  const pending: Promise<T & {bytes: Buffer}>[] = []
  // a slot is written when the consumer asks for the next file: depth - 1 files pending and the
  // one being read then need depth slots; two more keep a file's bytes until the consumer asks
  // for the file after next (slack for a consumer that asks before it is done with a file)
  const ring = new ReadRing(depth + 2)
  for await (const f of files) {
    // Small files (images, labels) are read synchronously: readFile's four thread-pool round trips
    // (open, fstat, read, close) cost the main thread more than the copy itself.
    const read = f.size === undefined || f.size <= SYNC_READ_MAX ? readSized(f, ring) : fs.readFile(f.absPath).then((bytes) => ({...f, bytes}))
    read.catch(() => undefined) // awaited in order below; this only keeps an early failure from being "unhandled"
    pending.push(read)
    // Keep reading while the consumer works; surface a failed read in order.
    if (pending.length >= depth) yield await pending.shift()!
  }
  while (pending.length > 0) yield await pending.shift()!
}

async function* single(file: string, size: number) {
  yield {relPath: path.basename(file), absPath: file, size}
}

function checkPrefix(prefix: string): string {
  const clean = prefix.replace(/\/+$/, '')
  checkRelPath(clean)
  return clean + '/'
}

// --- imagefolder: DIR/<class>/<image> into images, labels (class names kept), path ---------------
async function importImageFolder(b: ChangeBuilder, ctx: ImportContext, dir: string) {
  const imagesMeta = ensureTensor(b, ctx, 'images', {htype: 'image', sampleCompression: 'none'})
  let labelsMeta = ensureTensor(b, ctx, 'labels', {htype: 'class_label', classNames: []})
  const pathMeta = ensureTensor(b, ctx, 'path', {htype: 'text'})
  const known = labelsMeta.classNames ?? []
  const fresh = (await imageFolderClasses(dir)).filter((c) => !known.includes(c))
  if (fresh.length) {
    labelsMeta = withClassNames(labelsMeta, fresh)
    b.setMeta(labelsMeta)
  }
  for await (const img of readAhead(walkImageFolder(dir))) {
    const id = newSampleId()
    const bytes = img.bytes
    await b.append('images', encodeSample(imagesMeta, bytes, {index: b.length('images'), file: img.absPath}), id)
    await b.append('labels', encodeSample(labelsMeta, img.className, {index: b.length('labels')}), id)
    await b.append('path', encodeSample(pathMeta, img.relPath, {index: b.length('path')}), id)
    ctx.tally.added++
    progress(ctx)
  }
}

// --- csv / jsonl: one tensor per column or key, row by row; --key upserts -------------------------
type Row = {line: number; record: Record<string, unknown>}

function readRows(file: string, format: 'csv' | 'jsonl'): AsyncIterable<Row> {
  return format === 'csv' ? readCsv(file) : readJsonl(file)
}

async function importTable(b: ChangeBuilder, ctx: ImportContext, file: string, format: 'csv' | 'jsonl') {
  // Pass 1: learn the columns, and infer a spec for those without a tensor yet.
  const samples = new Map<string, unknown[]>()
  const order: string[] = []
  let rowCount = 0
  // A CSV whose columns all have tensors needs no inference pass: its header says it all.
  const header = format === 'csv' ? await csvHeader(file) : null
  const known = header !== null && header.every((c) => b.hasTensor(c))
  if (known) order.push(...header)
  const key = ctx.opts.key
  // the key cell of every row, kept by whichever pass reads the file first (parsed once the
  // columns' types are known): only those keys' rows of the dataset need finding
  const keyRows: Row[] | undefined = !known && key ? [] : undefined
  if (!known) for await (const {line, record} of readRows(file, format)) {
    keyRows?.push({line, record: {[key!]: record[key!]}})
    rowCount++
    for (const k of Object.keys(record)) {
      if (!samples.has(k)) {
        samples.set(k, new Array(rowCount - 1).fill(undefined))
        order.push(k)
      }
    }
    for (const k of order) {
      const list = samples.get(k)!
      if (!b.hasTensor(k)) list.push(record[k])
    }
  }
  if (key && !order.includes(key)) throw new BadInputFileError(`${file}: no column '${key}' to use as --key`, {hint: `columns: ${order.join(', ')}`})
  const metas = new Map<string, TensorMeta>()
  for (const name of order) {
    if (!b.hasTensor(name)) {
      const values = samples.get(name)!
      const spec = format === 'csv' ? inferCsvColumn(values.map((v) => (v === undefined ? '' : String(v)))) : inferJsonKey(values)
      b.createTensor(ctx.newMeta(name, spec))
    }
    ctx.tally.tensors.add(name)
    metas.set(name, b.meta(name))
  }
  samples.clear()
  const cell = ({line, record}: Row, name: string) => {
    const raw = record[name]
    const meta = metas.get(name)!
    const where = {index: b.length(name), file, line}
    if (format === 'csv') return parseCell(meta, String(raw ?? ''), where)
    if (typeof raw === 'number' && Number.isInteger(raw) && !Number.isSafeInteger(raw)) {
      throw new BadInputFileError(`${file} line ${line}: '${name}' holds an integer beyond 2^53 that JSON cannot carry exactly`, {hint: 'write it as a decimal string, e.g. "9007199254740993"'})
    }
    return raw === undefined ? missingValue(meta) : valueFromJson(meta, raw, where)
  }
  // The keys this file names, first: only their rows of the dataset need finding.
  let positions = new Map<string, number>()
  if (key && b.hasTensor(key)) {
    const wanted = new Set<string>()
    if (keyRows) for (const row of keyRows) wanted.add(keyText(cell(row, key)))
    else for await (const row of readRows(file, format)) wanted.add(keyText(cell(row, key)))
    positions = await positionsByValue(b, key, wanted)
  }
  const keysSeen = new Set<string>()
  // Pass 2: encode and stage every row.
  for await (const row of readRows(file, format)) {
    const {line, record} = row
    const where = (name: string) => ({index: b.length(name), file, line})
    const value = (name: string) => cell(row, name)
    if (key) {
      const k = keyText(value(key))
      if (keysSeen.has(k)) throw new BadInputFileError(`${file} line ${line}: key '${k}' appears twice`, {hint: `--key ${key} must be unique within a file`})
      keysSeen.add(k)
      const at = positions.get(k)
      if (at !== undefined) {
        let changed = false
        for (const name of order) {
          if (name === key || !(name in record)) continue
          const bytes = encodeSample(metas.get(name)!, value(name), {index: at, file, line})
          if (at < b.baseLength(name) && (await storedEquals(b, name, at, bytes))) continue
          if (at >= b.baseLength(name)) throw new BadInputFileError(`${file} line ${line}: tensor '${name}' has no sample at row ${at} to update`)
          await b.update(name, at, bytes)
          changed = true
        }
        if (changed) ctx.tally.updated++
        progress(ctx)
        continue
      }
    }
    const id = newSampleId()
    for (const name of order) await b.append(name, encodeSample(metas.get(name)!, value(name), where(name)), id)
    ctx.tally.added++
    progress(ctx)
  }
}

function missingValue(meta: TensorMeta): unknown {
  if (meta.htype === 'text') return ''
  if (meta.htype === 'json') return null
  if (meta.dtype === 'f32' || meta.dtype === 'f64') return NaN
  return null
}

// --- npy: one tensor, first axis = samples --------------------------------------------------------
async function importNpy(b: ChangeBuilder, ctx: ImportContext, file: string) {
  const header = await readNpyHeader(file)
  const name = ctx.opts.tensor ?? path.basename(file, path.extname(file))
  const meta = ensureTensor(b, ctx, name, {htype: 'generic', dtype: header.dtype, rank: Math.max(0, header.shape.length - 1)})
  for await (const row of readNpyRows(file)) {
    await b.append(name, encodeSample(meta, {shape: row.shape, data: row.data}, {index: b.length(name)}), newSampleId())
    ctx.tally.added++
    progress(ctx)
  }
}
