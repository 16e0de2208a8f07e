// Chunk objects: many small samples (or one large one) concatenated, behind a fixed 8-byte header.
//
//   bytes 0-3  magic 'LKCH'
//   byte  4    chunk format version (1)
//   byte  5    codec: 0 = raw payload, 1 = lz4 block (LZ4 block format preceded by the
//              uncompressed length as u32 little-endian, as lz4-napi's compressSync writes it;
//              small payloads are encoded by lz4-block.ts, in the same format)
//   bytes 6-7  reserved, zero in version 1
//   bytes 8-   payload
//
// Samples are addressed by (offset, length) in the uncompressed payload; the per-version index
// stores those, so a chunk needs no table of its own. A raw chunk can serve one sample with a
// ranged read (rawSampleByteRange); an lz4 chunk must be read and decompressed whole.
import {decodeLz4Block, encodeLz4Block} from './lz4-block.js'
import {createRequire} from 'node:module'

// lz4-napi is a native module: load it on first use, so commands that never touch an lz4 chunk
// (log, status, branch, ...) start faster.
type Lz4 = {compressSync(b: Uint8Array): Buffer; uncompressSync(b: Uint8Array): Buffer}
let lz4: Lz4 | undefined
const loadLz4 = (): Lz4 => (lz4 ??= createRequire(import.meta.url)('lz4-napi') as Lz4)
// Payloads up to this size are encoded in JavaScript too: a commit of a few hundred labels then
// never loads the addon (~15–40 ms of dlopen per process).
const JS_LZ4_COMPRESS_MAX = 256 * 1024
const compressSync = (b: Uint8Array): Uint8Array => {
  if (b.length > JS_LZ4_COMPRESS_MAX) return loadLz4().compressSync(b)
  const block = encodeLz4Block(b)
  const out = new Uint8Array(4 + block.length)
  new DataView(out.buffer).setUint32(0, b.length, true)
  out.set(block, 4)
  return out
}
const uncompressSync = (b: Uint8Array) => loadLz4().uncompressSync(b)
// Payloads up to this size are decoded in JavaScript (lz4-block.ts): no addon load for small chunks.
const JS_LZ4_MAX = 1024 * 1024
import {CorruptObjectError} from '../errors.js'
import type {TensorMeta} from './tensor-meta.js'

export const CHUNK_MAGIC = 'LKCH'
export const CHUNK_FORMAT_VERSION = 1
export const CHUNK_HEADER_BYTES = 8
export const CHUNK_CODEC_RAW = 0
export const CHUNK_CODEC_LZ4 = 1
export type ChunkCodec = 'raw' | 'lz4'

// lz4 only where it pays: a chunk that shrinks by less than this stays raw, which keeps
// reads free of decompression and ranged reads possible
const LZ4_MIN_SAVING = 0.1
// an LZ4 block expands at most ~255x; a length prefix claiming more is corrupt, and refusing it
// avoids allocating whatever a damaged prefix claims
const LZ4_MAX_RATIO = 255

const MAGIC_BYTES = Buffer.from(CHUNK_MAGIC, 'latin1')

export interface SamplePosition {
  offset: number
  length: number
}

/**
 * Where a builder takes the buffer of a chunk of large samples from (and gives back one it no
 * longer needs): new memory costs a page fault per 4 KiB on virtual machines, ~0.5 s of an
 * ingest of 500 MB, while a buffer used before costs nothing to touch.
 */
export interface ChunkBufferPool {
  take(bytes: number): Uint8Array
  give(buffer: Uint8Array): void
}

export class ChunkBuilder {
  readonly meta: TensorMeta
  // the chunk object being built: header space first, then the payload, so a raw chunk is
  // finished in place (no copy of a few MB per chunk)
  private buffer: Uint8Array = new Uint8Array(0)
  private used = 0
  private samples = 0
  /** `buffer` came from the pool (the one who ends up with a finished raw chunk gives it back) */
  private pooled = false

  constructor(
    meta: TensorMeta,
    private readonly pool?: ChunkBufferPool,
  ) {
    this.meta = meta
  }

