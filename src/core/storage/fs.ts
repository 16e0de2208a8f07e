// A directory as an ObjectStore: key 'a/b/c' is the file <root>/a/b/c.
// A put writes a temp file beside the target and renames it into place, so a reader sees the old
// object or the whole new one. With `durable` (the default) the file and every directory entry
// it depends on are fsynced before put resolves: an acknowledged object survives a power cut.
// A deferSync put of a content-addressed key (what ObjectDb does) is only written to its temp
// file; flush() then fsyncs all such files, renames each into place and fsyncs each directory
// once: one journal commit for a whole command's objects instead of two per object, and still
// never a file under its final name that is not whole on disk. Until then this instance reads the
// object from its temp file; other processes do not see it (nothing they can read refers to it
// before the writer's commit point, which flushes first).
// Conditional writes: ifNoneMatch '*' hard-links the temp file to the target, which fails
// atomically when the target exists; ifMatch, and every write or delete of a mutable key (one
// outside `immutablePrefixes`), holds the key's lock, so a compare-and-swap never interleaves with
// another write to the same key.
import {randomBytes} from 'node:crypto'
import {closeSync, existsSync, fstatSync, fsync, mkdirSync, openSync, read, readdirSync, readFileSync, readSync, statSync, unlinkSync, utimesSync, writeSync} from 'node:fs'
import {link, mkdir, open, readFile, rename, rmdir, stat, unlink} from 'node:fs/promises'
import {basename, dirname, join, resolve, sep} from 'node:path'
import {pathToFileURL} from 'node:url'
import {CorruptObjectError, LakeError, ObjectNotFoundError, PreconditionFailedError, StorageError} from '../errors.js'
import {sha256hex} from '../hash.js'
import {alreadyExists, BaseStore, checkPrecondition, notFound} from './base.js'
import {ReadHandles} from './fs-handles.js'
import {KeyedMutex, withFileLock, type LockOptions} from './fs-lock.js'
import {buildPack, copyPack, forgetPackIndex, keyHash, PACK_DIR, PACK_NAME, PackFormatError, packsToMerge, readPackIndex, type PackIndex, type PackObject, type PackedEntry} from './fs-pack.js'
import {DirSyncer, errno} from './fs-sync.js'
import {listFiles, LOCK_PREFIX, sweepLeftovers, TEMP_PREFIX} from './fs-walk.js'
import {assertKey, isUnder, OBJECTS_PREFIX} from './keys.js'
import type {ListedObject, ManyVisitor, PutOptions, StoreCapabilities} from './types.js'

export interface FsStoreOptions {
  /** fsync data and directories before put resolves (default true); false only for benchmarks and scratch data. */
  durable?: boolean
  /**
   * Keys under these prefixes are never overwritten with different content (content-addressed
   * objects): their writes skip the key lock and their cached read handles skip the freshness
   * check. Default [OBJECTS_PREFIX].
   */
  immutablePrefixes?: string[]
  /** Read handles kept open for getRange (default 64). */
  maxOpenFiles?: number
  /** A key lock file older than this belongs to a crashed writer and is taken over (default 30 s). */
  lockStaleMs?: number
  /** How long a write waits for a live key lock before LockTimeoutError (default 60 s). */
  lockTimeoutMs?: number
  /**
   * Deferred objects that are not standalone go into one pack per flush (default true); false
   * keeps every object a file of its own (a dataset of format 1, which older lakes read). Packs
   * are read either way.
   */
  pack?: boolean
}

// Immutable objects up to this size (and ranges of any object up to it) are read synchronously: an index page or a commit is a few KB,
// and open+fstat+read+close through the thread pool costs ~10x the read itself (4 round trips),
// which is most of the time of a diff or a label scan. Larger objects (chunks) stay asynchronous so
// prefetched reads overlap the caller's work.
const SYNC_READ_MAX = 256 * 1024

// Deferred writes are flushed early once this much waits: bounds what a crash leaves as temp files.
const MAX_DEFERRED_BYTES = 256 * 1024 * 1024
// (each keeps its file open until the flush fsyncs it through the same handle)
const MAX_DEFERRED_FILES = 256
// ... or once the oldest has waited this long: a slow import's early objects do not stay temp files
// (gc sweeps temp files older than a minute when no writer holds a lease)
const MAX_DEFERRED_MS = 20_000
// Small deferred objects waiting for their pack are flushed early once this much waits.
const MAX_PENDING_BYTES = 64 * 1024 * 1024
// Packs at least this large are not folded into new ones (a fold reads the packs it folds into
// memory): a store of a few GB of index holds a few dozen such packs.
const FOLD_MAX_BYTES = 32 * 1024 * 1024
// fsyncs in flight during a flush (the thread pool has 4 threads; a few more keep it busy)
const FLUSH_PARALLEL = 8
// A deferred object at least this large that names no other (a chunk of images: opts.standalone)
// starts becoming durable at once, in the background: its fsync (~20 ms for 4 MiB here) then
// overlaps the rest of the command (the next chunk, the index) instead of waiting for the commit
// point. Small objects stay for the flush, where one journal commit covers them all. (One that
// names others must not appear before them: the flush renames in put order, children first.)
const SETTLE_EARLY_MIN = 1024 * 1024
// ... at most this many at once (each holds a thread of the pool while it fsyncs)
const SETTLE_EARLY_PARALLEL = 2

/** A pack file of this store as last read. */
interface LoadedPack {
  name: string
  path: string
  index: PackIndex
  size: number
  mtimeMs: number
}

/** A packed key deleted through this store: the packs that held it, with their mtimes then. */
interface Dropped {
  packs: Map<string, number>
}

/** Where a packed object lies. */
interface PackedAt {
  pack: LoadedPack
  entry: PackedEntry
}

/** A deferSync put of a standalone object (a chunk): written to `temp`, not yet fsynced nor renamed to `path`. */
interface DeferredWrite {
  temp: string
  /** the descriptor that wrote it, still open: the flush fsyncs and closes it */
  fd: number
  path: string
  size: number
  /** ifNoneMatch '*': linked into place (an existing object of the same key stays) */
  exclusive: boolean
  /**
   * Its one fsync (then close): made once and shared by whoever waits for it (a flush, a retry
   * after a failed flush, settleEarly). The descriptor is never fsynced twice, so a retry can never
   * fsync a number the first attempt closed and another file has reused; a failed fsync stays failed.
   */
  synced?: Promise<void>
  /** made durable in the background (settleEarly): never rejects; the flush waits for it */
  settling?: Promise<void>
  /** why settling failed: the flush throws it (the object is not durable) */
  failed?: unknown
}

// Errors that mean "there is no object by that key" on a read.
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR'])
// Errors of link() on file systems without hard links.
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'])

