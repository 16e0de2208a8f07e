// A disk cache in front of a remote ObjectStore, for the immutable content-addressed objects
// (objects/<2 hex>/<62 hex>, named by the sha256 of their bytes). Everything else (refs, locks)
// goes straight to the remote, and so do exists/head/touch/list: the remote's gc decides what is
// there, the cache only ever holds verified copies of bytes that were once there.
//
// Layout: <dir>/objects/<2>/<62> (one file per object) and <dir>/tmp/ (writes in progress).
// Because a file's name is the hash of its content, one directory may serve any number of
// remotes and processes: a write is a temp file renamed into place (a reader sees no file or the
// whole file), a hit refreshes the file's mtime (the LRU order all processes share), and eviction
// deletes the oldest files until the total is back under the budget, shrugging at files another
// process evicted first. Each process trims by its own estimate (its scan plus its writes since),
// so with several processes the total may briefly exceed the budget by what the others wrote
// since their last trim.
import {randomBytes} from 'node:crypto'
import {mkdir, open, readdir, readFile, rename, stat, unlink, utimes, writeFile, type FileHandle} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'
import {StorageError} from '../errors.js'
import {sha256hex} from '../hash.js'
import {BaseStore, notFound} from './base.js'
import {OBJECTS_PREFIX} from './keys.js'
import type {ListedObject, ObjectStore, PutOptions, StoreCapabilities} from './types.js'

export interface CachedStoreOptions {
  /** The cache directory (made on first write). */
  dir: string
  /** Bytes of objects the cache keeps (`lake config cache.size`). */
  maxBytes: number
  /** Larger objects are never cached (default: a quarter of maxBytes, at most 256 MiB). */
  maxObjectBytes?: number
  /**
   * A ranged read of an uncached object at most this large fetches and caches the whole object,
   * so later ranges of it cost no request (default 16 MiB; 0: ranged reads are always forwarded).
   */
  wholeObjectOnRangeBytes?: number
  /** Cache objects written through this store too (default false: a push should not churn the cache). */
  writeThrough?: boolean
  /** Key prefix of the content-addressed objects (default 'objects/'). */
  prefix?: string
}

export interface CacheStats {
  hits: number
  misses: number
  /** Cached files whose bytes did not match their hash (deleted and fetched again). */
  corrupt: number
  evicted: number
}

/** After a trim the cache holds at most this share of the budget, so trims are not back to back. */
const LOW_WATER = 0.9
/** Temp files older than this belong to a crashed writer. */
const STALE_TEMP_MS = 60 * 60_000
/** A hit refreshes the mtime only when it is older than this (one syscall saved per hot read). */
const TOUCH_AFTER_MS = 1_000
const HASH_NAME = /^[0-9a-f]{2}\/[0-9a-f]{62}$/

export class CachedStore extends BaseStore {
  readonly url: string
  readonly supports: StoreCapabilities
  override readonly readAhead: number
  readonly remote: ObjectStore
  readonly dir: string
  readonly maxBytes: number
  readonly stats: CacheStats = {hits: 0, misses: 0, corrupt: 0, evicted: 0}
  private readonly maxObjectBytes: number
  private readonly wholeObjectOnRangeBytes: number
  private readonly writeThrough: boolean
  private readonly prefix: string
  /** Bytes on disk as this process believes; null until the first scan. */
  private usedBytes: number | null = null
  private trimming: Promise<void> | null = null
  /** Files (dev:ino:size) this process has hashed whole: ranged hits skip re-hashing them. */
  private readonly verified = new Map<string, string>()
  /** Remote sizes learned by ranged misses, so a large object is not asked about twice. */
  private readonly remoteSizes = new Map<string, number>()

