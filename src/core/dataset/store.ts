// The object-level view of versions: version roots, commits, tensor samples. Everything here is
// immutable and content-addressed, so caches keyed by hash never go stale.
import {crc32} from 'node:zlib'
import {sha256hex} from '../hash.js'
import {Lru} from '../lru.js'
import {CorruptObjectError, IndexOutOfRangeError, UnknownTensorError} from '../errors.js'
import {CHUNK_HEADER_BYTES, chunkPayload, parseChunkHeader, rawSampleByteRange} from '../format/chunk.js'
import {checksumWorker} from '../checksum-worker.js'
import {dtypeInfo, typedArrayFromLittleEndian, type NumericDtype, type TypedArray} from '../format/dtype.js'
import {decodeSample, decodeSampleArray, isNumericHtype, type SampleValue} from '../format/sample.js'
import type {TensorMeta} from '../format/tensor-meta.js'
import {cachedNodeIO, diffIndexes, getEntry, readLeafSliceBatches, type IndexEntry, type LeafSlice, type NodeIO} from '../index/index.js'
import type {LeafNode, LeafNumbers} from '../index/node.js'
import type {ObjectDb} from '../storage/objects.js'
import {decodeCommit, encodeCommit, type Commit} from '../version/commit.js'
import {decodeRoot, EMPTY_ROOT, encodeRoot, type TensorState, type VersionRoot} from './version-root.js'
import {ownBytes, ownedCopy, scanReadBuffers, type ScanBuffers} from './scan-buffers.js'
import type {ColumnCache} from './column-cache.js'
import {toRanges} from './diff.js'

export class DataStore {
  readonly nodes: NodeIO
  private readonly roots = new Lru<string, VersionRoot>({maxEntries: 256})
  private readonly payloads = new Lru<string, Payload>({maxSize: 128 * 1024 * 1024, sizeOf: (v) => Math.max(1, v.bytes.byteLength)})

  /** Whole numeric columns by index root, on disk (the Repo sets it for a dataset directory). */
  columnCache?: ColumnCache

  constructor(readonly objects: ObjectDb, readonly rangeReads: boolean) {
    // Index nodes are re-hashed and cached decoded by the index (index/cache.ts): reading them
    // through ObjectDb.get would hash each a second time and keep a second, raw copy.
    this.nodes = cachedNodeIO({read: (h) => objects.getUnverified(h), write: (b) => objects.put(b), visitMany: (hs, visit) => objects.visitUnverified(hs, visit)})
  }

  async putRoot(root: VersionRoot): Promise<string> {
    const id = await this.objects.put(encodeRoot(root))
    this.roots.set(id, root)
    return id
  }

  async getRoot(id: string): Promise<VersionRoot> {
    let root = this.roots.get(id)
    if (!root) {
      root = decodeRoot(await this.objects.get(id), id)
      this.roots.set(id, root)
    }
    return root
  }

  emptyRoot(): Promise<string> {
    return this.putRoot(EMPTY_ROOT)
  }

  async putCommit(commit: Commit): Promise<string> {
    return this.objects.put(encodeCommit(commit))
  }

  async getCommit(id: string): Promise<Commit> {
    return decodeCommit(await this.objects.get(id), id)
  }

  tensor(root: VersionRoot, name: string): TensorState {
    const t = root.tensors[name]
    if (!t) {
      const names = Object.keys(root.tensors)
      throw new UnknownTensorError(`unknown tensor '${name}'`, {
        hint: names.length ? `tensors: ${names.join(', ')}` : "this version has no tensors; create one with 'lake tensor create' or 'lake add'",
      })
    }
    return t
  }

  async entry(t: TensorState, index: number): Promise<IndexEntry> {
    if (!Number.isInteger(index) || index < 0 || index >= t.length) {
      throw new IndexOutOfRangeError(`index ${index} is out of range for tensor '${t.meta.name}' (length ${t.length})`, {
        hint: t.length ? `valid indices: 0..${t.length - 1}` : 'the tensor is empty',
      })
    }
    return getEntry(this.nodes, t.index, index)
  }