export class FsStore extends BaseStore {
  readonly url: string
  readonly root: string
  /** root with one trailing '/' (pathOf) */
  private readonly rootSlash: string
  readonly supports: StoreCapabilities = {conditionalWrite: true, list: true, rangeRead: true, readInto: true}
  readonly durable: boolean
  /** FsStoreOptions.pack */
  private readonly packing: boolean
  private readonly immutablePrefixes: readonly string[]
  private readonly lockOptions: LockOptions
  private readonly handles: ReadHandles
  private readonly dirSyncer = new DirSyncer()
  private readonly keyMutex = new KeyedMutex()
  /** Directories this process has created or seen, and (when durable) whose entry it has fsynced. */
  private readonly readyDirs = new Set<string>()
  /** Directories deferred puts made: their entries become durable (parent fsynced) at the flush. */
  private readonly unsyncedDirs = new Set<string>()
  private readonly pendingDirs = new Map<string, Promise<void>>()
  /** deferSync puts of standalone objects not flushed yet, by key (each its own file) */
  private readonly deferred = new Map<string, DeferredWrite>()
  private deferredBytes = 0
  /** all other deferSync puts not flushed yet, by key: the flush writes them as one pack */
  private readonly pending = new Map<string, Uint8Array>()
  private pendingBytes = 0
  /** this store's packs as last read from its pack directory, by file name (read on first use) */
  private packs: Map<string, LoadedPack> | undefined
  /** `packs` as packedAt searches them; undefined after any change */
  private searchOrder: LoadedPack[] | undefined
  /** packs whose index cannot be read, with why (fsck reports them: their objects read as missing) */
  readonly damagedPacks = new Map<string, string>()
  /** packed keys deleted through this instance: gone here at once, from disk when the next flush rewrites their packs */
  private readonly dropped = new Map<string, Dropped>()
  private deferredSince = 0
  private flushing: Promise<void> | undefined
  /** early settles running or about to (their slots are taken before their write) */
  private earlySlotsUsed = 0
  /** puts waiting for an early-settle slot, each given one as a settle ends */
  private readonly earlySlotWaiters: (() => void)[] = []

  constructor(rootDir: string, opts: FsStoreOptions = {}) {
    super()
    this.root = resolve(rootDir)
    this.rootSlash = this.root.endsWith('/') ? this.root : `${this.root}/`
    this.url = pathToFileURL(this.root).href
    this.durable = opts.durable ?? true
    this.packing = opts.pack ?? true
    this.immutablePrefixes = [...(opts.immutablePrefixes ?? [OBJECTS_PREFIX])]
    this.lockOptions = {staleMs: opts.lockStaleMs ?? 30_000, timeoutMs: opts.lockTimeoutMs ?? 60_000}
    this.handles = new ReadHandles(opts.maxOpenFiles ?? 64)
  }

  /** Deletes temp and lock files left by crashed writers (temp files only when older than olderThanMs). */
  async cleanupTemp(olderThanMs = 60 * 60_000): Promise<{files: number; bytes: number}> {
    this.checkOpen()
    return sweepLeftovers(this.root, olderThanMs, this.lockOptions.staleMs)
  }

  private pathOf(key: string): string {
    // (a valid key has no '', '.' or '..' segment, so on POSIX this is what join gives, without
    // an array and a normalisation per read)
    return sep === '/' ? this.rootSlash + key : join(this.root, ...key.split('/'))
  }

  private isImmutable(key: string): boolean {
    return isUnder(key, this.immutablePrefixes)
  }

  protected async _get(key: string): Promise<Uint8Array> {
    try {
      const pending = this.pending.get(key)
      if (pending) return pending.slice()
      // deferred objects are read synchronously: a flush cannot rename the temp file mid-read
      const waiting = this.deferred.get(key)
      if (waiting) return readDeferred(waiting, (file) => readSmallSync(file, Infinity)!)
      return await this.packedOr(key, async () => {
        if (this.isImmutable(key)) {
          const small = readSmallSync(this.pathOf(key), SYNC_READ_MAX)
          if (small) return small
        }
        return asBytes(await readFile(this.pathOf(key)))
      }, async (at) => (await this.readPacked(key, at, 0, at.entry.length)) ?? shortPack(at))
    } catch (err) {
      throw this.failure('read', key, err)
    }
  }

