// Read buffers scans reuse, and the sample copies they hand out instead of views into them; a
// second pool of the same kind holds the buffers a change builds chunks of large samples in
// (ChunkBufferPool), each given back once its chunk is stored.
//
// Why: new memory is expensive on virtual machines with shadow paging (ours): the first touch of
// each 4 KiB page faults (~10 µs), so reading a 4 MiB chunk into new memory runs at ~0.4 GB/s and
// into a buffer used before at several GB/s. A scan that takes a new buffer per chunk pays that
// for every byte it reads; one that reuses a few buffers pays it once, and the scans of a process
// share them (scanReadBuffers), so the next scan does not pay it again. Its samples are then
// copied out (small allocations the allocator recycles, like a plain file read of each), which
// also means a sample the caller keeps holds its own bytes, not its whole chunk.
/** Buffers larger than this are used once and not kept (a single huge sample). */
const KEEP_MAX = 64 * 1024 * 1024
/** The least a buffer is made with: one default chunk (4 MiB payload) and its header. */
const MIN_BYTES = 4 * 1024 * 1024 + 64

export class ScanBuffers {
  private readonly free: Uint8Array[] = []
  private lastUse = 0
  private idleTimer: NodeJS.Timeout | undefined

  /**
   * `keep`: at most this many free buffers are kept, `keepBytes` at most this many bytes of them
   * (the rest are left to the garbage collector). `idleMs`: free buffers are dropped once none
   * was taken for that long (default: kept).
   */
  constructor(
    private readonly keep = Infinity,
    private readonly idleMs = Infinity,
    private readonly keepBytes = Infinity,
  ) {}

  /** A buffer of at least `bytes` bytes, owned by the caller until it gives it back. */
  take(bytes: number): Uint8Array {
    this.lastUse = performance.now()
    // the one given back last first: a scan then cycles through as few buffers as it needs
    for (let k = this.free.length - 1; k >= 0; k--) if (this.free[k].byteLength >= bytes) return this.free.splice(k, 1)[0]
    return uninitialized(Math.max(bytes, MIN_BYTES))
  }

  /** Free buffers held now. */
  get available(): number {
    return this.free.length
  }

  /** Bytes of the free buffers held now. */
  get availableBytes(): number {
    return this.free.reduce((sum, b) => sum + b.byteLength, 0)
  }

  /** Returns a buffer from take(): nothing may read it afterwards. */
  give(buffer: Uint8Array): void {
    const fits = buffer.byteLength <= KEEP_MAX && this.free.length < this.keep && (this.keepBytes === Infinity || this.availableBytes + buffer.byteLength <= this.keepBytes)
    if (fits) this.free.push(buffer)
    if (this.idleMs !== Infinity && !this.idleTimer) this.dropWhenIdle(this.idleMs)
  }

  // one timer at a time, re-armed while buffers are in use; unref'd: it never keeps a process alive
  private dropWhenIdle(ms: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined
      const idle = performance.now() - this.lastUse
      if (idle >= this.idleMs) this.free.length = 0
      else this.dropWhenIdle(this.idleMs - idle)
    }, ms)
    this.idleTimer.unref()
  }
}

/**
 * The pool scans of this process read large chunks into: scan after scan (epochs, a fresh Dataset
 * per pass) then reuses its buffers instead of faulting in ~20 MiB of new ones each time (~50 ms
 * here). A scan at the default prefetch (4 on a disk) holds 5 buffers; 12 are kept (two such scans
 * at once), 64 MiB at most (chunks of a large chunk.size are not all kept), and dropped after 5 s
 * without scans, so an idle process (the resident one) does not hold them.
 */
export const scanReadBuffers = new ScanBuffers(12, 5000, 64 * 1024 * 1024)

/**
 * The pool every change in this process builds chunks of large samples in: a process that
 * versions data again and again (a library user, a training job appending) then pays the page
 * faults of its chunk buffers once, not once per change (~18 ms for 200 images of 24 KiB here).
 * A few buffers are kept: ~4 MiB each.
 */
export const changeChunkBuffers = new ScanBuffers(4)

/**
 * `bytes` when they are all of their ArrayBuffer (a read of their own), else a copy: what a caller
 * may keep or write into, where a view would reach a chunk others read too (the payload cache).
 */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteLength === bytes.buffer.byteLength ? bytes : ownedCopy(bytes)
}

/** A copy of `bytes` in memory of its own (its ArrayBuffer holds nothing else). */
export function ownedCopy(bytes: Uint8Array): Uint8Array {
  const out = uninitialized(bytes.byteLength)
  out.set(bytes)
  return out
}

// Buffer.allocUnsafeSlow: not zero-filled (every byte is written before use) and its own
// ArrayBuffer (not a slice of Buffer's shared pool), as a plain Uint8Array.
function uninitialized(bytes: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(bytes)
  return new Uint8Array(b.buffer, b.byteOffset, bytes)
}