  /** Takes ownership of `remote`: closing the cache closes it. */
  constructor(remote: ObjectStore, opts: CachedStoreOptions) {
    super()
    if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes <= 0) {
      throw new StorageError(`invalid cache size ${opts.maxBytes}: it must be a positive number of bytes`, {hint: 'set cache.size to a number of bytes, e.g. `lake config cache.size 10737418240`', data: {maxBytes: opts.maxBytes}})
    }
    this.remote = remote
    this.url = remote.url
    this.supports = remote.supports
    // Misses go to the remote, so scans read ahead as far as it wants; hits cost no more for it.
    this.readAhead = remote.readAhead
    this.dir = resolve(opts.dir)
    this.maxBytes = opts.maxBytes
    this.maxObjectBytes = Math.min(opts.maxObjectBytes ?? Math.min(Math.floor(opts.maxBytes / 4), 256 * 1024 * 1024), opts.maxBytes)
    this.wholeObjectOnRangeBytes = opts.wholeObjectOnRangeBytes ?? 16 * 1024 * 1024
    this.writeThrough = opts.writeThrough ?? false
    this.prefix = opts.prefix ?? OBJECTS_PREFIX
  }

  /** The hash a key names, when it is a cacheable object key. */
  private hashOf(key: string): string | null {
    if (!key.startsWith(this.prefix)) return null
    const name = key.slice(this.prefix.length)
    return HASH_NAME.test(name) ? name.slice(0, 2) + name.slice(3) : null
  }

  private pathOf(hash: string): string {
    return join(this.dir, 'objects', hash.slice(0, 2), hash.slice(2))
  }

  protected async _get(key: string): Promise<Uint8Array> {
    const hash = this.hashOf(key)
    if (hash === null) return this.remote.get(key)
    const cached = await this.readWhole(hash)
    if (cached !== null) return cached
    this.stats.misses++
    const bytes = await this.remote.get(key)
    // Bytes that do not match their name are the remote's corruption: passed on (ObjectDb names
    // it), never cached.
    if (sha256hex(bytes) === hash) await this.keep(hash, bytes)
    return bytes
  }

  protected async _getRange(key: string, offset: number, length: number): Promise<Uint8Array | null> {
    const hash = this.hashOf(key)
    if (hash === null) return this.remote.getRange(key, offset, length)
    const cached = await this.readRange(hash, offset, length)
    if (cached !== undefined) return cached
    this.stats.misses++
    if (this.wholeObjectOnRangeBytes > 0) {
      const size = await this.remoteSize(key, hash)
      if (size <= this.wholeObjectOnRangeBytes && size <= this.maxObjectBytes) {
        const whole = await this.remote.get(key)
        if (sha256hex(whole) === hash) {
          await this.keep(hash, whole)
          this.remoteSizes.delete(hash)
        }
        return offset + length <= whole.length ? whole.slice(offset, offset + length) : null
      }
    }
    return this.remote.getRange(key, offset, length)
  }

  private async remoteSize(key: string, hash: string): Promise<number> {
    const known = this.remoteSizes.get(hash)
    if (known !== undefined) return known
    const head = await this.remote.head(key)
    if (head === null) throw notFound(this.url, key)
    if (this.remoteSizes.size >= 100_000) this.remoteSizes.clear()
    this.remoteSizes.set(hash, head.size)
    return head.size
  }

  /** The cached object, verified; null when absent or corrupt (then deleted). */
  private async readWhole(hash: string): Promise<Uint8Array | null> {
    const path = this.pathOf(hash)
    let buffer: Buffer
    try {
      buffer = await readFile(path)
    } catch {
      return null
    }
    if (sha256hex(buffer) !== hash) {
      await this.discard(hash)
      return null
    }
    this.stats.hits++
    await this.refreshMtime(path, 0)
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  }

  /** A range of the cached object: bytes, null when the object is shorter, undefined when not cached. */
  private async readRange(hash: string, offset: number, length: number): Promise<Uint8Array | null | undefined> {
    const path = this.pathOf(hash)
    let handle: FileHandle
    try {
      handle = await open(path, 'r')
    } catch {
      return undefined
    }
    try {
      const info = await handle.stat()
      const identity = `${info.dev}:${info.ino}:${info.size}`
      if (this.verified.get(hash) !== identity) {
        // First use of this file in this process: hash it whole once (the file may be another
        // process's write, or damaged on disk); later ranges trust it.
        if (sha256hex(await handle.readFile()) !== hash) {
          await handle.close()
          await this.discard(hash)
          return undefined
        }
        this.remember(hash, identity)
      }
      this.stats.hits++
      await this.refreshMtime(path, info.mtimeMs)
      if (offset + length > info.size) return null
      const out = new Uint8Array(length)
      for (let filled = 0; filled < length; ) {
        const {bytesRead} = await handle.read(out, filled, length - filled, offset + filled)
        if (bytesRead === 0) return null
        filled += bytesRead
      }
      return out
    } finally {
      await handle.close().catch(() => {})
    }
  }

  private remember(hash: string, identity: string): void {
    if (this.verified.size >= 100_000) this.verified.clear()
    this.verified.set(hash, identity)
  }

  /** Moves a hit to the young end of the LRU order all processes share. */
  private async refreshMtime(path: string, mtimeMs: number): Promise<void> {
    if (Date.now() - mtimeMs < TOUCH_AFTER_MS) return
    const now = new Date()
    await utimes(path, now, now).catch(() => {})
  }

  private async discard(hash: string): Promise<void> {
    this.stats.corrupt++
    this.verified.delete(hash)
    await unlink(this.pathOf(hash)).catch(() => {})
  }

  /** Caches verified bytes; a failure to cache never fails the read that brought them. */
  private async keep(hash: string, bytes: Uint8Array): Promise<void> {
    if (bytes.length > this.maxObjectBytes) return
    const path = this.pathOf(hash)
    const temp = join(this.dir, 'tmp', `${hash.slice(0, 16)}-${process.pid}-${randomBytes(4).toString('hex')}`)
    try {
      await writeFile(temp, bytes).catch(async err => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
        await mkdir(dirname(temp), {recursive: true})
        await writeFile(temp, bytes)
      })
      await rename(temp, path).catch(async err => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
        await mkdir(dirname(path), {recursive: true})
        await rename(temp, path)
      })
    } catch {
      await unlink(temp).catch(() => {})
      return
    }
    if (this.usedBytes !== null) this.usedBytes += bytes.length
    if (this.usedBytes === null || this.usedBytes > this.maxBytes) await this.trim(path)
  }

  /** Deletes the least recently used objects until the cache is within its budget. */
  async trim(keep?: string): Promise<void> {
    while (this.trimming) await this.trimming
    this.trimming = this.evict(keep).finally(() => (this.trimming = null))
    await this.trimming
  }

  private async evict(keep: string | undefined): Promise<void> {
    const files = await this.scan()
    let total = files.reduce((sum, f) => sum + f.size, 0)
    if (total > this.maxBytes) {
      files.sort((a, b) => a.mtimeMs - b.mtimeMs)
      for (const file of files) {
        if (total <= this.maxBytes * LOW_WATER) break
        if (file.path === keep) continue
        // Already gone (another process evicted it) counts as evicted all the same.
        await unlink(file.path).catch(() => {})
        total -= file.size
        this.stats.evicted++
      }
    }
    this.usedBytes = total
  }

  private async scan(): Promise<Array<{path: string; size: number; mtimeMs: number}>> {
    const files: Array<{path: string; size: number; mtimeMs: number}> = []
    const root = join(this.dir, 'objects')
    for (const sub of await listDir(root)) {
      const dir = join(root, sub)
      const names = await listDir(dir)
      for (let i = 0; i < names.length; i += 64) {
        const batch = await Promise.all(names.slice(i, i + 64).map(async name => {
          const info = await stat(join(dir, name)).catch(() => null)
          return info?.isFile() ? {path: join(dir, name), size: info.size, mtimeMs: info.mtimeMs} : null
        }))
        for (const file of batch) if (file) files.push(file)
      }
    }
    await this.sweepTemp()
    return files
  }

  private async sweepTemp(): Promise<void> {
    const dir = join(this.dir, 'tmp')
    for (const name of await listDir(dir)) {
      const info = await stat(join(dir, name)).catch(() => null)
      if (info && Date.now() - info.mtimeMs > STALE_TEMP_MS) await unlink(join(dir, name)).catch(() => {})
    }
  }

  protected async _put(key: string, bytes: Uint8Array, opts: PutOptions): Promise<{etag: string}> {
    const result = await this.remote.put(key, bytes, opts)
    const hash = this.hashOf(key)
    if (this.writeThrough && hash !== null && sha256hex(bytes) === hash) await this.keep(hash, bytes)
    return result
  }

  protected _exists(key: string): Promise<boolean> {
    return this.remote.exists(key)
  }

  protected _touch(key: string): Promise<boolean> {
    return this.remote.touch(key)
  }

  protected _head(key: string): Promise<{etag: string; size: number} | null> {
    return this.remote.head(key)
  }

  protected _list(prefix: string): AsyncIterable<ListedObject> {
    return this.remote.list(prefix)
  }

  protected async _delete(key: string): Promise<void> {
    await this.remote.delete(key)
    const hash = this.hashOf(key)
    if (hash !== null) {
      this.verified.delete(hash)
      await unlink(this.pathOf(hash)).catch(() => {})
    }
  }

  protected _flush(): Promise<void> {
    return this.remote.flush()
  }

  protected async _close(): Promise<void> {
    await this.trimming
    await this.remote.close()
  }
}

async function listDir(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [])
}
