// Checks the per-sample crc32s of large chunks on a worker thread, so a scan's checksum work
// overlaps its reads instead of adding to them (on a scan of 24 KB images, crc32 on the main
// thread was a third of the time). The chunk's buffer is transferred to the worker and back, not
// copied. The worker starts on the first large chunk and does not keep the process alive.
import {Worker} from 'node:worker_threads'

// CommonJS source of the worker, evaluated (a separate file would not exist under a TS loader).
const WORKER_SOURCE = `
const {parentPort} = require('node:worker_threads')
const {crc32} = require('node:zlib')
parentPort.on('message', ({id, buffer, byteOffset, byteLength, offsets, lengths, crcs}) => {
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
  /** Whole-buffer view: the pool takes its ArrayBuffer (transferred) and hands back a new view. */
  payload: Uint8Array
  offsets: Float64Array
  lengths: Float64Array
  crcs: Uint32Array
}

interface Pending {
  resolve(r: {payload: Uint8Array; bad: number}): void
  reject(e: unknown): void
}

export class CrcPool {
  private worker: Worker | undefined
  private failed: unknown
  private readonly pending = new Map<number, Pending>()
  private nextId = 0

  /**
   * Checks every (offset, length) slice of the payload against its crc. Resolves with the payload
   * (a new view of the same bytes) and the position of the first bad slice, or -1. The caller
   * must not use the payload it passed in: its buffer now belongs to the worker, then to the result.
   */
  check(job: CrcJob): Promise<{payload: Uint8Array; bad: number}> {
    const worker = this.start()
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject})
      if (this.pending.size === 1) worker.ref()
      const {payload, offsets, lengths, crcs} = job
      worker.postMessage({id, buffer: payload.buffer, byteOffset: payload.byteOffset, byteLength: payload.byteLength, offsets, lengths, crcs}, [payload.buffer as ArrayBuffer])
    })
  }

  async close(): Promise<void> {
    const w = this.worker
    this.worker = undefined
    if (w) await w.terminate()
  }

  private start(): Worker {
    if (this.failed) throw this.failed
    if (this.worker) return this.worker
    const worker = new Worker(WORKER_SOURCE, {eval: true})
    worker.unref()
    worker.on('message', ({id, buffer, bad}: {id: number; buffer: ArrayBuffer; bad: number}) => {
      const p = this.pending.get(id)
      if (!p) return
      this.pending.delete(id)
      if (this.pending.size === 0) worker.unref()
      p.resolve({payload: new Uint8Array(buffer), bad})
    })
    const fail = (e: unknown) => {
      this.failed = e
      this.worker = undefined
      for (const p of this.pending.values()) p.reject(e)
      this.pending.clear()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => {
      if (this.pending.size > 0) fail(new Error(`crc worker exited with code ${code}`))
      this.worker = undefined
    })
    this.worker = worker
    return worker
  }
}