  protected async _getRange(key: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array | null> {
    try {
      const pending = this.pending.get(key)
      if (pending) return pending.length < offset + length ? null : copyOut(pending.subarray(offset, offset + length), into)
      const waiting = this.deferred.get(key)
      if (waiting) return readDeferred(waiting, (file) => readRangeSync(file, offset, length, into))
      return await this.packedOr(
        key,
        () => this.handles.use(this.pathOf(key), !this.isImmutable(key), fd => readExactly(fd, offset, length, into)),
        (at) => this.readPacked(key, at, offset, length, into),
      )
    } catch (err) {
      throw this.failure('read', key, err)
    }
  }

  /**
   * ObjectStore.visitMany. Packed objects are read synchronously, and those lying close together in
   * one pack (the leaves under an index page are written side by side) with one read per run into
   * a buffer reused from call to call: one syscall and no new memory per object, where a read each
   * cost a few times the copy (new memory costs a page fault per 4 KiB on virtual machines).
   * Anything else (a loose file, an object not flushed yet, a run whose pack was folded away
   * meanwhile or reads short) goes through get, which handles and names every such case.
   */
  async visitMany(keys: readonly string[], visit: ManyVisitor): Promise<void> {
    this.checkOpen()
    const packed: {i: number; at: PackedAt}[] = []
    const others: number[] = []
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]
      // (a pack holds only keys a put accepted: any other key goes to get, which refuses it)
      const plain = this.isImmutable(key) && !this.pending.has(key) && !this.deferred.has(key)
      const at = plain ? this.packedAt(key) : undefined
      if (at) packed.push({i, at})
      else others.push(i)
    }
    packed.sort((a, b) => (a.at.pack === b.at.pack ? a.at.entry.offset - b.at.entry.offset : a.at.pack.name < b.at.pack.name ? -1 : 1))
    for (let r = 0; r < packed.length; ) {
      const first = packed[r].at
      const start = first.entry.offset
      let end = start + first.entry.length
      let s = r + 1
      for (; s < packed.length; s++) {
        const {pack, entry} = packed[s].at
        const until = Math.max(end, entry.offset + entry.length)
        if (pack !== first.pack || entry.offset - end > RUN_GAP || until - start > RUN_BYTES) break
        end = until
      }
      let run: Uint8Array | null = null
      try {
        run = this.handles.useSync(first.pack.path, false, (fd) => readRunSync(fd, start, end - start))
      } catch {
        // (its pack gone or unreadable: get follows a fold, or fails as it should)
      }
      try {
        for (let k = r; k < s; k++) {
          const {i, at} = packed[k]
          const from = at.entry.offset - start
          if (run && from + at.entry.length <= run.length) visit(i, run.subarray(from, from + at.entry.length))
          else others.push(i)
        }
      } finally {
        if (run) releaseRunBuffer(run)
      }
      r = s
    }
    const rest = await Promise.allSettled(others.map((i) => this.get(keys[i])))
    for (let m = 0; m < others.length; m++) {
      const got = rest[m]
      if (got.status === 'fulfilled') visit(others[m], got.value)
      else visit(others[m], undefined, got.reason)
    }
  }

  /** Packs hold immutable keys only; a packed object's key is not a file, and a file's key may be in no pack. */
  private async packedOr<T>(key: string, loose: () => Promise<T>, packed: (at: PackedAt) => Promise<T>): Promise<T> {
    if (!this.isImmutable(key)) return loose()
    const at = this.packedAt(key)
    if (at) return packed(at)
    try {
      return await loose()
    } catch (err) {
      // not a file: maybe in a pack another process has written since this one last looked (looked
      // up again even when this refresh changed nothing: a concurrent read's refresh may have
      // loaded that pack a moment ago)
      if (!MISSING.has(errno(err) ?? '')) throw err
      this.refreshPacks()
      const now = this.packedAt(key)
      if (!now) throw err
      return packed(now)
    }
  }

  /** Where `key` lies in this store's packs as last read; undefined when in none (or deleted here). */
  private packedAt(key: string): PackedAt | undefined {
    if (this.dropped.has(key)) return undefined
    // the largest first: it holds most objects
    this.searchOrder ??= [...this.loadedPacks().values()].sort((a, b) => b.index.count - a.index.count)
    const hash = keyHash(key)
    for (const pack of this.searchOrder) {
      const entry = pack.index.lookup(key, hash)
      if (entry) return {pack, entry}
    }
    return undefined
  }

  private loadedPacks(): Map<string, LoadedPack> {
    if (this.packs) return this.packs
    this.refreshPacks()
    return this.packs!
  }

  private get packDir(): string {
    return join(this.root, PACK_DIR)
  }

  /**
   * Reads the pack directory again: loads packs other processes (or gc) wrote since, forgets those
   * they folded into others. True when anything changed. Synchronous: a directory of a few names.
   * `fresh`: every pack's index is read and checked from disk again, not only new packs' (fsck).
   */
  private refreshPacks(fresh = false): boolean {
    let changed = false
    // a pack listed but gone before it was opened was folded into one this listing may not show:
    // read the directory again until a pass loses none (bounded: folds are rare)
    const reread = fresh ? new Set<string>() : undefined
    for (let pass = 0; pass < 5; pass++) {
      const {changed: now, vanished} = this.readPackDir(reread)
      changed ||= now
      if (!vanished) break
    }
    if (changed) this.searchOrder = undefined
    return changed
  }

  /** `reread`: read every pack's index from disk, once (the names read so far go in it). */
  private readPackDir(reread?: Set<string>): {changed: boolean; vanished: boolean} {
    const packs = (this.packs ??= new Map())
    let names: string[]
    try {
      names = readdirSync(this.packDir).filter((name) => PACK_NAME.test(name))
    } catch (err) {
      if (!MISSING.has(errno(err) ?? '')) throw err
      names = []
    }
    let changed = false
    let vanished = false
    const present = new Set(names)
    for (const [name, pack] of packs) {
      if (present.has(name)) continue
      packs.delete(name)
      this.handles.evict(pack.path)
      forgetPackIndex(pack.path)
      changed = true
    }
    for (const name of names) {
      const fresh = reread !== undefined && !reread.has(name)
      if (packs.has(name) && !fresh) continue
      reread?.add(name)
      const path = join(this.packDir, name)
      try {
        const {index, size, mtimeMs} = readPackIndex(path, {fresh})
        packs.set(name, {name, path, index, size, mtimeMs})
        this.damagedPacks.delete(name)
        changed = true
      } catch (err) {
        if (MISSING.has(errno(err) ?? '')) {
          vanished = true // folded into another pack meanwhile
          continue
        }
        if (!(err instanceof PackFormatError)) throw err
        this.damagedPacks.set(name, err.message)
        // (damaged since it was loaded: its objects now read as missing, as for any damaged pack)
        if (packs.delete(name)) {
          this.handles.evict(path)
          changed = true
        }
      }
    }
    return {changed, vanished}
  }

  /** `length` bytes at `offset` of a packed object, or null when it is shorter; follows a pack folded away meanwhile. */
  private async readPacked(key: string, at: PackedAt, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array | null> {
    const read = (where: PackedAt) =>
      offset + length > where.entry.length ? null : this.handles.use(where.pack.path, false, (fd) => readExactly(fd, where.entry.offset + offset, length, into))
    for (let attempt = 1; ; attempt++) {
      try {
        return await read(at)
      } catch (err) {
        if (!MISSING.has(errno(err) ?? '') || attempt >= 3) throw err
        this.refreshPacks() // folded away meanwhile: read it from the pack that replaced it
        const now = this.packedAt(key)
        if (!now) throw err
        at = now
      }
    }
  }

  /**
   * touch of a packed object: its pack's mtime (gc ages packed objects by their pack). True only
   * when the key is in a pack that is there now: the packs this process read may have been folded
   * or rewritten since (by gc, without this object) and their files removed, and a writer that
   * believed a stale index would skip an object it must write. Every call touches the file, the
   * one check that cannot be stale.
   */
  private touchPacked(key: string): boolean {
    return this.inLivePack(key, (path, pack) => {
      const now = new Date()
      utimesSync(path, now, now)
      pack.mtimeMs = now.getTime()
    })
  }

  /**
   * True when `key` is in a pack whose file is there now: `check` (a stat, a touch) runs on the
   * pack's file, and when the file is gone the pack directory is read again and the key looked for
   * in the pack that replaced it.
   */
  private inLivePack(key: string, check: (path: string, pack: LoadedPack) => void): boolean {
    for (let attempt = 0; attempt < 3; attempt++) {
      const at = this.packedAt(key)
      if (!at) return false
      try {
        check(at.pack.path, at.pack)
        return true
      } catch (err) {
        if (!MISSING.has(errno(err) ?? '')) throw this.failure('touch', key, err)
      }
      this.refreshPacks() // its pack is gone: is the key in the one that replaced it?
    }
    return false
  }

  /**
   * Reads the pack directory, and every pack's index, again now: a check (fsck) goes by what is
   * on disk, not by packs other processes have since replaced or indexes read earlier in this
   * process (fs-pack.ts keeps those for stores opened again).
   */
  refresh(): void {
    this.checkOpen()
    this.refreshPacks(true)
  }

  damaged(): {object: string; problem: string}[] {
    return [...this.damagedPacks].map(([name, why]) => ({object: `pack ${name}`, problem: why}))
  }

  protected async _touch(key: string): Promise<boolean> {
    if (this.deferred.has(key) || this.pending.has(key)) return true // written by this process moments ago
    if (this.isImmutable(key)) {
      // (no look at the pack directory for a key in no pack known: a miss only makes the caller write a copy)
      if (this.touchPacked(key)) return true
    }
    // Synchronous, like small reads: a merge touches every node it rebuilds that already exists,
    // and a utimes through the thread pool costs ~10x the call itself (71 of them at 1M rows).
    const now = new Date()
    try {
      utimesSync(this.pathOf(key), now, now)
      return true
    } catch (err) {
      if (MISSING.has(errno(err) ?? '')) return false
      throw this.failure('touch', key, err)
    }
  }

  protected async _exists(key: string): Promise<boolean> {
    if (this.deferred.has(key) || this.pending.has(key)) return true
    const immutable = this.isImmutable(key)
    // (a pack hit is confirmed on disk: a transfer's walk stops at the first object the
    // destination has, so a stale index must not answer for a pack gc has replaced)
    if (immutable && this.inLivePack(key, (path) => statSync(path))) return true
    const st = await stat(this.pathOf(key)).catch(err => {
      if (MISSING.has(errno(err) ?? '')) return null
      throw this.failure('stat', key, err)
    })
    if (st?.isFile()) return true
    if (!immutable) return false
    this.refreshPacks()
    return this.inLivePack(key, (path) => statSync(path))
  }

  // The etag is the sha256 of the content, so head reads the whole file: cheap for refs, which
  // are what conditional writes are for; avoid head on large objects.
  protected async _head(key: string): Promise<{etag: string; size: number} | null> {
    try {
      const bytes = await this._get(key)
      return {etag: sha256hex(bytes), size: bytes.length}
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return null
      throw this.failure('read', key, err)
    }
  }

  protected async _put(key: string, bytes: Uint8Array, opts: PutOptions): Promise<{etag: string}> {
    const path = this.pathOf(key)
    const etag = opts.contentSha256 ?? sha256hex(bytes)
    const immutable = this.isImmutable(key)
    if (opts.deferSync && this.durable && immutable && opts.ifMatch === undefined) {
      return opts.standalone || !this.packing ? this.putDeferred(key, path, bytes, etag, opts) : this.putPacked(key, path, bytes, etag, opts)
    }
    // a ref written here may name objects still deferred: they become durable first
    if (!immutable) await this.flushDeferred()
    // (the link below refuses an existing file; a packed or pending copy is refused here)
    if (opts.ifNoneMatch === '*' && immutable && (this.pending.has(key) || this.inLivePack(key, (p) => statSync(p)))) throw alreadyExists(this.url, key)
    let temp: string | undefined
    try {
      temp = await this.writeTemp(dirname(path), bytes)
      const tempPath = temp
      if (opts.ifNoneMatch === '*') {
        await this.createExclusive(key, tempPath, path)
      } else if (opts.ifMatch !== undefined || !this.isImmutable(key)) {
        await this.withKeyLock(key, async () => {
          if (opts.ifMatch !== undefined) checkPrecondition(this.url, key, (await this._head(key))?.etag ?? null, opts)
          await rename(tempPath, path)
        })
      } else {
        await rename(tempPath, path)
      }
      temp = undefined
    } catch (err) {
      if (temp !== undefined) await unlink(temp).catch(() => {})
      throw this.failure('write', key, err)
    }
    // After the lock is released: the lock only orders writers, the fsync makes this one durable.
    if (this.durable) await this.dirSyncer.sync(dirname(path)).catch(err => Promise.reject(this.failure('write', key, err)))
    return {etag}
  }

  protected async *_list(prefix: string): AsyncIterable<ListedObject> {
    await this.flushDeferred() // this instance lists what it has written
    // files and packed keys, merged in key order; a key in both is listed once, with the younger mtime
    const packed = this.packedUnder(prefix)
    let i = 0
    for await (const file of listFiles(this.root, prefix)) {
      while (i < packed.length && packed[i].key < file.key) yield packed[i++]
      if (i < packed.length && packed[i].key === file.key) yield {...file, mtimeMs: Math.max(file.mtimeMs, packed[i++].mtimeMs)}
      else yield file
    }
    while (i < packed.length) yield packed[i++]
  }

  /** Packed keys under `prefix` in key order, each with its pack's current mtime (the youngest of its packs). */
  private packedUnder(prefix: string): ListedObject[] {
    this.refreshPacks()
    const byKey = new Map<string, ListedObject>()
    for (const pack of this.loadedPacks().values()) {
      let mtimeMs: number
      try {
        mtimeMs = statSync(pack.path).mtimeMs // another process may have touched it
      } catch (err) {
        if (MISSING.has(errno(err) ?? '')) continue // folded away: its keys are in the pack that replaced it
        throw err
      }
      for (const [key, entry] of pack.index.entries()) {
        if (!key.startsWith(prefix) || this.dropped.has(key)) continue
        const seen = byKey.get(key)
        if (!seen || seen.mtimeMs < mtimeMs) byKey.set(key, {key, size: entry.length, mtimeMs})
      }
    }
    return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  protected async _delete(key: string): Promise<void> {
    // a flush running now may hold this write in its batch (its fsync queued): let it finish
    if (this.deferred.has(key) || this.pending.has(key)) while (this.flushing) await this.flushing.catch(() => {})
    const pending = this.pending.get(key)
    if (pending) {
      this.pending.delete(key)
      this.pendingBytes -= pending.length
    }
    // a packed copy is dropped here at once and from its pack at the next flush (a deleted object
    // that a crash brings back is only garbage for the next gc)
    // (the packs that hold it as this store last read them — gc's list() has just read them again;
    // a pack another process writes after that decision is a new write and keeps the key — with
    // their mtimes: a pack touched later keeps it too, see writePack)
    if (this.isImmutable(key)) {
      const holding = new Map<string, number>()
      for (const pack of this.loadedPacks().values()) {
        if (!pack.index.lookup(key)) continue
        try {
          holding.set(pack.name, statSync(pack.path).mtimeMs)
        } catch (err) {
          if (!MISSING.has(errno(err) ?? '')) throw this.failure('delete', key, err)
        }
      }
      if (holding.size > 0) this.dropped.set(key, {packs: holding})
    }
    await this.deferred.get(key)?.settling // then it is under its name, or failed and still waiting
    const waiting = this.deferred.get(key)
    if (waiting) {
      this.forget(key, waiting)
      closeQuietly(waiting)
      try {
        unlinkSync(waiting.temp)
      } catch {}
    }
    const path = this.pathOf(key)
    const remove = () => unlink(path)
    const immutable = this.isImmutable(key)
    let removed = false
    try {
      if (immutable) await remove()
      else await this.withKeyLock(key, remove)
      removed = true
    } catch (err) {
      // ENOENT here also covers a missing directory, where not even the lock file can be made.
      if (!MISSING.has(errno(err) ?? '')) throw this.failure('delete', key, err)
    }
    this.handles.evict(path)
    // A deleted ref must stay deleted after a power cut; a deleted object that comes back is only
    // garbage for the next gc, so gc's many deletes skip the fsync.
    if (removed && this.durable && !immutable) await this.dirSyncer.sync(dirname(path)).catch(err => Promise.reject(this.failure('delete', key, err)))
    await this.pruneEmptyDirs(dirname(path))
  }

  protected async _flush(): Promise<void> {
    await this.flushDeferred()
  }

  // what was deferred becomes durable rather than being left behind as temp files
  protected async _close(): Promise<void> {
    try {
      await this.flushDeferred()
    } finally {
      await this.handles.close()
    }
  }

  private async putDeferred(key: string, path: string, bytes: Uint8Array, etag: string, opts: PutOptions): Promise<{etag: string}> {
    const exclusive = opts.ifNoneMatch === '*'
    // the atomic check is the link at flush; this one answers the common case now
    if (exclusive && (this.deferred.has(key) || this.pending.has(key) || this.packedAt(key) || existsSync(path))) throw alreadyExists(this.url, key)
    if (!this.deferred.has(key)) {
      const early = opts.standalone === true && bytes.length >= SETTLE_EARLY_MIN
      // (the slot is taken before the write: an entry must be settling from the moment a flush can see it)
      if (early) await this.takeEarlySlot()
      let written: {temp: string; fd: number}
      try {
        written = await this.writeOpenTemp(dirname(path), bytes)
      } catch (err) {
        if (early) this.giveEarlySlot()
        throw err
      }
      const {temp, fd} = written
      // another put of this key got there while this one wrote: it stands (same content)
      if (this.deferred.has(key)) {
        if (early) this.giveEarlySlot()
        discardTemp(fd, temp)
        if (exclusive) throw alreadyExists(this.url, key)
        return {etag}
      }
      if (this.deferred.size === 0 && this.pending.size === 0) this.deferredSince = Date.now()
      const w: DeferredWrite = {temp, fd, path, size: bytes.length, exclusive}
      this.deferred.set(key, w)
      this.deferredBytes += bytes.length
      if (early) {
        w.settling = this.settleEarly(key, w)
        return {etag}
      }
      const full = this.deferredBytes >= MAX_DEFERRED_BYTES || this.deferred.size >= MAX_DEFERRED_FILES
      if (full || Date.now() - this.deferredSince >= MAX_DEFERRED_MS) await this.flushDeferred()
    }
    return {etag}
  }

  /**
   * A small deferred object (all but standalone ones: index pages, roots, commits) waits in memory
   * for the flush, which writes them all as one pack. The check for an existing key is not atomic
   * across processes: two writers of one content-addressed key each pack a copy, which is harmless.
   */
  private async putPacked(key: string, path: string, bytes: Uint8Array, etag: string, opts: PutOptions): Promise<{etag: string}> {
    const exclusive = opts.ifNoneMatch === '*'
    const there = this.pending.has(key) || this.deferred.has(key) || this.touchPacked(key)
    if (there || (exclusive && existsSync(path))) {
      if (exclusive) throw alreadyExists(this.url, key)
      return {etag}
    }
    await this.addPending(key, bytes)
    return {etag}
  }

  private async addPending(key: string, bytes: Uint8Array): Promise<void> {
    if (this.deferred.size === 0 && this.pending.size === 0) this.deferredSince = Date.now()
    this.pending.set(key, new Uint8Array(bytes)) // a copy: the caller may reuse its buffer (ObjectDb's owned puts)
    this.pendingBytes += bytes.length
    if (this.pendingBytes >= MAX_PENDING_BYTES || Date.now() - this.deferredSince >= MAX_DEFERRED_MS) await this.flushDeferred()
  }

  /**
   * ObjectStore.putUnlessPresent. An object bound for a pack is looked for in this process's
   * pending objects and in the packs only, not as a file: a file of it exists only in a store
   * written without packs, and missing it costs a second copy in a pack (no harm; its key reads
   * the same), where looking costs a failing system call for every new object.
   */
  async putUnlessPresent(key: string, bytes: Uint8Array, opts: PutOptions): Promise<void> {
    this.checkOpen()
    assertKey(key)
    if (opts.deferSync && !opts.standalone && this.packing && this.durable && this.isImmutable(key) && opts.ifMatch === undefined) {
      if (this.pending.has(key) || this.deferred.has(key) || this.touchPacked(key)) return
      return this.addPending(key, bytes)
    }
    if (await this.touch(key)) return
    try {
      await this.put(key, bytes, opts)
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err
    }
  }

  /**
   * What the flush does for one object, started as soon as it is written: fsync, rename (or link)
   * into place, fsync its directory. The object is then durable under its name, but for the
   * entry of a directory this process made for it, which the flush makes durable with the rest.
   */
  private settleEarly(key: string, w: DeferredWrite): Promise<void> {
    return (async () => {
      try {
        await syncAndClose(w)
        await nameInPlace(w)
        await this.dirSyncer.sync(dirname(w.path))
        if (this.deferred.get(key) === w) this.forget(key, w)
      } catch (err) {
        w.failed = err
      } finally {
        this.giveEarlySlot()
      }
    })()
  }

  /** Drops a deferred write from the books: it is under its name now, or deleted. */
  private forget(key: string, w: DeferredWrite): void {
    this.deferred.delete(key)
    this.deferredBytes -= w.size
  }

  /** One of SETTLE_EARLY_PARALLEL slots, waiting for one to be given back when all are taken. */
  private async takeEarlySlot(): Promise<void> {
    if (this.earlySlotsUsed < SETTLE_EARLY_PARALLEL) {
      this.earlySlotsUsed++
      return
    }
    await new Promise<void>((resolve) => this.earlySlotWaiters.push(resolve))
  }

  /** Hands the slot to the next waiter, or frees it. */
  private giveEarlySlot(): void {
    const next = this.earlySlotWaiters.shift()
    if (next) next()
    else this.earlySlotsUsed--
  }

  /** One flush at a time; a caller arriving during one waits for it, then flushes what is left. */
  private async flushDeferred(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => {})
    // (objects settled early leave the directories made for them to the flush)
    if (this.deferred.size === 0 && this.unsyncedDirs.size === 0 && this.pending.size === 0 && this.dropped.size === 0) return
    // what waits now, files and pack alike: an object put while this flush runs (it may name a
    // chunk put after this point) waits for the next one
    const batch = [...this.deferred.entries()]
    const taken = [...this.pending]
    const dropped = new Map(this.dropped)
    // the pack after the files: it may name them (an index page its chunks), never they it
    this.flushing = this.flushBatch(batch)
      .then(() => this.writePack(taken, dropped))
      .finally(() => (this.flushing = undefined))
    return this.flushing
  }

  /**
   * Writes the pending objects as one pack, with the objects of the small packs it folds in
   * (packsToMerge); rewrites each pack holding keys deleted here without them (streaming, one pack
   * at a time). Each new pack is written whole to a temp file, fsynced and renamed into the pack
   * directory; the directory is fsynced; only then are the packs they replace removed: a crash in
   * between leaves some objects in two packs, which is harmless.
   */
  private async writePack(taken: [string, Uint8Array][], dropped: Map<string, Dropped>): Promise<void> {
    if (taken.length === 0 && dropped.size === 0) return
    this.refreshPacks()
    const packs = this.loadedPacks()
    // keys to drop, by the pack that held them when deleted; a pack touched since (a writer found
    // its object there) keeps them: that writer will reference it
    const drops = new Map<LoadedPack, Set<string>>()
    for (const [key, {packs: holding}] of dropped) {
      for (const [name, mtimeThen] of holding) {
        const pack = packs.get(name)
        if (!pack) continue
        let mtimeMs: number
        try {
          mtimeMs = statSync(pack.path).mtimeMs
        } catch (err) {
          if (MISSING.has(errno(err) ?? '')) continue
          throw this.failure('write', key, err)
        }
        if (mtimeMs !== mtimeThen) continue
        let keys = drops.get(pack)
        if (!keys) drops.set(pack, (keys = new Set()))
        keys.add(key)
      }
    }
    const made: LoadedPack[] = []
    const replaced: LoadedPack[] = []
    try {
      // 1. the pending objects, with the small packs they fold in (less their dropped keys)
      if (taken.length > 0) {
        const pendingSize = taken.reduce((n, [, bytes]) => n + bytes.length, 0)
        const foldable = [...packs.values()].filter((p) => p.size < FOLD_MAX_BYTES)
        const folded = packsToMerge([...foldable.map((pack) => ({pack, size: pack.size})), {pack: undefined, size: pendingSize}]).flatMap(({pack}) => (pack ? [pack] : []))
        const objects: PackObject[] = taken.map(([key, bytes]) => ({key, bytes}))
        const seen = new Set(taken.map(([key]) => key))
        for (const pack of folded) {
          let whole: Buffer
          try {
            whole = readFileSync(pack.path)
          } catch (err) {
            if (MISSING.has(errno(err) ?? '')) continue // folded by another process meanwhile: its keys are in the pack it made
            throw this.packFailure(pack, err)
          }
          if (whole.length !== pack.size) throw this.packFailure(pack, new Error(`it has ${whole.length} bytes, its index was read from ${pack.size}`))
          const drop = drops.get(pack)
          drops.delete(pack) // (dropped here, by the fold)
          for (const [key, entry] of pack.index.entries()) {
            if (seen.has(key) || drop?.has(key)) continue
            seen.add(key)
            objects.push({key, bytes: whole.subarray(entry.offset, entry.offset + entry.length)})
          }
          replaced.push(pack)
        }
        const built = buildPack(objects)
        made.push(
          await this.writePackFile(taken[0][0], (fd) => {
            writeParts(fd, built.parts)
            return built
          }),
        )
      }
      // 2. every other pack holding dropped keys, rewritten alone without them
      for (const [pack, keys] of drops) {
        if ([...pack.index.entries()].every(([key]) => keys.has(key))) {
          replaced.push(pack) // nothing left in it
          continue
        }
        made.push(await this.writePackFile([...keys][0], (fd) => copyPack(pack.path, pack.index, (key) => !keys.has(key), fd)))
        replaced.push(pack)
      }
      if (made.length > 0) await this.dirSyncer.sync(this.packDir)
    } catch (err) {
      // what was dropped here stays readable until a gc drops it again; later flushes go on
      for (const key of dropped.keys()) this.dropped.delete(key)
      throw err
    }
    // the new packs are durable under their names: the books first (no await in between), then the files
    for (const pack of made) packs.set(pack.name, pack)
    for (const pack of replaced) {
      if (made.some((m) => m.name === pack.name)) continue
      packs.delete(pack.name)
      this.handles.evict(pack.path)
    }
    this.searchOrder = undefined
    for (const [key, bytes] of taken) {
      if (this.pending.get(key) !== bytes) continue
      this.pending.delete(key)
      this.pendingBytes -= bytes.length
    }
    for (const [key, drop] of dropped) if (this.dropped.get(key) === drop) this.dropped.delete(key)
    for (const pack of replaced) {
      if (made.some((m) => m.name === pack.name)) continue
      forgetPackIndex(pack.path)
      await unlink(pack.path).catch(() => {})
    }
  }

  /**
   * One new pack: `write` fills a temp file from its start and says what it wrote (its name is
   * the hash of its index, known once written); the file is fsynced, closed and renamed to that
   * name (the caller fsyncs the directory).
   */
  private async writePackFile(key: string, write: (fd: number) => {name: string; index: PackIndex; size: number}): Promise<LoadedPack> {
    await this.ensureDir(this.packDir)
    const temp = join(this.packDir, TEMP_PREFIX + randomBytes(8).toString('hex'))
    let fd = -1
    try {
      fd = openSync(temp, 'wx')
      const {name, index, size} = write(fd)
      await fsyncFd(fd)
      closeSync(fd)
      fd = -1
      const path = join(this.packDir, name)
      await rename(temp, path)
      return {name, path, index, size, mtimeMs: Date.now()}
    } catch (err) {
      if (fd >= 0) discardTemp(fd, temp)
      else await unlink(temp).catch(() => {})
      throw this.failure('write', key, err)
    }
  }

  private packFailure(pack: LoadedPack, err: unknown): LakeError {
    return new StorageError(`cannot fold pack ${pack.path}: ${(err as Error)?.message ?? String(err)}`, {hint: 'run `lake fsck`', data: {pack: pack.path}})
  }

  private async flushBatch(all: [string, DeferredWrite][]): Promise<void> {
    const early = all.filter(([, w]) => w.settling)
    const batch = all.filter(([, w]) => !w.settling)
    let current = all[0]?.[0] ?? ''
    const made = [...this.unsyncedDirs]
    this.unsyncedDirs.clear()
    try {
      // 1. data: every file fsynced (after the first, the journal commit has taken most of the rest);
      // all of a slice settled before any failure is thrown, so no fsync is left running behind it
      const settled = Promise.all(early.map(([, w]) => w.settling))
      for (let i = 0; i < batch.length; i += FLUSH_PARALLEL) {
        const slice = batch.slice(i, i + FLUSH_PARALLEL)
        const results = await Promise.allSettled(slice.map(([, w]) => syncAndClose(w)))
        const failedAt = results.findIndex((r) => r.status === 'rejected')
        if (failedAt >= 0) {
          await settled
          current = slice[failedAt][0]
          throw (results[failedAt] as PromiseRejectedResult).reason
        }
      }
      await settled
      const failed = early.find(([, w]) => w.failed !== undefined)
      if (failed) {
        current = failed[0]
        throw failed[1].failed
      }
      // 2. names: each file, whole on disk, renamed (or linked) into place, one after another in
      // the order they were put: callers put children before parents, so a process killed midway
      // never leaves an object under its name without what it names (push and fetch stop their
      // walk at the first object the destination has)
      for (const [key, w] of batch) {
        current = key
        await nameInPlace(w)
        this.forget(key, w)
      }
      // 3. directory entries: each directory once, after all its renames
      // (and the parents of directories made for them, so that their entries are durable too)
      const dirs = [...new Set([...batch.map(([, w]) => dirname(w.path)), ...made.map((d) => dirname(d))])]
      for (let i = 0; i < dirs.length; i += FLUSH_PARALLEL) {
        await Promise.all(dirs.slice(i, i + FLUSH_PARALLEL).map(d => this.dirSyncer.sync(d)))
      }
    } catch (err) {
      for (const d of made) this.unsyncedDirs.add(d)
      throw this.failure('write', current, err)
    }
    for (const d of made) this.readyDirs.add(d)
  }

  /** A temp file holding `bytes`, not fsynced and still open (putDeferred). */
  // Synchronous: a command writes tens of these (index pages of a few KB), and open + write through
  // the thread pool costs ~7x the calls themselves (~250 µs against ~35 µs a file here), more on a
  // busy machine; a chunk of a few MiB blocks the event loop for the copy into the page cache only.
  private async writeOpenTemp(dir: string, bytes: Uint8Array): Promise<{temp: string; fd: number}> {
    const temp = join(dir, TEMP_PREFIX + randomBytes(8).toString('hex'))
    const fd = await this.createInDir(dir, async () => openSync(temp, 'wx'), true)
    try {
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at)
    } catch (err) {
      discardTemp(fd, temp)
      throw err
    }
    return {temp, fd}
  }

  private async writeTemp(dir: string, bytes: Uint8Array): Promise<string> {
    const temp = join(dir, TEMP_PREFIX + randomBytes(8).toString('hex'))
    const handle = await this.createInDir(dir, () => open(temp, 'wx'))
    let written = false
    try {
      await handle.writeFile(bytes)
      if (this.durable) await handle.sync()
      written = true
    } finally {
      await handle.close()
      if (!written) await unlink(temp).catch(() => {})
    }
    return temp
  }

  /** ifNoneMatch '*': link() fails with EEXIST atomically when the target exists. */
  private async createExclusive(key: string, temp: string, path: string): Promise<void> {
    try {
      await link(temp, path)
      await unlink(temp).catch(() => {})
      return
    } catch (err) {
      if (errno(err) === 'EEXIST') throw alreadyExists(this.url, key)
      if (!NO_HARD_LINKS.has(errno(err) ?? '')) throw err
    }
    // Without hard links the key lock makes check-then-rename atomic against other locked writes.
    await this.withKeyLock(key, async () => {
      if (await this._exists(key)) throw alreadyExists(this.url, key)
      await rename(temp, path)
    })
  }

  private withKeyLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const path = this.pathOf(key)
    const lockPath = join(dirname(path), LOCK_PREFIX + basename(path))
    return this.keyMutex.run(key, () => withFileLock(lockPath, key, this.lockOptions, fn))
  }

  /**
   * Creates a file in `dir`, making the directory first: durably, or for a deferred put with its
   * parent's fsync left to the flush.
   */
  private async createInDir<T>(dir: string, create: () => Promise<T>, deferred = false): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await (deferred ? this.ensureDirDeferred(dir) : this.ensureDir(dir))
      try {
        return await create()
      } catch (err) {
        // A delete here or in another process may prune the emptied directory under us: remake it.
        if (errno(err) !== 'ENOENT' || attempt >= 5) throw err
        for (let d = dir; d.startsWith(this.root); d = dirname(d)) {
          this.readyDirs.delete(d)
          this.unsyncedDirs.delete(d)
          if (d === this.root) break
        }
      }
    }
  }

  private ensureDir(dir: string): Promise<void> {
    if (this.readyDirs.has(dir)) return Promise.resolve()
    let pending = this.pendingDirs.get(dir)
    if (!pending) {
      pending = this.makeDir(dir).finally(() => this.pendingDirs.delete(dir))
      this.pendingDirs.set(dir, pending)
    }
    return pending
  }

  private async ensureDirDeferred(dir: string): Promise<void> {
    if (this.readyDirs.has(dir) || this.unsyncedDirs.has(dir)) return
    mkdirSync(dir, {recursive: true}) // (as writeOpenTemp: most are there, a round trip each is not)
    // whichever of them mkdir made, each gets its parent fsynced at the flush (a few extra fsyncs
    // of directories that were already durable cost less than finding out)
    for (let d = dir; d !== this.root && d.startsWith(this.root + '/') && !this.readyDirs.has(d); d = dirname(d)) this.unsyncedDirs.add(d)
  }

  // Another process may have created the directory without syncing its entry yet, so a directory
  // counts as durable only once this process has synced its parent (once per directory).
  private async makeDir(dir: string): Promise<void> {
    if (dir !== this.root) await this.ensureDir(dirname(dir))
    await mkdir(dir, {recursive: true})
    if (this.durable) await this.dirSyncer.sync(dirname(dir))
    this.readyDirs.add(dir)
  }

  // Keeps deleted prefixes from lingering as directories, which would refuse a later put of a key
  // equal to the prefix (delete 'refs/x/y', then put 'refs/x').
  private async pruneEmptyDirs(dir: string): Promise<void> {
    for (let d = dir; d !== this.root && d.startsWith(this.root); d = dirname(d)) {
      try {
        await rmdir(d)
      } catch {
        return
      }
      this.readyDirs.delete(d)
      this.unsyncedDirs.delete(d)
    }
  }

  private failure(op: 'read' | 'write' | 'stat' | 'touch' | 'delete', key: string, err: unknown): LakeError {
    if (err instanceof LakeError) return err
    const code = errno(err)
    if (op === 'read' && MISSING.has(code ?? '')) return notFound(this.url, key)
    const conflict = code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST'
    // The conflict may be above the store (a file where its directory should be), not between keys.
    const failedPath = (err as NodeJS.ErrnoException)?.path
    const outside = failedPath !== undefined && !resolve(failedPath).startsWith(this.root + '/')
    const hint = !conflict ? undefined : outside ? `the store's directory ${this.root} cannot be made there: a file is in the way` : "in a file store a key cannot also be a prefix of other keys ('a' and 'a/b')"
    return new StorageError(`cannot ${op} ${JSON.stringify(key)} in ${this.url}: ${(err as Error)?.message ?? String(err)}`, {
      hint,
      data: {key, url: this.url, errno: code},
    })
  }
}

