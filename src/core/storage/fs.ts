// A directory as an ObjectStore: key 'a/b/c' is the file <root>/a/b/c.
// A put writes a temp file beside the target and renames it into place, so a reader sees the old
// object or the whole new one. With `durable` (the default) the file and every directory entry
// it depends on are fsynced before put resolves: an acknowledged object survives a power cut.
// Conditional writes: ifNoneMatch '*' hard-links the temp file to the target, which fails
// atomically when the target exists; ifMatch, and every write or delete of a mutable key (one
// outside `immutablePrefixes`), holds the key's lock, so a compare-and-swap never interleaves with
// another write to the same key.
import {randomBytes} from 'node:crypto'
import {closeSync, fstatSync, openSync, read, readSync, utimesSync} from 'node:fs'
import {link, mkdir, open, readFile, rename, rmdir, stat, unlink, type FileHandle} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'
import {LakeError, StorageError} from '../errors.js'
import {sha256hex} from '../hash.js'
import {alreadyExists, BaseStore, checkPrecondition, notFound} from './base.js'
import {ReadHandles} from './fs-handles.js'
import {KeyedMutex, withFileLock, type LockOptions} from './fs-lock.js'
import {DirSyncer, errno} from './fs-sync.js'
import {listFiles, LOCK_PREFIX, sweepLeftovers, TEMP_PREFIX} from './fs-walk.js'
import {isUnder, OBJECTS_PREFIX} from './keys.js'
import type {ListedObject, PutOptions, StoreCapabilities} from './types.js'

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
}

// Immutable objects up to this size (and ranges of any object up to it) are read synchronously: an index page or a commit is a few KB,
// and open+fstat+read+close through the thread pool costs ~10x the read itself (4 round trips),
// which is most of the time of a diff or a label scan. Larger objects (chunks) stay asynchronous so
// prefetched reads overlap the caller's work.
const SYNC_READ_MAX = 256 * 1024

// Errors that mean "there is no object by that key" on a read.
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR'])
// Errors of link() on file systems without hard links.
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'])

export class FsStore extends BaseStore {
  readonly url: string
  readonly root: string
  readonly supports: StoreCapabilities = {conditionalWrite: true, list: true, rangeRead: true, readInto: true}
  readonly durable: boolean
  private readonly immutablePrefixes: readonly string[]
  private readonly lockOptions: LockOptions
  private readonly handles: ReadHandles
  private readonly dirSyncer = new DirSyncer()
  private readonly keyMutex = new KeyedMutex()
  /** Directories this process has created or seen, and (when durable) whose entry it has fsynced. */
  private readonly readyDirs = new Set<string>()
  private readonly pendingDirs = new Map<string, Promise<void>>()

  constructor(rootDir: string, opts: FsStoreOptions = {}) {
    super()
    this.root = resolve(rootDir)
    this.url = pathToFileURL(this.root).href
    this.durable = opts.durable ?? true
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
    return join(this.root, ...key.split('/'))
  }

  private isImmutable(key: string): boolean {
    return isUnder(key, this.immutablePrefixes)
  }

  protected async _get(key: string): Promise<Uint8Array> {
    try {
      if (this.isImmutable(key)) {
        const small = readSmallSync(this.pathOf(key), SYNC_READ_MAX)
        if (small) return small
      }
      return asBytes(await readFile(this.pathOf(key)))
    } catch (err) {
      throw this.failure('read', key, err)
    }
  }

  protected async _getRange(key: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array | null> {
    try {
      return await this.handles.use(this.pathOf(key), !this.isImmutable(key), fd => readExactly(fd, offset, length, into))
    } catch (err) {
      throw this.failure('read', key, err)
    }
  }

  protected async _touch(key: string): Promise<boolean> {
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
    const st = await stat(this.pathOf(key)).catch(err => {
      if (MISSING.has(errno(err) ?? '')) return null
      throw this.failure('stat', key, err)
    })
    return st?.isFile() ?? false
  }

  // The etag is the sha256 of the content, so head reads the whole file: cheap for refs, which
  // are what conditional writes are for; avoid head on large objects.
  protected async _head(key: string): Promise<{etag: string; size: number} | null> {
    try {
      const bytes = await readFile(this.pathOf(key))
      return {etag: sha256hex(bytes), size: bytes.length}
    } catch (err) {
      if (MISSING.has(errno(err) ?? '')) return null
      throw this.failure('read', key, err)
    }
  }

  protected async _put(key: string, bytes: Uint8Array, opts: PutOptions): Promise<{etag: string}> {
    const path = this.pathOf(key)
    const etag = sha256hex(bytes)
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
    yield* listFiles(this.root, prefix)
  }

  protected async _delete(key: string): Promise<void> {
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

  protected async _close(): Promise<void> {
    await this.handles.close()
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

  /** Creates a file in `dir`, making the directory (durably) first. */
  private async createInDir(dir: string, create: () => Promise<FileHandle>): Promise<FileHandle> {
    for (let attempt = 1; ; attempt++) {
      await this.ensureDir(dir)
      try {
        return await create()
      } catch (err) {
        // A delete here or in another process may prune the emptied directory under us: remake it.
        if (errno(err) !== 'ENOENT' || attempt >= 5) throw err
        for (let d = dir; d.startsWith(this.root); d = dirname(d)) {
          this.readyDirs.delete(d)
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
  const sync = length <= SYNC_READ_MAX
  for (let filled = 0; filled < length; ) {
    const bytesRead = sync ? readSync(fd, out, filled, length - filled, offset + filled) : await readAsync(fd, out, filled, length - filled, offset + filled)
    if (bytesRead === 0) return null
    filled += bytesRead
  }
  if (length === 0 && fstatSync(fd).size < offset) return null
  return out
}

/** fs.read as a promise (FileHandle.read would need a FileHandle, opened through the thread pool). */
function readAsync(fd: number, into: Uint8Array, at: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, into, at, length, position, (err, bytesRead) => (err ? reject(err) : resolve(bytesRead))))
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
