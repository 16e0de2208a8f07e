// Checksum work on a worker thread, so that it overlaps the main thread's work instead of adding
// to it: the per-sample crc32s of large chunks during scans (a third of a scan's time on 24 KB
// images), and the sha256 that names a large new object (a sixth of an image import's time).
// Bytes cross without copies: buffers are transferred there and back (a SharedArrayBuffer would
// stay alive until the idle worker happened to collect garbage). One worker per process, started on first use; it never keeps the
// process alive.
import {Worker} from 'node:worker_threads'

// CommonJS source of the worker, evaluated (a separate file would not exist under a TS loader).
const WORKER_SOURCE = `
const {parentPort} = require('node:worker_threads')
const {crc32} = require('node:zlib')
const {createHash} = require('node:crypto')
parentPort.on('message', (job) => {
  if (job.op === 'sha256') {
    const bytes = new Uint8Array(job.buffer, job.byteOffset, job.byteLength)
    const hash = createHash('sha256').update(bytes).digest('hex')
    parentPort.postMessage({id: job.id, hash, buffer: job.buffer}, [job.buffer])
    return
  }
  const {id, buffer, byteOffset, byteLength, offsets, lengths, crcs} = job
  const payload = new Uint8Array(buffer, byteOffset, byteLength)
  let bad = -1
  for (let i = 0; i < offsets.length; i++) {
    const o = offsets[i], l = lengths[i]
    if (o + l > byteLength || (crc32(payload.subarray(o, o + l)) >>> 0) !== crcs[i]) { bad = i; break }
  }
  parentPort.postMessage({id, buffer, bad}, [buffer])
})
`

export interface CrcJob {
  /** Whole-buffer view: the worker takes its ArrayBuffer (transferred) and hands back a new view. */
  payload: Uint8Array
  offsets: Float64Array
  lengths: Float64Array
  crcs: Uint32Array
}

interface Pending {
  resolve(r: {buffer?: ArrayBuffer; bad?: number; hash?: string}): void
  reject(e: unknown): void
}

class ChecksumWorker {
  private worker: Worker | undefined
  private failed: unknown
  private readonly pending = new Map<number, Pending>()
  private nextId = 0

  /**
   * Checks every (offset, length) slice of the payload against its crc. Resolves with the payload
   * (a new view of the same bytes) and the position of the first bad slice, or -1. The caller
   * must not use the payload it passed in: its buffer now belongs to the worker, then to the result.
   */
  async check(job: CrcJob): Promise<{payload: Uint8Array; bad: number}> {
    const {payload, offsets, lengths, crcs} = job
    const r = await this.send({op: 'crc', buffer: payload.buffer, byteOffset: payload.byteOffset, byteLength: payload.byteLength, offsets, lengths, crcs}, [payload.buffer as ArrayBuffer])
    return {payload: new Uint8Array(r.buffer!), bad: r.bad!}
  }

  /**
   * The sha256 (hex) of `bytes`, computed on the worker. Their ArrayBuffer is transferred there and
   * back: the caller must own all of it and use only the returned view afterwards.
   */
  async sha256(bytes: Uint8Array): Promise<{hash: string; bytes: Uint8Array}> {
    const {byteOffset, byteLength} = bytes
    const r = await this.send({op: 'sha256', buffer: bytes.buffer, byteOffset, byteLength}, [bytes.buffer as ArrayBuffer])
    return {hash: r.hash!, bytes: new Uint8Array(r.buffer!, byteOffset, byteLength)}
  }

  private send(message: Record<string, unknown>, transfer: ArrayBuffer[]): Promise<{buffer?: ArrayBuffer; bad?: number; hash?: string}> {
    const worker = this.start()
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject})
      if (this.pending.size === 1) worker.ref()
      worker.postMessage({...message, id}, transfer)
    })
  }

  private start(): Worker {
    if (this.failed) throw this.failed
    if (this.worker) return this.worker
    const worker = new Worker(WORKER_SOURCE, {eval: true})
    worker.unref()
    worker.on('message', (r: {id: number; buffer?: ArrayBuffer; bad?: number; hash?: string}) => {
      const p = this.pending.get(r.id)
      if (!p) return
      this.pending.delete(r.id)
      if (this.pending.size === 0) worker.unref()
      p.resolve(r)
    })
    const fail = (e: unknown) => {
      this.failed = e
      this.worker = undefined
      for (const p of this.pending.values()) p.reject(e)
      this.pending.clear()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => {
      if (this.pending.size > 0) fail(new Error(`checksum worker exited with code ${code}`))
      this.worker = undefined
    })
    this.worker = worker
    return worker
  }
}

let shared: ChecksumWorker | undefined

/** The process's checksum worker (started on its first job). */
export function checksumWorker(): ChecksumWorker {
  return (shared ??= new ChecksumWorker())
}