/** A plain Uint8Array view: Buffer's slice() shares memory where Uint8Array's copies, a trap for callers. */
function asBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

/** `length` bytes at `offset` (into `into` when given), or null when the file is shorter. */
async function readExactly(fd: number, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array | null> {
  // not zero-filled: every byte is read over (a short file returns null); zeroing costs as much
  // as the read, and new zeroed memory costs a page fault per 4 KB on some virtual machines
  const buffer = into ?? Buffer.allocUnsafeSlow(length)
  const out = new Uint8Array(buffer.buffer, buffer.byteOffset, length)
  // small reads (one image of a chunk) synchronously: a thread-pool round trip costs several
  // times a page-cache read of a few KB
  if (length <= SYNC_READ_MAX) return readFullySync(fd, out, offset) && !(length === 0 && fstatSync(fd).size < offset) ? out : null
  for (let filled = 0; filled < length; ) {
    const bytesRead = await readAsync(fd, out, filled, length - filled, offset + filled)
    if (bytesRead === 0) return null
    filled += bytesRead
  }
  return out
}

// visitMany reads runs of packed objects up to this size into one reused buffer (larger objects
// get a buffer of their own), and reads over gaps up to RUN_GAP between them: a read costs more
// than copying a few KB more.
const RUN_BYTES = 64 * 1024
const RUN_GAP = 4 * 1024
let runBuffer: Buffer | undefined
let runBufferBusy = false

/**
 * `length` bytes of `fd` at `position`, in the reused run buffer when it fits and is free (else new
 * memory); null when the file ends first. Give it back with releaseRunBuffer.
 */
function readRunSync(fd: number, position: number, length: number): Uint8Array | null {
  let buffer: Buffer
  if (length <= RUN_BYTES && !runBufferBusy) {
    buffer = runBuffer ??= Buffer.allocUnsafeSlow(RUN_BYTES)
    runBufferBusy = true
  } else buffer = Buffer.allocUnsafeSlow(length)
  const out = new Uint8Array(buffer.buffer, buffer.byteOffset, length)
  if (readFullySync(fd, out, position)) return out
  releaseRunBuffer(out)
  return null
}

function releaseRunBuffer(bytes: Uint8Array): void {
  if (runBuffer && bytes.buffer === runBuffer.buffer) runBufferBusy = false
}

/** Fills `out` from `fd` at `position` without the thread pool; false when the file ends first. */
function readFullySync(fd: number, out: Uint8Array, position: number): boolean {
  for (let filled = 0; filled < out.length; ) {
    const n = readSync(fd, out, filled, out.length - filled, position + filled)
    if (n === 0) return false
    filled += n
  }
  return true
}

/** fs.read as a promise (FileHandle.read would need a FileHandle, opened through the thread pool). */
function readAsync(fd: number, into: Uint8Array, at: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, into, at, length, position, (err, bytesRead) => (err ? reject(err) : resolve(bytesRead))))
}