  /**
   * Copies the sample in and returns where it sits in the payload, or null when it would take the
   * chunk past meta.maxChunkBytes: finish this chunk and add it to the next. An empty builder
   * takes any sample, so a sample larger than the target is stored alone.
   */
  add(sample: Uint8Array): SamplePosition | null {
    if (this.samples > 0 && this.used + sample.length > this.meta.maxChunkBytes) return null
    this.reserve(this.used + sample.length, sample.length)
    this.buffer.set(sample, CHUNK_HEADER_BYTES + this.used)
    const position = {offset: this.used, length: sample.length}
    this.used += sample.length
    this.samples++
    return position
  }

  /** Payload bytes so far (uncompressed). */
  get size(): number {
    return this.used
  }

  /** Samples added so far. */
  get count(): number {
    return this.samples
  }

  /** The chunk object's bytes; the builder is then empty and ready for the next chunk. */
  finish(): Uint8Array {
    const object = this.buffer.subarray(0, CHUNK_HEADER_BYTES + this.used)
    const payload = object.subarray(CHUNK_HEADER_BYTES)
    const compressed = this.meta.chunkCompression === 'lz4' ? lz4IfItPays(payload) : undefined
    if (compressed && this.pooled) this.pool!.give(this.buffer) // the compressed copy is what goes on
    this.buffer = new Uint8Array(0)
    this.pooled = false
    this.used = 0
    this.samples = 0
    if (compressed) return chunkObject(CHUNK_CODEC_LZ4, compressed)
    writeHeader(object, CHUNK_CODEC_RAW)
    return object
  }

  private reserve(needed: number, sampleBytes: number): void {
    if (CHUNK_HEADER_BYTES + needed <= this.buffer.length) return
    // Large samples (images, files): the whole target size at once, filled without regrowing.
    // Small ones: grow geometrically, so a tensor with a few labels does not hold a full chunk.
    const target = this.meta.maxChunkBytes
    const large = sampleBytes >= 16 * 1024
    const grown = large ? target : Math.min(Math.max(this.buffer.length * 2, 64 * 1024), target)
    const bytes = CHUNK_HEADER_BYTES + Math.max(needed, grown)
    // a pooled buffer is not zeroed: every byte of the object is written before it goes out
    const fromPool = this.pool !== undefined && large
    const next = fromPool ? this.pool!.take(bytes) : new Uint8Array(bytes)
    next.set(this.buffer.subarray(0, CHUNK_HEADER_BYTES + this.used))
    if (this.pooled) this.pool!.give(this.buffer)
    this.buffer = next
    this.pooled = fromPool
  }
}

/** A chunk object for `payload`, lz4-compressed when allowed and it saves at least 10%. */
export function encodeChunk(payload: Uint8Array, allowLz4: boolean): Uint8Array {
  const compressed = allowLz4 ? lz4IfItPays(payload) : undefined
  return compressed ? chunkObject(CHUNK_CODEC_LZ4, compressed) : chunkObject(CHUNK_CODEC_RAW, payload)
}

// A payload this large is first probed on its first PROBE_BYTES: incompressible data (images,
// random bytes) is then not compressed whole only to be thrown away (~10 ms per 4 MB chunk).
const PROBE_FROM = 256 * 1024
const PROBE_BYTES = 64 * 1024

/** The payload's lz4 form (length-prefixed block), or undefined when it saves less than 10%. */
function lz4IfItPays(payload: Uint8Array): Uint8Array | undefined {
  if (payload.length === 0) return undefined
  const worth = (raw: Uint8Array) => compressSync(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)).length <= raw.length * (1 - LZ4_MIN_SAVING)
  if (payload.length > PROBE_FROM && !worth(payload.subarray(0, PROBE_BYTES))) return undefined
  const compressed = compressSync(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength))
  return compressed.length <= payload.length * (1 - LZ4_MIN_SAVING) ? compressed : undefined
}

function chunkObject(codec: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(CHUNK_HEADER_BYTES + body.length)
  writeHeader(out, codec)
  out.set(body, CHUNK_HEADER_BYTES)
  return out
}

