// Materializing a version as files. Rows are streamed from every tensor in step (one chunk per
// tensor in memory at a time), so exporting a large version stays memory bounded.
import fs from 'node:fs/promises'
import path from 'node:path'
import type {Repo} from '../repo/repo.js'
import {BadInputFileError, TargetNotEmptyError, UnsafePathError, UsageError} from '../errors.js'
import {decodeSample, decodeSampleArray, type SampleValue} from '../format/sample.js'
import {sampleToJson} from '../format/sample-json.js'
import type {TensorState, VersionRoot} from '../dataset/version-root.js'
import {ensureEmptyTarget, writeFileUnder} from '../io/files.js'
import {writeAtomic, writeError} from '../io/atomic.js'
import {writeNpy} from '../io/npy.js'
import {openVersion} from './show.js'
import type {TypedArray} from '../format/dtype.js'
import {imageExtension} from './formats.js'

export type ExportFormat = 'files' | 'imagefolder' | 'csv' | 'jsonl' | 'npy'

export interface ExportResult {
  written: number
  bytes: number
  format: ExportFormat
  commit: string
}

export function defaultExportFormat(root: VersionRoot): ExportFormat {
  const t = root.tensors
  if (t.path?.meta.htype === 'text' && t.content) return 'files'
  if (t.images?.meta.htype === 'image' && t.labels?.meta.htype === 'class_label') return 'imagefolder'
  return 'jsonl'
}

export async function exportVersion(repo: Repo, rev: string, opts: {to: string; format?: ExportFormat; force?: boolean; tensors?: string[]; onProgress?: (done: number, total: number) => void}): Promise<ExportResult> {
  const {commit, root} = await openVersion(repo, rev)
  const format = opts.format ?? defaultExportFormat(root)
  const names = opts.tensors?.length ? opts.tensors : Object.keys(root.tensors).sort()
  const tensors = names.map((n) => repo.data.tensor(root, n))
  const created = await ensureEmptyTarget(opts.to, opts.force)
  const run = {files: exportFiles, imagefolder: exportImageFolder, csv: exportTable, jsonl: exportTable, npy: exportNpy}[format]
  // Everything is written into a staging directory beside the target and moved in only when the
  // whole export succeeded: a refused or failed export leaves the target as it was.
  const staging = await fs.mkdtemp(path.join(path.dirname(path.resolve(opts.to)), '.lake-export-'))
  try {
    const {written, bytes} = await run(repo, root, tensors, staging, format, opts.onProgress)
    await moveInto(staging, path.resolve(opts.to))
    return {written, bytes, format, commit}
  } catch (err) {
    // The directory this export made goes too (rmdir: only while it is still empty).
    if (created) await fs.rmdir(opts.to).catch(() => undefined)
    throw err
  } finally {
    await fs.rm(staging, {recursive: true, force: true})
  }
}

/**
 * Moves the staged tree into `target`, merging into directories that exist (--force). Every
 * destination is checked before the first move, so a refusal leaves the target as it was: a
 * symlink in the way is refused (an export never writes through a link, which could lead out of
 * the target, nor over one), and so is a file where a directory goes or the other way round.
 */
async function moveInto(from: string, target: string): Promise<void> {
  const moves: [string, string][] = []
  await planMoves(from, target, target, moves)
  for (const [src, dst] of moves) {
    await fs.rename(src, dst).catch((err: NodeJS.ErrnoException) => {
      throw writeError(err, dst)
    })
  }
}

async function planMoves(from: string, dir: string, target: string, moves: [string, string][]): Promise<void> {
  for (const entry of await fs.readdir(from, {withFileTypes: true})) {
    const src = path.join(from, entry.name)
    const dst = path.join(dir, entry.name)
    const existing = await fs.lstat(dst).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null
      throw writeError(err, dst)
    })
    const shown = path.relative(target, dst)
    if (existing?.isSymbolicLink()) {
      throw new UnsafePathError(`${dst} is a symlink: export does not write through or over links`, {hint: `remove ${shown} from the target, or export into another directory`, data: {path: shown}})
    }
    if (existing && existing.isDirectory() !== entry.isDirectory()) {
      throw new TargetNotEmptyError(`${dst}: a ${existing.isDirectory() ? 'directory' : 'file'} is in the way of the exported ${entry.isDirectory() ? 'directory' : 'file'}`, {
        hint: `remove ${shown} from the target, or export into another directory`, data: {path: shown},
      })
    }
    if (existing?.isDirectory()) await planMoves(src, dst, target, moves)
    else moves.push([src, dst])
  }
}

type Exporter = (repo: Repo, root: VersionRoot, tensors: TensorState[], to: string, format: ExportFormat, progress?: (d: number, t: number) => void) => Promise<{written: number; bytes: number}>

/** Rows [0, max length): each tensor's bytes at that row, or undefined past its end. */
async function* rows(repo: Repo, tensors: TensorState[]): AsyncGenerator<(Uint8Array | undefined)[]> {
  const its = tensors.map((t) => repo.data.readRange(t, 0, t.length)[Symbol.asyncIterator]())
  const n = Math.max(0, ...tensors.map((t) => t.length))
  for (let i = 0; i < n; i++) {
    const row: (Uint8Array | undefined)[] = []
    for (let k = 0; k < its.length; k++) row.push(i < tensors[k].length ? (await its[k].next()).value.bytes : undefined)
    yield row
  }
}

