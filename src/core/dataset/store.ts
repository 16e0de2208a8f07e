// The object-level view of versions: version roots, commits, tensor samples. Everything here is
// immutable and content-addressed, so caches keyed by hash never go stale.
import {crc32} from 'node:zlib'
import {LRUCache} from 'lru-cache'
import {CorruptObjectError, IndexOutOfRangeError, UnknownTensorError} from '../errors.js'
import {chunkPayload, rawSampleByteRange} from '../format/chunk.js'
import {decodeSample, type SampleValue} from '../format/sample.js'
import type {TensorMeta} from '../format/tensor-meta.js'
import {cachedNodeIO, getEntry, readEntryBatches, type IndexEntry, type NodeIO} from '../index/index.js'
import type {ObjectDb} from '../storage/objects.js'
import {decodeCommit, encodeCommit, type Commit} from '../version/commit.js'
import {decodeRoot, EMPTY_ROOT, encodeRoot, type TensorState, type VersionRoot} from './version-root.js'

export class DataStore {
  readonly nodes: NodeIO
  private readonly roots = new LRUCache<string, VersionRoot>({max: 256})
  private readonly payloads = new LRUCache<string, Uint8Array>({
    maxSize: 128 * 1024 * 1024,
    sizeCalculation: (v) => Math.max(1, v.byteLength),
  })

  constructor(readonly objects: ObjectDb, readonly rangeReads: boolean) {
    this.nodes = cachedNodeIO({read: (h) => objects.get(h), write: (b) => objects.put(b)})
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
   * A chunk's payload for sample reads. Not re-hashed: every sample taken from it is checked
   * against the crc32 its (hash-verified) index entry records, which is what guarantees no wrong
   * bytes are returned; hashing whole chunks on every read would cap scans at sha256 speed. fsck
   * re-hashes everything. `keep` caches it (point reads); scans pass false so a large scan does not
   * flush the cache with chunks it will not read again.
   */
  private async payload(chunk: string, keep = true): Promise<Uint8Array> {
    const cached = this.payloads.get(chunk)
    if (cached) return cached
    const payload = chunkPayload(await this.objects.getUnverified(chunk), chunk)
    if (keep) this.payloads.set(chunk, payload)
    return payload
  }

  /** The stored bytes of one sample, checked against the crc its index entry records. */
  async sampleBytes(meta: TensorMeta, entry: IndexEntry): Promise<Uint8Array> {
    let bytes: Uint8Array
    if (meta.chunkCompression === 'none' && this.rangeReads && !this.payloads.has(entry.chunk)) {
      const {start} = rawSampleByteRange(entry.offset, entry.length)
      bytes = await this.objects.getRange(entry.chunk, start, entry.length)
    } else {
      const payload = await this.payload(entry.chunk)
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

  async readSample(t: TensorState, index: number): Promise<SampleValue> {
    const entry = await this.entry(t, index)
    return decodeSample(t.meta, await this.sampleBytes(t.meta, entry))
  }

  /**
   * Samples [start, end) in order, reading each chunk once and keeping a few chunk reads in
   * flight ahead of the consumer (prefetch), so a scan runs at storage speed.
   */
  async *readRange(t: TensorState, start: number, end: number, opts: {prefetch?: number} = {}): AsyncGenerator<{index: number; entry: IndexEntry; bytes: Uint8Array}> {
    if (start < 0 || end > t.length || start > end) {
      throw new IndexOutOfRangeError(`range ${start}:${end} is out of range for tensor '${t.meta.name}' (length ${t.length})`)
    }
    const prefetch = opts.prefetch ?? 4
    const groups = groupByChunk(readEntryBatches(this.nodes, t.index, start, end))
    const inflight: Promise<{entries: IndexEntry[]; payload: Uint8Array}>[] = []
    let index = start
    const iterator = groups[Symbol.asyncIterator]()
    let done = false
    const pull = async () => {
      const next = await iterator.next()
      if (next.done) {
        done = true
        return
      }
      const entries = next.value
      inflight.push(this.payload(entries[0].chunk, false).then((payload) => ({entries, payload})))
    }
    while (!done && inflight.length < prefetch) await pull()
    while (inflight.length > 0) {
      const {entries, payload} = await inflight.shift()!
      if (!done) await pull()
      for (const entry of entries) {
        const bytes = payload.subarray(entry.offset, entry.offset + entry.length)
        if (bytes.byteLength !== entry.length || crc32(bytes) >>> 0 !== entry.crc >>> 0) {
          throw new CorruptObjectError(`sample ${index} of tensor '${t.meta.name}' in chunk ${entry.chunk} does not match its checksum`, {
            hint: "run 'lake fsck' to find every damaged object",
          })
        }
        yield {index: index++, entry, bytes}
      }
    }
  }
}

async function* groupByChunk(batches: AsyncIterable<IndexEntry[]>): AsyncGenerator<IndexEntry[]> {
  let group: IndexEntry[] = []
  for await (const batch of batches) {
    for (const e of batch) {
      if (group.length > 0 && group[0].chunk !== e.chunk) {
        yield group
        group = []
      }
      group.push(e)
    }
  }
  if (group.length > 0) yield group
}