  /**
   * A chunk's payload for sample reads. A small chunk (≤ 1 MiB stored) is checked against its
   * hash here, which is cheaper than a crc per sample when samples are tiny (a label chunk holds
   * thousands); a large one is not re-hashed: every sample taken from it is checked against the
   * crc32 its (hash-verified) index entry records, which is what guarantees no wrong bytes are
   * returned — hashing whole chunks on every read would cap scans at sha256 speed. fsck re-hashes
   * everything. `keep` caches it (point reads); scans pass false so a large scan does not flush
   * the cache with chunks it will not read again.
   */
  private async payload(chunk: string, keep = true): Promise<Payload> {
    const cached = this.payloads.get(chunk)
    if (cached) return cached
    const payload = await this.readPayload(chunk)
    return keep ? this.cachePayload(chunk, payload) : payload
  }

  /** Keeps `payload` in the cache, marked shared (later readers get the same bytes), and returns it so. */
  private cachePayload(chunk: string, payload: Payload): Payload {
    const shared = {...payload, shared: true}
    this.payloads.set(chunk, shared)
    return shared
  }

  /** A chunk's payload read now (never the cache's): the caller owns its bytes. */
  private async readPayload(chunk: string): Promise<Payload> {
    const object = await this.objects.getUnverified(chunk)
    let verified = false
    if (object.byteLength <= HASHED_CHUNK_MAX) {
      if (sha256hex(object) !== chunk) throw new CorruptObjectError(`chunk ${chunk} does not match its hash`, {hint: "run 'lake fsck' to find every damaged object"})
      verified = true
    }
    return {bytes: chunkPayload(object, chunk), verified}
  }

  /**
   * A chunk's payload for a scan of `parts`. On a store that reads into the caller's buffers (local
   * files), the bytes of a large raw chunk that the parts need are read into one of the scan's
   * `buffers` and left unverified (`pooled`): readers check each sample's crc as they use it. Else
   * a large chunk's crcs are checked on the crc worker while the scan reads on, when its bytes can
   * be handed over and the worker is running (checksum-worker.ts `offload`); otherwise, again,
   * by the readers.
   */
  private async scanPayload(t: TensorState, first: number, chunk: string, parts: LeafSlice[], buffers: ScanBuffers, keep: boolean): Promise<Payload> {
    const cached = this.payloads.get(chunk)
    if (cached) return cached
    if (t.meta.chunkCompression === 'none' && this.rangeReads && this.objects.store.supports.readInto) {
      let end = 0
      for (const {leaf, from, to} of parts) for (let j = from; j < to; j++) end = Math.max(end, leaf.offsets[j] + leaf.lengths[j])
      const objectBytes = CHUNK_HEADER_BYTES + end
      if (objectBytes > HASHED_CHUNK_MAX) {
        const buffer = buffers.take(objectBytes)
        const object = await this.objects.getRange(chunk, 0, objectBytes, buffer)
        // raw as its tensor says (an lz4 chunk cannot be read in part): else the whole-chunk path
        if (parseChunkHeader(object, chunk).codec === 'raw') return {bytes: object.subarray(CHUNK_HEADER_BYTES), verified: false, pooled: buffer}
        buffers.give(buffer)
      }
    }
    const payload = await this.readPayload(chunk)
    if (keep && payload.verified) return this.cachePayload(chunk, payload)
    const {bytes} = payload
    // the worker takes the whole buffer: only when it holds nothing but this chunk object (and
    // the process has checked enough to make the worker worth its start: else the readers check
    // each sample as they go, the same work on this thread)
    if (payload.verified || !(bytes.buffer instanceof ArrayBuffer) || bytes.buffer.byteLength - bytes.byteLength > CHUNK_HEADER_BYTES) return payload
    if (!checksumWorker().offload(bytes.byteLength)) return payload
    // captured now: handing the buffer to the worker detaches `bytes` (its offset reads 0 after)
    const {byteOffset, byteLength} = bytes
    const n = parts.reduce((sum, p) => sum + p.to - p.from, 0)
    const offsets = new Float64Array(n)
    const lengths = new Float64Array(n)
    const crcs = new Uint32Array(n)
    let i = 0
    for (const {leaf, from, to} of parts) {
      for (let j = from; j < to; j++, i++) {
        offsets[i] = leaf.offsets[j] + byteOffset
        lengths[i] = leaf.lengths[j]
        crcs[i] = leaf.crcAt(j)
      }
    }
    const whole = new Uint8Array(bytes.buffer)
    const checked = await checksumWorker().check({payload: whole, offsets, lengths, crcs})
    if (checked.bad >= 0) {
      throw new CorruptObjectError(`sample ${first + checked.bad} of tensor '${t.meta.name}' in chunk ${chunk} does not match its checksum`, {
        hint: "run 'lake fsck' to find every damaged object",
      })
    }
    return {bytes: checked.payload.subarray(byteOffset, byteOffset + byteLength), verified: true}
  }

