// Content-addressed objects on top of any ObjectStore: an object is named by the sha256 of its
// bytes and stored at <prefix><hash[0:2]>/<hash[2:]>. Whole-object reads are re-hashed and a
// mismatch is refused, so corruption on disk or in transit is caught where it is read.
// Small verified objects (index pages, commits, roots: read again and again) are kept in a
// bounded in-memory LRU.
import {Lru} from '../lru.js'
import {CorruptObjectError, ObjectNotFoundError, PreconditionFailedError, StorageError} from '../errors.js'
import {checksumWorker} from '../checksum-worker.js'
import {isHash, sha256hex} from '../hash.js'
import {assertPrefix, OBJECTS_PREFIX} from './keys.js'
import type {ManyVisitor, ObjectStore, PutOptions} from './types.js'

export interface ObjectDbOptions {
  /** Key prefix of all objects; '' or ending in '/'. Default 'objects/'. */
  prefix?: string
  /** Bytes of verified objects kept in memory (default 64 MiB; 0 turns the cache off). */
  cacheBytes?: number
  /** Only objects up to this size are cached (default 1 MiB): chunks are read by range instead. */
  maxCachedObjectBytes?: number
}

export interface ListedHash {
  hash: string
  size: number
  mtimeMs: number
}

const WORKER_HASH_MIN = 1024 * 1024

const FSCK_HINT = 'run `lake fsck` to find every damaged or missing object'

/** The one place that turns a hash into a storage key. */
export function objectKey(hash: string, prefix = OBJECTS_PREFIX): string {
  return `${prefix}${hash.slice(0, 2)}/${hash.slice(2)}`
}

export class ObjectDb {
  readonly store: ObjectStore
  readonly prefix: string
  private readonly cache: Lru<string, Uint8Array> | null
  private readonly maxCachedObjectBytes: number

  constructor(store: ObjectStore, opts: ObjectDbOptions = {}) {
    const prefix = opts.prefix ?? OBJECTS_PREFIX
    assertPrefix(prefix)
    if (prefix !== '' && !prefix.endsWith('/')) throw new StorageError(`invalid object prefix ${JSON.stringify(prefix)}: it must be '' or end with '/'`, {data: {prefix}})
    this.store = store
    this.prefix = prefix
    const cacheBytes = opts.cacheBytes ?? 64 * 1024 * 1024
    this.maxCachedObjectBytes = Math.min(opts.maxCachedObjectBytes ?? 1024 * 1024, cacheBytes)
    this.cache = cacheBytes > 0 ? new Lru<string, Uint8Array>({maxSize: cacheBytes, sizeOf: bytes => Math.max(1, bytes.length)}) : null
  }

  keyOf(hash: string): string {
    return objectKey(hash, this.prefix)
  }

  /**
   * Stores `bytes` unless an object with the same hash exists; returns the hash. With `owned` the
   * caller gives the bytes up (their buffer may be detached): it must not read them afterwards,
   * except through `release`, called with them once they are stored (on success only).
   */
  /** `standalone`: the object names no other object (a chunk): see PutOptions.standalone. */
  async put(bytes: Uint8Array, opts: {owned?: boolean; release?: (bytes: Uint8Array) => void; standalone?: boolean} = {}): Promise<string> {
    let hash: string
    // `owned`: the caller hands the bytes over (a chunk just built); a large one is then hashed on
    // the checksum worker while this thread goes on building the next (once the process has
    // hashed enough to make the worker worth its start: checksum-worker.ts)
    if (opts.owned && bytes.byteLength >= WORKER_HASH_MIN && bytes.buffer instanceof ArrayBuffer && checksumWorker().offload(bytes.byteLength)) ({hash, bytes} = await checksumWorker().sha256(bytes))
    else hash = sha256hex(bytes)
    const key = this.keyOf(hash)
    // Asks the store every time, never the cache: another process's gc may have removed it. An
    // object that is there is touched, so gc's grace period protects it until it is referenced.
    // ifNoneMatch: a racing writer of the same object is not replaced (its mtime stays).
    // deferSync: made durable together with the rest of the command's objects, at flush()
    const putOpts: PutOptions = {...(this.store.supports.conditionalWrite ? {ifNoneMatch: '*'} : {}), deferSync: true, contentSha256: hash, standalone: opts.standalone}
    if (this.store.putUnlessPresent) await this.store.putUnlessPresent(key, bytes, putOpts)
    else if (!(await this.store.touch(key))) {
      try {
        await this.store.put(key, bytes, putOpts)
      } catch (err) {
        if (!(err instanceof PreconditionFailedError)) throw err
      }
    }
    this.remember(hash, bytes)
    // stored (the store keeps no reference after put; the cache keeps a copy): an owner may reuse
    // the memory, handed back as it is now (after a trip to the hash worker, a new view of it)
    opts.release?.(bytes)
    return hash
  }

  /**
   * Makes every object put so far durable and visible to other processes. Whoever publishes a
   * reference to objects (an event in the log, a ref in a store) flushes first: appendEvents
   * does it through EventDb.beforeAppend.
   */
  flush(): Promise<void> {
    return this.store.flush()
  }