function need(root: VersionRoot, name: string, htypes: string[], format: string): TensorState {
  const t = root.tensors[name]
  if (!t || !htypes.includes(t.meta.htype)) {
    throw new BadInputFileError(`--format ${format} needs a tensor '${name}' (${htypes.join(' or ')})`, {hint: 'choose --format jsonl, csv or npy'})
  }
  return t
}

const exportFiles: Exporter = async (repo, root, _tensors, to, _format, progress) => {
  const pathT = need(root, 'path', ['text'], 'files')
  const contentT = need(root, 'content', ['binary', 'image'], 'files')
  let written = 0
  let bytes = 0
  // Rows appended by hand can repeat a path: one would silently overwrite the other.
  const rowOf = new Map<string, number>()
  let row = 0
  for await (const [p, content] of rows(repo, [pathT, contentT])) {
    const index = row++
    if (!p || !content) continue
    const relPath = decodeSample(pathT.meta, p) as string
    const first = rowOf.get(relPath)
    if (first !== undefined) {
      throw new BadInputFileError(`rows ${first} and ${index} both hold path ${JSON.stringify(relPath)}: one file would overwrite the other`, {
        hint: "give each row its own path (lake update -t path ...), or export with --format jsonl", data: {path: relPath},
      })
    }
    rowOf.set(relPath, index)
    bytes += await writeFileUnder(to, relPath, content)
    progress?.(++written, pathT.length)
  }
  return {written, bytes}
}

const exportImageFolder: Exporter = async (repo, root, _tensors, to, _format, progress) => {
  const images = need(root, 'images', ['image'], 'imagefolder')
  const labels = need(root, 'labels', ['class_label'], 'imagefolder')
  const paths = root.tensors.path?.meta.htype === 'text' ? root.tensors.path : undefined
  const classNames = labels.meta.classNames ?? []
  const rowOf = new Map<string, number>()
  let written = 0
  let bytes = 0
  let i = 0
  for await (const [img, label, p] of rows(repo, paths ? [images, labels, paths] : [images, labels])) {
    const index = i++
    if (!img || !label) continue
    const cls = decodeSample(labels.meta, label) as number
    const className = classNames[cls] ?? String(cls)
    const base = p ? path.posix.basename(decodeSample(paths!.meta, p) as string) : `${String(index).padStart(8, '0')}.${imageExtension(img)}`
    const relPath = `${className}/${base}`
    // Two images of a class whose paths share a base name would land on one file.
    const first = rowOf.get(relPath)
    if (first !== undefined) {
      throw new BadInputFileError(`rows ${first} and ${index} would both be exported as ${JSON.stringify(relPath)}`, {
        hint: 'give the images distinct file names in the path tensor, or export with --format files', data: {path: relPath},
      })
    }
    rowOf.set(relPath, index)
    bytes += await writeFileUnder(to, relPath, img)
    progress?.(++written, images.length)
  }
  return {written, bytes}
}

const csvCell = (v: unknown): string => {
  const s = typeof v === 'string' ? v : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

const exportTable: Exporter = async (repo, _root, tensors, to, format, progress) => {
  const file = path.join(to, `data.${format}`)
  const names = tensors.map((t) => t.meta.name)
  let written = 0
  async function* lines(): AsyncGenerator<Uint8Array> {
    if (format === 'csv') yield Buffer.from(names.map(csvCell).join(',') + '\n')
    for await (const row of rows(repo, tensors)) {
      const values = row.map((b, k) => (b ? sampleToJson(tensors[k].meta, decodeSample(tensors[k].meta, b) as SampleValue) : null))
      if (format === 'csv') yield Buffer.from(values.map(csvCell).join(',') + '\n')
      else yield Buffer.from(JSON.stringify(Object.fromEntries(names.map((n, k) => [n, values[k]]))) + '\n')
      progress?.(++written, 0)
    }
  }
  const bytes = await writeAtomic(file, lines())
  return {written, bytes}
}

const exportNpy: Exporter = async (repo, _root, tensors, to, _format) => {
  let written = 0
  let bytes = 0
  for (const t of tensors) {
    if (!['generic', 'embedding', 'bbox', 'class_label'].includes(t.meta.htype) || t.meta.dtype === 'str') {
      throw new UsageError(`tensor '${t.meta.name}' (${t.meta.htype}) cannot be exported as .npy`, {hint: 'pick numeric tensors with --tensor, or use --format jsonl'})
    }
    // .npy needs one shape for all samples: read the first to learn it, check the rest as they stream.
    let sampleShape: number[] = []
    if (t.length > 0) sampleShape = decodeSampleArray(t.meta, await repo.data.sampleBytes(t.meta, await repo.data.entry(t, 0))).shape
    async function* data(): AsyncGenerator<TypedArray> {
      for await (const {index, bytes: b} of repo.data.readRange(t, 0, t.length)) {
        const a = decodeSampleArray(t.meta, b)
        if (a.shape.join(',') !== sampleShape.join(',')) {
          throw new UsageError(`tensor '${t.meta.name}' sample ${index} has shape [${a.shape}], not [${sampleShape}]: .npy needs one shape`, {hint: 'export it with --format jsonl'})
        }
        yield a.data
      }
    }
    bytes += await writeNpy(path.join(to, `${t.meta.name}.npy`), t.meta.dtype, [t.length, ...sampleShape], data())
    written++
  }
  return {written, bytes}
}