  /** The stored bytes of one sample, checked against the crc its index entry records. */
  async sampleBytes(meta: TensorMeta, entry: IndexEntry): Promise<Uint8Array> {
    let bytes: Uint8Array
    if (meta.chunkCompression === 'none' && this.rangeReads && !this.payloads.has(entry.chunk)) {
      const {start} = rawSampleByteRange(entry.offset, entry.length)
      bytes = await this.objects.getRange(entry.chunk, start, entry.length)
    } else {
      const {bytes: payload} = await this.payload(entry.chunk)
      if (entry.offset + entry.length > payload.byteLength) throw new CorruptObjectError(`chunk ${entry.chunk} is shorter than its index says`)
      bytes = payload.subarray(entry.offset, entry.offset + entry.length)
    }
    if (crc32(bytes) >>> 0 !== entry.crc >>> 0) {
      throw new CorruptObjectError(`sample bytes in chunk ${entry.chunk} at ${entry.offset} do not match their checksum`, {
        hint: "run 'lake fsck' to find every damaged object",
      })
    }
    return bytes
  }

  /*
   * The reads below hand their result to a caller who may keep or write into it: a view into a
   * larger buffer (a chunk in the payload cache, an object a memory store holds) goes out as a
   * copy (ownBytes), so that nothing written into it reaches a later read. A ranged read of a raw
   * chunk is the caller's already; decoded numbers, text and JSON are new values.
   */

  /** The stored bytes of sample `index`, checked, the caller's own. */
  async readSampleBytes(t: TensorState, index: number): Promise<Uint8Array> {
    return ownBytes(await this.sampleBytes(t.meta, await this.entry(t, index)))
  }

  /** Sample `index`, decoded (images and binary: their bytes, the caller's own). */
  async readSample(t: TensorState, index: number): Promise<SampleValue> {
    const bytes = await this.sampleBytes(t.meta, await this.entry(t, index))
    const value = decodeSample(t.meta, bytes)
    return value === bytes ? ownBytes(bytes) : value
  }

  /** Sample `index` as {shape, data} (images and binary: their bytes, the caller's own). */
  async readSampleArray(t: TensorState, index: number): Promise<{shape: number[]; data: TypedArray}> {
    const bytes = await this.sampleBytes(t.meta, await this.entry(t, index))
    const array = decodeSampleArray(t.meta, bytes)
    return array.data === bytes ? {shape: array.shape, data: ownBytes(bytes)} : array
  }