function writeHeader(object: Uint8Array, codec: number): void {
  object.set(MAGIC_BYTES, 0)
  object[4] = CHUNK_FORMAT_VERSION
  object[5] = codec
  object[6] = 0
  object[7] = 0
}

const corrupt = (chunkId: string | undefined, problem: string) =>
  new CorruptObjectError(`chunk ${chunkId ?? '(unnamed)'}: ${problem}`, {
    hint: "run 'lake fsck' to find damaged objects",
    data: chunkId ? {object: chunkId} : {},
  })

export function parseChunkHeader(bytes: Uint8Array, chunkId?: string): {version: number; codec: ChunkCodec} {
  if (bytes.length < CHUNK_HEADER_BYTES) throw corrupt(chunkId, `${bytes.length} bytes is shorter than the ${CHUNK_HEADER_BYTES}-byte chunk header`)
  if (!MAGIC_BYTES.equals(bytes.subarray(0, 4))) throw corrupt(chunkId, `not a chunk (magic is not '${CHUNK_MAGIC}')`)
  const version = bytes[4]
  if (version !== CHUNK_FORMAT_VERSION) {
    throw new CorruptObjectError(`chunk ${chunkId ?? '(unnamed)'}: unknown chunk format version ${version} (this lake reads version ${CHUNK_FORMAT_VERSION})`, {
      hint: 'it may have been written by a newer lake; upgrade lake, or run lake fsck',
      data: {...(chunkId ? {object: chunkId} : {}), version},
    })
  }
  if (bytes[6] !== 0 || bytes[7] !== 0) throw corrupt(chunkId, 'reserved header bytes are not zero')
  const codec = bytes[5]
  if (codec === CHUNK_CODEC_RAW) return {version, codec: 'raw'}
  if (codec === CHUNK_CODEC_LZ4) return {version, codec: 'lz4'}
  throw corrupt(chunkId, `unknown codec ${codec}`)
}

/** The uncompressed payload of a chunk object (a view for raw chunks). */
export function chunkPayload(objectBytes: Uint8Array, chunkId?: string): Uint8Array {
  const {codec} = parseChunkHeader(objectBytes, chunkId)
  const body = objectBytes.subarray(CHUNK_HEADER_BYTES)
  if (codec === 'raw') return body
  if (body.length < 4) throw corrupt(chunkId, 'lz4 payload shorter than its length prefix')
  const claimed = new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true)
  if (claimed > body.length * LZ4_MAX_RATIO + 64) throw corrupt(chunkId, `lz4 payload claims ${claimed} bytes from ${body.length}`)
  let payload: Uint8Array
  try {
    payload = claimed <= JS_LZ4_MAX ? decodeLz4Block(body.subarray(4), claimed) : uncompressSync(body)
  } catch (e) {
    throw corrupt(chunkId, `lz4 payload does not decompress: ${(e as Error).message}`)
  }
  if (payload.length !== claimed) throw corrupt(chunkId, `lz4 payload decompressed to ${payload.length} bytes, expected ${claimed}`)
  // a plain Uint8Array either way, so callers never depend on which codec a chunk used
  return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength)
}

/** One sample of an uncompressed payload; use it to read many samples after one chunkPayload. */
export function sampleFromPayload(payload: Uint8Array, offset: number, length: number, chunkId?: string): Uint8Array {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > payload.length) {
    throw corrupt(chunkId, `sample at offset ${offset} length ${length} lies outside the ${payload.length}-byte payload`)
  }
  return payload.subarray(offset, offset + length)
}

/** One sample of a chunk object (decompresses the whole chunk when it is lz4). */
export function sampleFromChunk(objectBytes: Uint8Array, offset: number, length: number, chunkId?: string): Uint8Array {
  return sampleFromPayload(chunkPayload(objectBytes, chunkId), offset, length, chunkId)
}

/** Byte range [start, end) of a sample inside a raw chunk object, for a ranged read. */
export function rawSampleByteRange(offset: number, length: number): {start: number; end: number} {
  return {start: CHUNK_HEADER_BYTES + offset, end: CHUNK_HEADER_BYTES + offset + length}
}
