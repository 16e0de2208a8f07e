// Node writes leave the builder without being awaited one by one: on an object store a write is
// a round trip, and a build of 1M entries makes ~4000 nodes. A bounded window keeps memory flat.
import {StorageError} from '../errors.js'
import type {NodeIO} from './types.js'

export class WriteQueue {
  private readonly inflight = new Set<Promise<void>>()
  private failure: unknown = undefined

  constructor(private readonly io: NodeIO, private readonly window = 16) {}

  /** Starts writing `bytes` (already hashed by the caller to `hash`). */
  put(bytes: Uint8Array, hash: string): void {
    this.throwIfFailed()
    const write: Promise<void> = this.io.write(bytes).then(
      stored => {
        if (stored !== hash) this.failure ??= new StorageError(`node store named index node ${hash} as ${stored}`, {data: {hash, stored}})
        this.inflight.delete(write)
      },
      err => {
        this.failure ??= err
        this.inflight.delete(write)
      },
    )
    this.inflight.add(write)
  }

  /** A promise to await before making more nodes when the window is full, else undefined. */
  backpressure(): Promise<void> | undefined {
    this.throwIfFailed()
    if (this.inflight.size < this.window) return undefined
    return Promise.race(this.inflight).then(() => this.throwIfFailed())
  }

  /** Waits for every write; throws the first failure. */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all(this.inflight)
    this.throwIfFailed()
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure
  }
}