  /**
   * Samples [start, end) in order, reading each chunk once and keeping a few chunk reads in
   * flight ahead of the consumer (prefetch), so a scan runs at storage speed.
   */
  async *readRange(t: TensorState, start: number, end: number, opts: ScanOptions = {}): AsyncGenerator<{index: number; bytes: Uint8Array}> {
    let index = start
    for await (const {parts, payload} of this.chunkGroups(t, start, end, opts)) {
      for (const {leaf, from, to} of parts) {
        for (let j = from; j < to; j++) {
          // a scan buffer is reused once the scan moves on, and a cached chunk is read by others
          // too: their samples go out as copies (a scan buffer's checked there: the copy is in
          // cache, and the crc sees the very bytes returned), unless the caller asked for views
          // (valid until it asks for the next sample)
          yield {index, bytes: (payload.pooled || payload.shared) && !opts.views ? checkedCopy(t, index, leaf, j, payload) : checkedSlice(t, index, leaf, j, payload)}
          index++
        }
      }
    }
  }

  /**
   * Samples [start, end) of a numeric tensor whose samples each hold one element (labels, scores),
   * as one typed array of its dtype: decoded chunk by chunk with no per-sample objects or promises,
   * which is what makes reading a whole label column cheap. Returns undefined when the tensor is
   * not numeric or a sample holds other than one element: the caller falls back to readRange.
   */
  /**
   * The whole numeric column of `t`, or undefined when it is not one value per sample. A long one
   * goes through the column cache (when the repository gave this store one).
   */
  async readWholeScalarColumn(t: TensorState): Promise<TypedArray | undefined> {
    if (!isNumericHtype(t.meta)) return undefined
    const dtype = t.meta.dtype as NumericDtype
    const cache = this.columnCache && t.length >= this.columnCache.minRows ? this.columnCache : undefined
    const cached = cache?.get(t.index, dtype, t.length)
    if (cached) return cached
    const refreshed = cache && (await this.refreshedColumn(cache, t, dtype))
    if (refreshed) {
      cache!.put(t.index, dtype, refreshed, t.meta.name)
      return refreshed
    }
    const column = await this.readScalarColumn(t, 0, t.length)
    if (column && cache) cache.put(t.index, dtype, column, t.meta.name)
    return column
  }

  /**
   * The column of `t` made from the one last cached for its name and an index diff between the
   * two roots, when that diff is small and only appends at the end and updates (no deletes: then
   * every old position is the same new one); else undefined. Cost: the diff and the changed rows.
   */
  private async refreshedColumn(cache: ColumnCache, t: TensorState, dtype: NumericDtype): Promise<TypedArray | undefined> {
    const last = cache.latest(t.meta.name, dtype)
    if (!last || last.root === t.index || last.length > t.length) return undefined
    const old = cache.get(last.root, dtype, last.length)
    if (!old) return undefined
    const d = await diffIndexes(this.nodes, last.root, t.index)
    if (d.deleted.length > 0 || d.added.length + d.updated.length > t.length / 4 || d.added.some((p) => p < last.length)) return undefined
    const {array} = dtypeInfo(dtype)
    const out = new array(t.length)
    out.set(old as never)
    for (const positions of [d.updated, d.added]) {
      for (const [start, end] of toRanges(positions)) {
        const part = await this.readScalarColumn(t, start, end)
        if (!part) return undefined
        out.set(part as never, start)
      }
    }
    return out
  }