  /** The whole object, verified against its hash; the caller owns the returned bytes (never the cache's). */
  async get(hash: string): Promise<Uint8Array> {
    this.checkHash(hash)
    const cached = this.cache?.get(hash)
    if (cached) return cached.slice()
    const bytes = await this.read(hash)
    const actual = sha256hex(bytes)
    if (actual !== hash) throw this.corrupt(hash, actual)
    this.remember(hash, bytes)
    return bytes
  }

  /**
   * Part of an object, NOT verified (the caller checks its own per-sample checksum); read into
   * `into` when the store supports it (see ObjectStore.getRange).
   */
  async getRange(hash: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    this.checkHash(hash)
    const cached = this.cache?.get(hash)
    if (cached && Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset + length <= cached.length) {
      return cached.slice(offset, offset + length)
    }
    try {
      return await this.store.getRange(this.keyOf(hash), offset, length, into)
    } catch (err) {
      throw this.renamed(hash, err)
    }
  }

  /**
   * The whole object without re-hashing it: only for callers that verify what they use another
   * way (sample reads check each sample's crc32 from a verified index entry).
   */
  async getUnverified(hash: string): Promise<Uint8Array> {
    this.checkHash(hash)
    try {
      return await this.store.get(this.keyOf(hash))
    } catch (err) {
      throw this.renamed(hash, err)
    }
  }

  /**
   * getUnverified for many objects at once (ObjectStore.visitMany where the store has it): visit(i,
   * bytes) for each, in any order, or visit(i, undefined, error). `bytes` are valid only until
   * visit returns.
   */
  async visitUnverified(hashes: readonly string[], visit: ManyVisitor): Promise<void> {
    const many = this.store.visitMany
    if (!many) {
      const got = await Promise.allSettled(hashes.map((h) => this.getUnverified(h)))
      for (let i = 0; i < got.length; i++) {
        const g = got[i]
        if (g.status === 'fulfilled') visit(i, g.value)
        else visit(i, undefined, g.reason)
      }
      return
    }
    const keys: string[] = []
    const at: number[] = []
    for (let i = 0; i < hashes.length; i++) {
      try {
        this.checkHash(hashes[i])
      } catch (error) {
        visit(i, undefined, error)
        continue
      }
      keys.push(this.keyOf(hashes[i]))
      at.push(i)
    }
    await many.call(this.store, keys, (k, bytes, error) => {
      if (bytes) visit(at[k], bytes)
      else visit(at[k], undefined, this.renamed(hashes[at[k]], error))
    })
  }

  async has(hash: string): Promise<boolean> {
    this.checkHash(hash)
    return this.store.exists(this.keyOf(hash))
  }

  async delete(hash: string): Promise<void> {
    this.checkHash(hash)
    this.cache?.delete(hash)
    await this.store.delete(this.keyOf(hash))
  }

  /** Every object in the store (in hash order); keys under the prefix that are not object names are skipped. */
  async *list(): AsyncIterable<ListedHash> {
    for await (const {key, size, mtimeMs} of this.store.list(this.prefix)) {
      const name = key.slice(this.prefix.length)
      if (name.length === 65 && name[2] === '/' && isHash(name.slice(0, 2) + name.slice(3))) {
        yield {hash: name.slice(0, 2) + name.slice(3), size, mtimeMs}
      }
    }
  }

  /** For fsck: re-reads and re-hashes from the store, bypassing the cache. */
  async verify(hash: string): Promise<'ok' | 'missing' | 'corrupt'> {
    this.checkHash(hash)
    let bytes: Uint8Array
    try {
      bytes = await this.store.get(this.keyOf(hash))
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return 'missing'
      throw err
    }
    if (sha256hex(bytes) === hash) return 'ok'
    this.cache?.delete(hash)
    return 'corrupt'
  }

  private async read(hash: string): Promise<Uint8Array> {
    try {
      return await this.store.get(this.keyOf(hash))
    } catch (err) {
      throw this.renamed(hash, err)
    }
  }

  // The cache holds its own copy: callers may mutate what they passed in or got back.
  private remember(hash: string, bytes: Uint8Array): void {
    if (this.cache && bytes.length <= this.maxCachedObjectBytes && !this.cache.has(hash)) this.cache.set(hash, new Uint8Array(bytes))
  }

  private checkHash(hash: string): void {
    if (!isHash(hash)) throw new StorageError(`not an object hash: ${JSON.stringify(hash)}`, {hint: 'an object hash is 64 lowercase hex digits (sha256)', data: {hash}})
  }

  /** Store errors name a key; callers and users think in object hashes. */
  private renamed(hash: string, err: unknown): unknown {
    const key = this.keyOf(hash)
    if (err instanceof ObjectNotFoundError) {
      return new ObjectNotFoundError(`object ${hash} not found in ${this.store.url}`, {hint: FSCK_HINT, data: {hash, key}})
    }
    if (err instanceof CorruptObjectError) {
      return new CorruptObjectError(`object ${hash} in ${this.store.url} is corrupt: ${err.message}`, {hint: FSCK_HINT, data: {...err.data, hash, key}})
    }
    return err
  }

  private corrupt(hash: string, actual: string): CorruptObjectError {
    return new CorruptObjectError(`object ${hash} in ${this.store.url} is corrupt: its bytes hash to ${actual}`, {
      hint: FSCK_HINT,
      data: {hash, actual, key: this.keyOf(hash)},
    })
  }
}