/** A deferred write's file, whole on disk, under its object name (exclusive: linked, an object already there stays). */
function nameInPlace(w: DeferredWrite): Promise<void> {
  return w.exclusive ? linkInto(w.temp, w.path) : rename(w.temp, w.path)
}

// Small parts of a pack are gathered into one reused buffer of this size per write: a write per part
// costs a syscall each (a pack may hold 100k objects), and a fresh buffer for the whole pack costs
// a page fault per 4 KiB.
const STAGING_BYTES = 1024 * 1024
let staging: Buffer | undefined

/** Writes a pack's parts from the start of `fd`. */
function writeParts(fd: number, parts: Uint8Array[]): void {
  const buffer = (staging ??= Buffer.allocUnsafeSlow(STAGING_BYTES))
  let used = 0
  const writeAll = (bytes: Uint8Array) => {
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at)
  }
  const drain = () => {
    if (used > 0) writeAll(buffer.subarray(0, used))
    used = 0
  }
  for (const part of parts) {
    // in order: what is gathered goes out before a large part is written on its own
    if (part.length > STAGING_BYTES / 4) {
      drain()
      writeAll(part)
      continue
    }
    if (used + part.length > STAGING_BYTES) drain()
    buffer.set(part, used)
    used += part.length
  }
  drain()
}