  async readScalarColumn(t: TensorState, start: number, end: number, opts: ScanOptions = {}): Promise<TypedArray | undefined> {
    if (!isNumericHtype(t.meta)) return undefined
    const dtype = t.meta.dtype as NumericDtype
    const {itemBytes} = dtypeInfo(dtype)
    // little-endian element bytes side by side, turned into the typed array once at the end
    const out = new Uint8Array((end - start) * itemBytes)
    let index = start
    let at = 0
    for await (const {parts, payload} of this.chunkGroups(t, start, end, opts)) {
      for (const {leaf, from, to} of parts) {
        const {offsets, lengths} = leaf
        const p = payload.bytes
        for (let j = from; j < to; j++) {
          if (payload.verified) {
            // the usual samples, in a loop of their own (copyScalars); the rest one by one here
            const stop = copyScalars(p, offsets, lengths, j, to, out, at, itemBytes)
            at += (stop - j) * itemBytes
            index += stop - j
            j = stop
            if (j === to) break
          }
          // reads the payload in place: a subarray per sample costs more than the sample
          const offset = offsets[j]
          const length = lengths[j]
          if (!payload.verified || offset + length > p.byteLength) checkedSlice(t, index, leaf, j, payload)
          const rank = p[offset]
          const header = 1 + 4 * rank
          let ones = true
          for (let d = offset + 1; ones && d < offset + header; d += 4) ones = p[d] === 1 && p[d + 1] === 0 && p[d + 2] === 0 && p[d + 3] === 0
          if (!ones) return undefined
          if (length !== header + itemBytes) throw new CorruptObjectError(`sample ${index} of tensor '${t.meta.name}' has ${length} bytes, one ${dtype} element needs ${header + itemBytes}`)
          for (let k = offset + header; k < offset + length; k++) out[at++] = p[k]
          index++
        }
      }
    }
    return typedArrayFromLittleEndian(dtype, out)
  }

  /**
   * Samples [start, end) of a text tensor as strings, decoded chunk by chunk in place (no per-sample
   * views or promises): the path column a files import matches against, for instance. Undefined
   * when the tensor is not text.
   */
  async readTextColumn(t: TensorState, start: number, end: number, opts: {prefetch?: number} = {}): Promise<string[] | undefined> {
    if (t.meta.htype !== 'text') return undefined
    const out = new Array<string>(end - start)
    const found = await this.visitTexts(t, start, end, '', (text, index) => (out[index - start] = text), opts)
    return found ? out : undefined
  }

  /**
   * Calls `visit` with each sample of [start, end) of a text tensor whose text starts with `prefix`,
   * and its position; the prefix is matched on the UTF-8 bytes, so other samples cost no string.
   * False when the tensor is not text.
   */
  async visitTexts(t: TensorState, start: number, end: number, prefix: string, visit: (text: string, index: number) => void, opts: {prefetch?: number; keepSmallChunks?: boolean} = {}): Promise<boolean> {
    if (t.meta.htype !== 'text') return false
    const want = Buffer.from(prefix, 'utf8')
    let index = start
    for await (const {parts, payload} of this.chunkGroups(t, start, end, opts)) {
      const {bytes} = payload
      // the stored bytes are the UTF-8 that was validated when written, and they are verified
      // (chunk hash or crc) before use: Buffer's decoder gives the same text, faster
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      for (const {leaf, from, to} of parts) {
        const {offsets, lengths} = leaf
        for (let j = from; j < to; j++, index++) {
          const offset = offsets[j]
          const length = lengths[j]
          if (!payload.verified || offset + length > bytes.byteLength) checkedSlice(t, index, leaf, j, payload)
          if (length < want.length) continue
          let k = 0
          while (k < want.length && text[offset + k] === want[k]) k++
          if (k === want.length) visit(text.toString('utf8', offset, offset + length), index)
        }
      }
    }
    return true
  }

