// Checksum work on a worker thread, so that it overlaps the main thread's work instead of adding
// to it: the per-sample crc32s of large chunks during scans (a third of a scan's time on 24 KB
// images), and the sha256 that names a large new object (a sixth of an image import's time).
// Bytes cross without copies: buffers are transferred there and back (a SharedArrayBuffer would
// stay alive until the idle worker happened to collect garbage). One worker per process; it never
// keeps the process alive.
//
// Starting it costs a thread that boots a Node environment of its own: ~70 ms before its first
// answer here and ~140 ms of CPU, more than a command that checks a few MB spends on checksums at
// all (sha256 runs at ~1.5 GB/s, crc32 at ~3 GB/s). So callers ask `offload(bytes)` first: the
// first OFFLOAD_AFTER bytes of a process are checked on the calling thread; past that (a large
// import or scan) the worker is started in the background, and jobs go to it once it has said it
// is ready. Nothing waits for it to boot (but whoever calls `warm`).
import {Worker} from 'node:worker_threads'

// CommonJS source of the worker, evaluated (a separate file would not exist under a TS loader).
const WORKER_SOURCE = `
const {parentPort} = require('node:worker_threads')
const {crc32} = require('node:zlib')
const {createHash} = require('node:crypto')
parentPort.postMessage({ready: true})
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

// checksum bytes a process does on its calling thread before it starts the worker
const OFFLOAD_AFTER = 8 * 1024 * 1024

export class ChecksumWorker {
  private worker: Worker | undefined
  private failed: unknown
  private readonly pending = new Map<number, Pending>()
  private nextId = 0
  /** the running worker has said it is ready: jobs sent now start at once (false once it is gone) */
  private ready = false
  private readyWaiters: Pending[] = []
  /** checksum bytes done on the calling thread so far (offload said no) */
  private inlineBytes = 0

  /** Jobs sent to the worker so far (checks and hashes): the ids it has handed out. */
  get jobs(): number {
    return this.nextId
  }

  /**
   * Whether a job of `bytes` should go to the worker (true) or be done by the caller on its own
   * thread (false, and counted). Past OFFLOAD_AFTER inline bytes the worker is started, without
   * waiting; jobs go to it once it is ready. A worker that failed to start is not asked again.
   */
  offload(bytes: number): boolean {
    if (this.ready) return true
    this.inlineBytes += bytes
    if (this.inlineBytes > OFFLOAD_AFTER && !this.failed) {
      try {
        this.start()
      } catch {
        // no thread to be had (recorded in `failed`): this job, and the next, here
      }
    }
    return false
  }

  /**
   * Starts the worker (when it is not running) and resolves once it takes jobs: from then on
   * `offload` says yes. For a process about to check a lot (and for tests of the worker's paths).
   */
  warm(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed)
    const worker = this.start()
    if (this.ready) return Promise.resolve()
    worker.ref() // someone waits for it now
    return new Promise((resolve, reject) => this.readyWaiters.push({resolve: () => resolve(), reject}))
  }

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
    let worker: Worker
    try {
      worker = new Worker(WORKER_SOURCE, {eval: true})
    } catch (e) {
      this.failed = e // e.g. ERR_WORKER_INIT_FAILED: no thread; not tried again
      throw e
    }
    worker.unref()
    worker.on('message', (r: {id: number; buffer?: ArrayBuffer; bad?: number; hash?: string; ready?: boolean}) => {
      if (r.ready) {
        this.ready = true
        if (this.pending.size === 0) worker.unref()
        for (const w of this.readyWaiters.splice(0)) w.resolve({})
        return
      }
      const p = this.pending.get(r.id)
      if (!p) return
      this.pending.delete(r.id)
      if (this.pending.size === 0) worker.unref()
      p.resolve(r)
    })
    const fail = (e: unknown) => {
      this.failed = e
      this.worker = undefined
      this.ready = false
      for (const p of [...this.pending.values(), ...this.readyWaiters.splice(0)]) p.reject(e)
      this.pending.clear()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => {
      // before it was ready: it cannot start here, and is not started again for every job
      if (!this.failed && (!this.ready || this.pending.size > 0 || this.readyWaiters.length > 0)) fail(new Error(`checksum worker exited with code ${code}`))
      this.worker = undefined
      this.ready = false
    })
    this.worker = worker
    return worker
  }
}

let shared: ChecksumWorker | undefined

/** The process's checksum worker (started once `offload` has seen enough work, or by `warm`). */
export function checksumWorker(): ChecksumWorker {
  return (shared ??= new ChecksumWorker())
}