function fsyncFd(fd: number): Promise<void> {
  return new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())))
}

/** `bytes` as the caller's own: copied into `into` when given, else a fresh copy. */
function copyOut(bytes: Uint8Array, into?: Uint8Array): Uint8Array {
  if (!into) return bytes.slice()
  const out = into.subarray(0, bytes.length)
  out.set(bytes)
  return out
}

function shortPack(at: PackedAt): never {
  throw new CorruptObjectError(`pack ${at.pack.path} ends inside an object (at ${at.entry.offset}, ${at.entry.length} bytes)`, {
    hint: 'the pack was truncated; run `lake fsck`',
    data: {pack: at.pack.path},
  })
}

/** fsyncs a deferred write's file through the descriptor that wrote it, then closes it. */
function syncAndClose(w: DeferredWrite): Promise<void> {
  w.synced ??= fsyncFd(w.fd).finally(() => closeQuietly(w))
  return w.synced
}

/** Closes and removes a temp file this store wrote and will not use. */
function discardTemp(fd: number, temp: string): void {
  try {
    closeSync(fd)
  } catch {}
  try {
    unlinkSync(temp)
  } catch {}
}

/** Closes a deferred write's descriptor once (a second close could close another file's reuse of the number). */
function closeQuietly(w: DeferredWrite): void {
  if (w.fd < 0) return
  const fd = w.fd
  w.fd = -1
  try {
    closeSync(fd)
  } catch {}
}