  /**
   * The index positions [start, end) grouped by chunk (runs of leaf positions whose samples share
   * it), each group with its chunk's payload, in order. Chunk reads stay in flight ahead of the
   * consumer: `prefetch` of them (default: what the store asks for, a few on a disk, more on S3),
   * and never more than PREFETCH_BYTES of sample bytes, so memory stays bounded whatever the
   * chunk size.
   */
  private async *chunkGroups(t: TensorState, start: number, end: number, opts: ScanOptions): AsyncGenerator<{parts: LeafSlice[]; payload: Payload}> {
    if (start < 0 || end > t.length || start > end) {
      throw new IndexOutOfRangeError(`range ${start}:${end} is out of range for tensor '${t.meta.name}' (length ${t.length})`)
    }
    const prefetch = Math.max(1, opts.prefetch ?? this.objects.store.readAhead)
    const buffers = scanReadBuffers
    const iterator = groupByChunk(readLeafSliceBatches(this.nodes, t.index, start, end))[Symbol.asyncIterator]()
    const inflight: {read: Promise<{parts: LeafSlice[]; payload: Payload}>; bytes: number}[] = []
    let inflightBytes = 0
    let first = start
    let done = false
    const pull = async () => {
      const next = await iterator.next()
      if (next.done) {
        done = true
        return
      }
      const {chunk, parts, bytes} = next.value
      const read = this.scanPayload(t, first, chunk, parts, buffers, opts.keepSmallChunks === true).then((payload) => ({parts, payload}))
      for (const p of parts) first += p.to - p.from
      // a consumer that stops early leaves reads in flight: their failures must not go unhandled
      read.catch(() => {})
      inflight.push({read, bytes})
      inflightBytes += bytes
    }
    const room = () => !done && inflight.length < prefetch && (inflight.length === 0 || inflightBytes < (opts.prefetchBytes ?? PREFETCH_BYTES))
    while (room()) await pull()
    while (inflight.length > 0) {
      const {read, bytes} = inflight.shift()!
      const group = await read
      inflightBytes -= bytes
      while (room()) await pull()
      yield group
      // the consumer is done with this group's bytes (readers copy out what they hand on)
      if (group.payload.pooled) buffers.give(group.payload.pooled)
    }
  }
}

/**
 * Copies the element bytes of samples from, from+1, … of a leaf into `out` at `at` while they hold
 * one element in the usual way — a plain number (rank 0: byte 0, then itemBytes), or shape [1]
 * (rank 1, dimension 1 as u32 LE, then itemBytes) — and lie inside the verified payload `p`;
 * returns the first sample that does not (`to` when all do). A small function of its own: it runs
 * once per row, mostly before the JIT has compiled it, and is compiled sooner than a loop inside
 * the async reader; a subarray per row (an object) would cost more than the copy.
 */
function copyScalars(p: Uint8Array, offsets: LeafNumbers, lengths: LeafNumbers, from: number, to: number, out: Uint8Array, at: number, itemBytes: number): number {
  const plain = 1 + itemBytes
  const shaped = 5 + itemBytes
  const size = p.byteLength
  let j = from
  for (; j < to; j++) {
    const o = offsets[j]
    const length = lengths[j]
    if (o + length > size) break
    let k: number
    if (length === plain && p[o] === 0) k = o + 1
    else if (length === shaped && p[o] === 1 && p[o + 1] === 1 && p[o + 2] === 0 && p[o + 3] === 0 && p[o + 4] === 0) k = o + 5
    else break
    if (itemBytes === 4) {
      out[at] = p[k]
      out[at + 1] = p[k + 1]
      out[at + 2] = p[k + 2]
      out[at + 3] = p[k + 3]
      at += 4
    } else for (const stop = k + itemBytes; k < stop; k++) out[at++] = p[k]
  }
  return j
}

/** A chunk's uncompressed bytes; `verified` when the whole chunk was checked against its hash. */
interface Payload {
  bytes: Uint8Array
  verified: boolean
  /** The scan buffer `bytes` live in: reused once the scan moves past this chunk (never verified). */
  pooled?: Uint8Array
  /** `bytes` are the payload cache's: other readers get them too (samples handed out are copies). */
  shared?: boolean
}

