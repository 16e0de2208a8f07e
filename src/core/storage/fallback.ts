// A local store that reads objects it lacks from another store (a lazy clone reading through to
// its remote) and keeps what it read, so each object crosses the network once. Writes, lists and
// deletes are local: the remote is only ever read here.
//
// A ranged read (one sample of a raw chunk) of an object the local side lacks fetches the whole
// object once and keeps it, when it is small enough (chunks are ~4 MiB): a data loader reading
// samples at random would otherwise ask the remote again for every sample of a chunk, and again
// for the same sample on the next epoch. Larger objects are read by range, as before.
import {sha256hex} from '../hash.js'
import type {ListedObject, ObjectStore, PutOptions} from './types.js'

export interface FallbackStoreOptions {
  /** Key prefix of the content-addressed objects the remote may hold (default 'objects/'). */
  prefix?: string
  /** A ranged miss of an object at most this large fetches and keeps it whole (default 16 MiB; 0: never). */
  wholeObjectOnRangeBytes?: number
}

const HASH_NAME = /^[0-9a-f]{2}\/[0-9a-f]{62}$/

export class FallbackStore implements ObjectStore {
  readonly supports
  readonly url: string
  /** Reads may go to the remote: as far ahead as the slower of the two wants. */
  readonly readAhead: number
  private readonly prefix: string
  private readonly wholeObjectOnRangeBytes: number
  /** Whole-object fetches under way, so concurrent readers of one object share one request. */
  private readonly fetching = new Map<string, Promise<Uint8Array>>()
  /** Remote sizes learned by ranged misses of objects too large to keep. */
  private readonly remoteSizes = new Map<string, number>()

  constructor(readonly local: ObjectStore, readonly remote: ObjectStore, opts: FallbackStoreOptions = {}) {
    this.supports = local.supports
    this.url = local.url
    this.readAhead = Math.max(local.readAhead, remote.readAhead)
    this.prefix = opts.prefix ?? 'objects/'
    this.wholeObjectOnRangeBytes = opts.wholeObjectOnRangeBytes ?? 16 * 1024 * 1024
  }

  private remoteHas(key: string) {
    return key.startsWith(this.prefix)
  }

  async get(key: string): Promise<Uint8Array> {
    if (!this.remoteHas(key) || (await this.local.exists(key))) return this.local.get(key)
    return this.fetch(key)
  }

  /** `into`: as the local store (supports is its), also for bytes fetched whole from the remote. */
  async getRange(key: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    if (!this.remoteHas(key) || (await this.local.exists(key))) return this.local.getRange(key, offset, length, into)
    if (this.wholeObjectOnRangeBytes > 0 && (await this.remoteSize(key)) <= this.wholeObjectOnRangeBytes) {
      const whole = await this.fetch(key)
      if (Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset + length <= whole.length) {
        if (!into || into.byteLength < length || !this.supports.readInto) return whole.slice(offset, offset + length)
        into.set(whole.subarray(offset, offset + length))
        return into.subarray(0, length)
      }
      // Invalid or past the end: the local store, which now holds the object (or the remote, if it
      // could not be kept), gives the contract's error.
      return (await this.local.exists(key)) ? this.local.getRange(key, offset, length) : this.remote.getRange(key, offset, length)
    }
    return this.remote.getRange(key, offset, length)
  }

  /** The remote's object, kept here when its bytes match the hash it is named by. */
  private fetch(key: string): Promise<Uint8Array> {
    let pending = this.fetching.get(key)
    if (!pending) {
      pending = (async () => {
        const bytes = await this.remote.get(key)
        // Bytes that do not match their name are the remote's corruption: passed on for the reader
        // to refuse (ObjectDb, or a sample's crc), never kept, so a later read asks again.
        if (this.hashOf(key) === sha256hex(bytes)) {
          await this.local.put(key, bytes).catch(() => undefined)
          this.remoteSizes.delete(key)
        }
        return bytes
      })().finally(() => this.fetching.delete(key))
      this.fetching.set(key, pending)
    }
    return pending
  }

  private async remoteSize(key: string): Promise<number> {
    const known = this.remoteSizes.get(key)
    if (known !== undefined) return known
    const head = await this.remote.head(key)
    // Absent there too: the whole-object read that follows says so in the remote's words.
    if (head === null) return 0
    if (this.remoteSizes.size >= 100_000) this.remoteSizes.clear()
    this.remoteSizes.set(key, head.size)
    return head.size
  }

  private hashOf(key: string): string | null {
    const name = key.slice(this.prefix.length)
    return HASH_NAME.test(name) ? name.slice(0, 2) + name.slice(3) : null
  }

  put(key: string, bytes: Uint8Array, opts?: PutOptions) {
    return this.local.put(key, bytes, opts)
  }

  async exists(key: string): Promise<boolean> {
    return (await this.local.exists(key)) || (this.remoteHas(key) && (await this.remote.exists(key)))
  }

  touch(key: string): Promise<boolean> {
    return this.local.touch(key)
  }

  head(key: string) {
    return this.local.head(key)
  }

  list(prefix: string): AsyncIterable<ListedObject> {
    return this.local.list(prefix)
  }

  delete(key: string): Promise<void> {
    return this.local.delete(key)
  }

  flush(): Promise<void> {
    return this.local.flush()
  }

  // What the clone holds is the local store's: its layout, its damage, its leftovers.
  refresh(): void {
    this.local.refresh?.()
  }

  damaged(): {object: string; problem: string}[] {
    return this.local.damaged?.() ?? []
  }

  async cleanupTemp(olderThanMs: number): Promise<{files: number; bytes: number}> {
    return (await this.local.cleanupTemp?.(olderThanMs)) ?? {files: 0, bytes: 0}
  }

  async close(): Promise<void> {
    await Promise.all([this.local.close(), this.remote.close()])
  }
}
