// The public library API: what the CLI does, for Node programs (training loaders, notebooks,
// the benchmark adapter). Every method maps onto one core op; see README "Library".
import {Repo} from './core/repo/repo.js'
import {add, type AddOptions, type AddResult} from './core/ops/add.js'
import {commit, type CommitResult} from './core/ops/commit.js'
import {checkout, resetStaged, type CheckoutResult} from './core/ops/checkout.js'
import {appendValues, createTensor, deleteRows, listTensors, updateValue} from './core/ops/edit.js'
import {exportVersion, type ExportFormat, type ExportResult} from './core/ops/export.js'
import {fsck, type FsckResult} from './core/ops/fsck.js'
import {diff, type DiffOptions, type DiffResult} from './core/ops/diff.js'
import {merge, type MergeOptions, type MergeResult} from './core/ops/merge.js'
import {gc, type GcResult} from './core/ops/gc.js'
import {log, type LogEntry} from './core/ops/log.js'
import {createBranch, createTag, deleteBranch, deleteTag, listBranches, listTags} from './core/ops/refs.js'
import {openVersion} from './core/ops/show.js'
import {resolve} from './core/ops/state.js'
import {status, type StatusResult} from './core/ops/status.js'
import {decodeSample, type SampleValue} from './core/format/sample.js'
import type {TensorMeta} from './core/format/tensor-meta.js'
import type {TypedArray} from './core/format/dtype.js'
import type {DataStore} from './core/dataset/store.js'
import type {TensorState, VersionRoot} from './core/dataset/version-root.js'

export {LakeError} from './core/errors.js'
export * as errors from './core/errors.js'
export type {TypedArray}
export type {AddOptions, AddResult, CommitResult, CheckoutResult, DiffOptions, DiffResult, ExportFormat, ExportResult, FsckResult, GcResult, LogEntry, MergeOptions, MergeResult, StatusResult, SampleValue, TensorMeta}

/** One version of a dataset, opened for reading: immutable, safe to share between readers. */
export class Version {
  constructor(readonly commit: string, private readonly root: VersionRoot, private readonly data: DataStore) {}

  tensors(): {name: string; htype: string; dtype: string; length: number}[] {
    return Object.entries(this.root.tensors)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, t]) => ({name, htype: t.meta.htype, dtype: t.meta.dtype, length: t.length}))
  }

  private tensor(name: string): TensorState {
    return this.data.tensor(this.root, name)
  }

  meta(tensor: string): TensorMeta {
    return this.tensor(tensor).meta
  }

  length(tensor: string): number {
    return this.tensor(tensor).length
  }

  /** Sample `index` of `tensor`, decoded (numbers/arrays, strings, JSON, or bytes for images/binary). */
  async read(tensor: string, index: number): Promise<SampleValue> {
    return this.data.readSample(this.tensor(tensor), index)
  }

  /** The stored bytes of one sample (image files as they were added), checksum-verified. */
  async readBytes(tensor: string, index: number): Promise<Uint8Array> {
    return this.data.readSampleBytes(this.tensor(tensor), index)
  }

  /** Numeric samples as {shape, data} without building nested arrays. */
  async readArray(tensor: string, index: number) {
    return this.data.readSampleArray(this.tensor(tensor), index)
  }

  async readRange(tensor: string, start: number, end: number): Promise<SampleValue[]> {
    const out: SampleValue[] = []
    for await (const s of this.stream(tensor, {start, end})) out.push(s.value)
    return out
  }

  /**
   * A whole column, or rows [start, end), in one call. Numeric tensors whose samples are single
   * elements (labels, scores) come back as one typed array of the tensor's dtype, decoded chunk by
   * chunk without per-sample objects (Int32Array for i32, BigInt64Array for i64, Uint8Array of 0/1
   * for bool); other tensors as an array of decoded samples, like readRange.
   */
  async column(tensor: string, opts: {start?: number; end?: number; prefetch?: number} = {}): Promise<TypedArray | SampleValue[]> {
    const t = this.tensor(tensor)
    const start = opts.start ?? 0
    const end = opts.end ?? t.length
    return (await this.data.readScalarColumn(t, start, end, opts)) ?? this.readRange(tensor, start, end)
  }

  /** Streams samples in order with parallel chunk prefetch (the building block of data loaders). */
  async *stream(tensor: string, opts: {start?: number; end?: number; prefetch?: number} = {}): AsyncGenerator<{index: number; value: SampleValue}> {
    const t = this.tensor(tensor)
    for await (const {index, bytes} of this.data.readRange(t, opts.start ?? 0, opts.end ?? t.length, opts)) {
      yield {index, value: decodeSample(t.meta, bytes)}
    }
  }

  /**
   * Like stream, but yields the raw stored bytes (no decoding), each verified (crc or chunk hash).
   * With `views: true` the bytes may be a view into a buffer the scan reuses, valid only until
   * the next sample is asked for: copy what you keep (it saves a copy per sample of large scans).
   */
  async *streamBytes(tensor: string, opts: {start?: number; end?: number; prefetch?: number; views?: boolean} = {}): AsyncGenerator<{index: number; bytes: Uint8Array}> {
    const t = this.tensor(tensor)
    for await (const {index, bytes} of this.data.readRange(t, opts.start ?? 0, opts.end ?? t.length, opts)) yield {index, bytes}
  }
}