export interface ScanOptions {
  /** Chunk reads in flight ahead of the consumer (default: the store's readAhead). */
  prefetch?: number
  /**
   * readRange: samples may be views into a read buffer the scan reuses, valid only until the
   * next sample is asked for (no copy per sample: what a loader that decodes each sample at
   * once wants). Default: every sample is bytes of its own.
   */
  views?: boolean
  /** Sample bytes in flight ahead of the consumer at most (default PREFETCH_BYTES). */
  prefetchBytes?: number
  /**
   * Keep the chunks read whole and hash-checked (≤ 1 MiB stored) in the payload cache, as point
   * reads do: for columns this process will read again (the paths each files import matches).
   */
  keepSmallChunks?: boolean
}

/** Sample bytes a scan keeps in flight ahead of its consumer at most (16 chunks of 4 MiB). */
const PREFETCH_BYTES = 64 * 1024 * 1024

/** Chunks up to this size (stored bytes) are hash-checked whole when read (see DataStore.payload). */
const HASHED_CHUNK_MAX = 1024 * 1024

/**
 * Sample j of `leaf` inside its chunk's payload; from a chunk not verified whole, checked against
 * the crc its index entry records.
 */
function checkedSlice(t: TensorState, index: number, leaf: LeafNode, j: number, payload: Payload): Uint8Array {
  const offset = leaf.offsets[j]
  const length = leaf.lengths[j]
  const bytes = payload.bytes.subarray(offset, offset + length)
  if (bytes.byteLength !== length || (!payload.verified && crc32(bytes) >>> 0 !== leaf.crcAt(j) >>> 0)) {
    throw new CorruptObjectError(`sample ${index} of tensor '${t.meta.name}' in chunk ${leaf.chunkAt(j)} does not match its checksum`, {
      hint: "run 'lake fsck' to find every damaged object",
    })
  }
  return bytes
}

/**
 * checkedSlice's sample as a copy of its own (from a scan buffer that will be reused, or a cached
 * chunk); from a chunk not verified whole, checked on the copy.
 */
function checkedCopy(t: TensorState, index: number, leaf: LeafNode, j: number, payload: Payload): Uint8Array {
  const offset = leaf.offsets[j]
  const length = leaf.lengths[j]
  const bytes = ownedCopy(payload.bytes.subarray(offset, offset + length))
  if (bytes.byteLength !== length || (!payload.verified && crc32(bytes) >>> 0 !== leaf.crcAt(j) >>> 0)) {
    throw new CorruptObjectError(`sample ${index} of tensor '${t.meta.name}' in chunk ${leaf.chunkAt(j)} does not match its checksum`, {
      hint: "run 'lake fsck' to find every damaged object",
    })
  }
  return bytes
}

/**
 * Leaf slices regrouped into runs that share one chunk (a chunk may span leaves), with the sample
 * bytes of each run (summed in the same pass: while code is cold, each pass over every entry of a
 * column read costs milliseconds).
 */
async function* groupByChunk(batches: AsyncIterable<LeafSlice[]>): AsyncGenerator<{chunk: string; parts: LeafSlice[]; bytes: number}> {
  let group: {chunk: string; parts: LeafSlice[]; bytes: number} | undefined
  // a batch of slices at a time: one await per batch of leaves read together, not one per leaf
  for await (const batch of batches) for (const {leaf, from, to} of batch) {
    const {chunkOf, lengths} = leaf
    // a leaf of one chunk (the usual one) is one run: no compare per entry
    const oneChunk = leaf.chunkTable.length === 1
    let j = from
    while (j < to) {
      const c = chunkOf[j]
      let bytes = 0
      let k = j
      if (oneChunk) for (; k < to; k++) bytes += lengths[k]
      else while (k < to && chunkOf[k] === c) bytes += lengths[k++]
      const chunk = leaf.chunkTable[c]
      if (group && group.chunk === chunk) {
        group.parts.push({leaf, from: j, to: k})
        group.bytes += bytes
      } else {
        if (group) yield group
        group = {chunk, parts: [{leaf, from: j, to: k}], bytes}
      }
      j = k
    }
  }
  if (group) yield group
}