/** A read of a deferred object: its temp file, or its name when a flush running now has just renamed it. */
function readDeferred<T>(w: DeferredWrite, read: (file: string) => T): T {
  try {
    return read(w.temp)
  } catch (err) {
    if (errno(err) !== 'ENOENT') throw err
    return read(w.path)
  }
}

/** ifNoneMatch '*' at flush: an object already there under this key has the same content (it is content-addressed). */
async function linkInto(temp: string, path: string): Promise<void> {
  try {
    await link(temp, path)
  } catch (err) {
    const code = errno(err) ?? ''
    if (code === 'EEXIST') return void (await unlink(temp).catch(() => {}))
    if (!NO_HARD_LINKS.has(code)) throw err
    return rename(temp, path)
  }
  await unlink(temp).catch(() => {})
}

/** `length` bytes of `file` at `offset` (into `into` when given), read without the thread pool; null when the file is shorter. */
function readRangeSync(file: string, offset: number, length: number, into?: Uint8Array): Uint8Array | null {
  const fd = openSync(file, 'r')
  try {
    if (fstatSync(fd).size < offset + length) return null
    const out = into ? into.subarray(0, length) : new Uint8Array(length)
    return readFullySync(fd, out, offset) ? out : null
  } finally {
    closeSync(fd)
  }
}

/** The whole file when it is at most `max` bytes, read without the thread pool; null when larger. */
function readSmallSync(file: string, max: number): Uint8Array | null {
  const fd = openSync(file, 'r')
  try {
    const size = fstatSync(fd).size
    if (size > max) return null
    const out = new Uint8Array(size)
    let at = 0
    while (at < size) {
      const n = readSync(fd, out, at, size - at, at)
      if (n === 0) break
      at += n
    }
    // a file that shrank under us reads short: return what is there (the hash check refuses it)
    return at === size ? out : out.subarray(0, at)
  } finally {
    closeSync(fd)
  }
}