/** A dataset on disk: the same operations as the `lake` CLI. */
export class Dataset {
  private constructor(private readonly repo: Repo) {}

  /** Opens the dataset at or above `dir` (default: LAKE_DIR or the working directory). */
  static async open(dir?: string): Promise<Dataset> {
    return new Dataset(await Repo.open(dir))
  }

  static async init(dir: string, opts: {storage?: string} = {}): Promise<Dataset> {
    return new Dataset(await Repo.init(dir, opts))
  }

  get path(): string {
    return this.repo.root
  }

  /**
   * Runs `fn` (operations on this dataset) with the dataset's event log held open throughout: a
   * loop of small changes, or add + commit + tag, then skips reopening it for each. Every
   * operation inside still has its own commit point. Other processes wait for the dataset until
   * `fn` is done (up to LAKE_LOCK_TIMEOUT, then they fail), so hold it for a burst, not a session.
   */
  batch<T>(fn: (ds: Dataset) => Promise<T>): Promise<T> {
    return this.repo.holdDb(() => fn(this))
  }

  /** A revision (HEAD, branch, tag, id prefix, REV~N, REV^2, REV@{time}, @{N}) → commit id. */
  resolve(rev: string): Promise<string> {
    return resolve(this.repo, rev)
  }

  async version(rev = 'HEAD'): Promise<Version> {
    const v = await openVersion(this.repo, rev)
    return new Version(v.commit, v.root, this.repo.data)
  }

  /** Tensors of the staged state. */
  async tensors() {
    return (await listTensors(this.repo)).tensors
  }

  createTensor(name: string, opts: {htype: string; dtype?: string; sampleCompression?: string; chunkCompression?: string; classNames?: string[]}) {
    return createTensor(this.repo, name, opts)
  }

  append(tensor: string, values: unknown[]) {
    return appendValues(this.repo, tensor, values)
  }

  update(tensor: string, index: number, value: unknown) {
    return updateValue(this.repo, tensor, index, value)
  }

  deleteRows(start: number, end = start + 1) {
    return deleteRows(this.repo, start, end)
  }

  add(paths: string[], opts?: AddOptions): Promise<AddResult> {
    return add(this.repo, paths, opts)
  }

  commit(message: string, opts: {allowEmpty?: boolean} = {}): Promise<CommitResult> {
    return commit(this.repo, {message, ...opts})
  }

  status(): Promise<StatusResult> {
    return status(this.repo)
  }

  checkout(rev: string, opts: {newBranch?: string; force?: boolean} = {}): Promise<CheckoutResult> {
    return checkout(this.repo, rev, opts)
  }

  /** Discards staged changes. */
  reset(): Promise<void> {
    return resetStaged(this.repo)
  }

  branches() {
    return listBranches(this.repo)
  }

  createBranch(name: string, start?: string) {
    return createBranch(this.repo, name, start)
  }

  deleteBranch(name: string) {
    return deleteBranch(this.repo, name)
  }

  tags() {
    return listTags(this.repo)
  }

  tag(name: string, rev?: string) {
    return createTag(this.repo, name, rev)
  }

  deleteTag(name: string) {
    return deleteTag(this.repo, name)
  }

  log(opts: {rev?: string; limit?: number; all?: boolean} = {}) {
    return log(this.repo, opts)
  }

  exportTo(dir: string, opts: {rev?: string; format?: ExportFormat; force?: boolean; tensors?: string[]} = {}): Promise<ExportResult> {
    return exportVersion(this.repo, opts.rev ?? 'HEAD', {to: dir, ...opts})
  }

  fsck(): Promise<FsckResult> {
    return fsck(this.repo)
  }

  /** `lake diff`: no revision = HEAD vs staged, one = A vs staged, two = A vs B. */
  diff(a?: string, b?: string, opts: DiffOptions = {}): Promise<DiffResult> {
    return diff(this.repo, a, b, opts)
  }

  /** `lake merge REV`: three-way merge of REV into the current branch, by sample identity. */
  merge(rev: string, opts: MergeOptions = {}): Promise<MergeResult> {
    return merge(this.repo, rev, opts)
  }

  /** `lake gc`: deletes unreachable objects older than `graceMs` (default 1 h); `dryRun` only reports. */
  gc(opts: {dryRun?: boolean; graceMs?: number} = {}): Promise<GcResult> {
    return gc(this.repo, opts)
  }

  close(): Promise<void> {
    return this.repo.close()
  }
}
