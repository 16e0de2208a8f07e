// An open dataset: where it lives, its config, its object store and the LevelDB of its event log.
// Wires the layers below; holds the LevelDB only inside withDb (see events/db.ts for why).
import fs from 'node:fs/promises'
import {existsSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {DataStore} from '../dataset/store.js'
import {DatasetExistsError, UsageError} from '../errors.js'
import {appendEvents} from '../events/log.js'
import {levelError, openEventDb, withEventDb, type EventDb} from '../events/db.js'
import {readRefSnapshot, type RefSnapshot} from '../events/ref-snapshot.js'
import {FsStore} from '../storage/fs.js'
import {fsyncDir} from '../storage/fs-sync.js'
import {FallbackStore} from '../storage/fallback.js'
import {CachedStore} from '../storage/cache.js'
import {Remote} from '../remote/remote.js'
import {ObjectDb} from '../storage/objects.js'
import {openStore, redactUrl} from '../storage/open.js'
import type {ObjectStore} from '../storage/types.js'
import {gitAuthor} from '../codelink/codelink.js'
import type {Author} from '../version/commit.js'
import {readConfig, REPO_FORMAT_VERSION, writeConfig, type RepoConfig} from './config.js'
import {findDatasetRoot, LAKE_DIRNAME, startDir} from './locate.js'
import {ColumnCache} from '../dataset/column-cache.js'

export const DEFAULT_BRANCH = 'main'

export class Repo {
  readonly objects: ObjectDb
  readonly data: DataStore
  /** The event log while holdDb runs (withDb then uses it instead of opening its own). */
  private held?: EventDb

  private constructor(readonly root: string, readonly config: RepoConfig, readonly store: ObjectStore) {
    this.objects = new ObjectDb(store)
    this.data = new DataStore(this.objects, store.supports.rangeRead)
    this.data.columnCache = new ColumnCache(path.join(root, LAKE_DIRNAME, 'cache', 'columns'))
  }

  /** Objects held here (for a lazy clone: without reading through to the remote). */
  get localObjects(): ObjectDb {
    return this.store instanceof FallbackStore ? (this.localDb ??= new ObjectDb(this.store.local)) : this.objects
  }

  private localDb?: ObjectDb

  get lakeDir(): string {
    return path.join(this.root, LAKE_DIRNAME)
  }

  get dbPath(): string {
    return path.join(this.lakeDir, 'db')
  }

  /** Objects live on shared storage that is also remote 'origin': commits move its refs too. */
  get sharedOrigin(): string | null {
    const url = this.config.remotes?.origin
    return url && url === this.config.storage ? url : null
  }

  get storageUrl(): string {
    return this.config.storage === 'local' ? this.store.url : this.config.storage
  }

  static async open(explicitDir?: string): Promise<Repo> {
    const root = findDatasetRoot(explicitDir)
    const config = await readConfig(path.join(root, LAKE_DIRNAME))
    let store = await storeFor(root, config.storage, undefined, config.values['cache.size'], config.formatVersion)
    const from = config.objectsFrom && config.remotes?.[config.objectsFrom]
    if (from) store = new FallbackStore(store, openStore(from))
    return new Repo(root, config, store)
  }

  /**
   * Creates .lake/ next to its final place and renames it in when complete, so a crash during
   * init leaves no half-made dataset that later commands would trip over.
   */
  static async init(dir: string | undefined, opts: {storage?: string} = {}): Promise<Repo> {
    const root = startDir(dir)
    const lakeDir = path.join(root, LAKE_DIRNAME)
    if (existsSync(lakeDir)) {
      throw new DatasetExistsError(`a dataset already exists at ${root}`, {hint: 'use it as it is, or choose another directory'})
    }
    const storage = opts.storage ?? 'local'
    if (storage !== 'local' && !/^(file|memory|s3):\/\//.test(storage)) {
      throw new UsageError(`unsupported storage URL '${redactUrl(storage)}'`, {hint: 'use file:///abs/path, s3://bucket/prefix or memory://name'})
    }
    // Everything init makes is undone when it fails: the directories it created (the dataset's
    // and a file:// storage location), the remote marker it wrote, the .lake it was building. A
    // failed init (a missing bucket, a closed port) must not leave a directory or a half-made
    // remote that a retry would trip over.
    const madeRoot = await fs.mkdir(root, {recursive: true})
    const madeStorage = storage.startsWith('file://') ? firstMissing(storagePath(storage)) : undefined
    const tmp = path.join(root, `${LAKE_DIRNAME}.init-${process.pid}-${Date.now()}`)
    let store: ObjectStore | undefined
    let marked: Remote | undefined
    try {
      await fs.mkdir(tmp)
      // Objects on shared storage: that location is also the remote 'origin' other machines clone,
      // and commits move its branch by compare-and-swap (ops/commit.ts).
      const shared = storage !== 'local' && !storage.startsWith('memory://')
      const config: RepoConfig = {formatVersion: REPO_FORMAT_VERSION, storage, values: {}, ...(shared ? {remotes: {origin: storage}} : {})}
      await writeConfig(tmp, config)
      store = await storeFor(root, storage, tmp)
      if (shared) {
        const remote = new Remote('origin', storage, store)
        if (await remote.isDataset()) {
          throw new DatasetExistsError(`${storage} already holds a lake dataset`, {hint: `clone it instead: lake clone ${storage}`})
        }
        if (await remote.ensureInitialized()) marked = remote
      }
      const repo = new Repo(root, config, store)
      const emptyRoot = await repo.data.emptyRoot()
      await repo.objects.flush()
      const db = await openEventDb(path.join(tmp, 'db'), {create: true})
      try {
        await appendEvents(db, [{type: 'init', branch: DEFAULT_BRANCH, root: emptyRoot}])
      } finally {
        await db.level.close()
      }
      const done = store
      store = undefined
      await done.close()
      // Durable before visible: what was made inside tmp (config.json, db/, objects/) and then the
      // rename survive a power cut only once their directories are fsynced (LevelDB makes db/
      // without syncing its parent).
      await fsyncDir(tmp)
      await fs.rename(tmp, lakeDir)
      await fsyncDir(root)
      if (madeRoot) for (let d = root; d !== path.dirname(madeRoot); d = path.dirname(d)) await fsyncDir(path.dirname(d))
    } catch (error) {
      await marked?.forgetMarker()
      await store?.close().catch(() => {})
      // Undoing is best effort: its own failure must not hide the error that made init fail.
      const undo = (target: string) => fs.rm(target, {recursive: true, force: true}).catch(() => {})
      await undo(tmp)
      if (madeStorage) await undo(madeStorage)
      if (madeRoot) await removeEmptyDirs(root, madeRoot)
      if ((error as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new DatasetExistsError(`a dataset already exists at ${root}`)
      }
      throw error
    }
    return Repo.open(root)
  }

  withDb<T>(fn: (db: EventDb) => Promise<T>): Promise<T> {
    const held = this.held
    if (held) return fn(held).catch((error) => Promise.reject(levelError(error, this.dbPath)))
    return withEventDb(this.dbPath, (db) => fn(this.flushingFirst(db)))
  }

  /** `db`, made to flush this repo's objects before each append (their commit point). */
  private flushingFirst(db: EventDb): EventDb {
    db.beforeAppend = () => this.objects.flush()
    return db
  }

  /**
   * Runs `fn` with the event log open throughout: the operations inside share one LevelDB open
   * instead of opening it once or twice each (5-10 ms a time). Other processes wait for the
   * dataset meanwhile (up to LAKE_LOCK_TIMEOUT), so keep it to a burst of operations.
   */
  async holdDb<T>(fn: () => Promise<T>): Promise<T> {
    if (this.held) return fn()
    // one session as withDb's, with the operations inside it (withDb then uses it)
    return withEventDb(this.dbPath, async (db) => {
      this.held = this.flushingFirst(db)
      try {
        return await fn()
      } finally {
        this.held = undefined
      }
    })
  }

  /**
   * HEAD and the refs without opening the event log, when the snapshot the last session left
   * (events/ref-snapshot.ts) was made from .lake/db exactly as it is now; else undefined (and
   * always inside holdDb, which has the log open anyway).
   */
  refSnapshot(): RefSnapshot | undefined {
    return this.held ? undefined : readRefSnapshot(this.dbPath)
  }

  /** Rewrites .lake/config.json with `change` applied (remotes, lazy source). */
  async updateConfig(change: (config: RepoConfig) => void): Promise<void> {
    change(this.config)
    await writeConfig(this.lakeDir, this.config)
  }

  async setConfig(key: string, value: string | null): Promise<void> {
    if (value === null) delete this.config.values[key]
    else this.config.values[key] = value
    await writeConfig(this.lakeDir, this.config)
  }

  /** LAKE_AUTHOR_*, then `lake config user.*`, then the surrounding git repository, then the OS user. */
  async author(): Promise<Author> {
    let name: string | undefined = process.env.LAKE_AUTHOR_NAME || this.config.values['user.name']
    let email: string | undefined = process.env.LAKE_AUTHOR_EMAIL || this.config.values['user.email']
    if (!name || !email) {
      const fromGit = await gitAuthor(this.root)
      name ||= fromGit.name
      email ||= fromGit.email
    }
    const user = (() => {
      try {
        return os.userInfo().username
      } catch {
        return 'unknown'
      }
    })()
    return {name: name || user, email: email || `${user}@${os.hostname()}`}
  }

  async close(): Promise<void> {
    await this.store.close()
  }
}

/** The directory a file:// storage URL names (a malformed URL fails later, in openStore). */
function storagePath(url: string): string {
  try {
    return fileURLToPath(url)
  } catch {
    return ''
  }
}

/** The outermost directory of `dir` that does not exist yet (what creating it would make), if any. */
function firstMissing(dir: string): string | undefined {
  if (!path.isAbsolute(dir)) return undefined
  let missing: string | undefined
  for (let d = dir; !existsSync(d); d = path.dirname(d)) {
    missing = d
    if (path.dirname(d) === d) break
  }
  return missing
}

/** Removes `dir` and its parents up to `top` while they are empty (another process's files stay). */
async function removeEmptyDirs(dir: string, top: string): Promise<void> {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      await fs.rmdir(d)
    } catch {
      return
    }
    if (d === top || path.dirname(d) === d) return
  }
}

export const DEFAULT_CACHE_BYTES = 10 * 1024 ** 3

async function storeFor(root: string, storage: string, lakeDir = path.join(root, LAKE_DIRNAME), cacheSize?: string, formatVersion = REPO_FORMAT_VERSION): Promise<ObjectStore> {
  // Enough open chunk handles that random reads over a few GB of chunks cost one pread each. A
  // dataset of format 1 gets no packs, so that the lake that made it can still read it.
  if (storage === 'local') return new FsStore(lakeDir, {maxOpenFiles: 512, pack: formatVersion >= 2})
  const remote = openStore(storage, {pack: formatVersion >= 2})
  // Objects on S3 (or another remote store) are read through a disk cache in .lake/cache.
  if (storage.startsWith('s3://')) return new CachedStore(remote, {dir: path.join(lakeDir, 'cache'), maxBytes: cacheSize ? Number(cacheSize) : DEFAULT_CACHE_BYTES, writeThrough: true})
  return remote
}
