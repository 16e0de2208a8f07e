// The object-storage contract every provider (memory, fs, s3) implements. Providers are dumb
// key → bytes stores; content addressing and hash verification live one layer up (objects.ts),
// so each provider stays small and all of them are checked by one contract suite.

export interface StoreCapabilities {
  /** put(key, bytes, {ifNoneMatch: '*'} | {ifMatch: etag}) is enforced atomically. */
  conditionalWrite: boolean
  /** list(prefix) is available. */
  list: boolean
  /** getRange reads part of an object without fetching all of it. */
  rangeRead: boolean
  /**
   * getRange(key, offset, length, into) reads into the caller's buffer (local files, memory), so a
   * reader can reuse a few buffers instead of taking new memory for every read.
   */
  readInto?: boolean
}

export interface ListedObject {
  key: string
  size: number
  /** Last modification time, ms since epoch (gc keeps young objects). */
  mtimeMs: number
}

export interface PutOptions {
  /** Fail with PreconditionFailedError when the key exists ('*'). */
  ifNoneMatch?: '*'
  /** Fail with PreconditionFailedError unless the current etag equals this. */
  ifMatch?: string
  /**
   * The write may become durable (and visible to other store instances) only at the next flush():
   * a store that can batch its durability work (fs: one journal commit for many objects instead
   * of one each) does so. This instance reads the object at once either way. Only for
   * content-addressed keys; callers flush before anything that others can see refers to it.
   */
  deferSync?: boolean
  /**
   * With deferSync: the object names no other object (a chunk), so it may become visible before
   * objects put earlier. Without it a store makes deferred objects visible in the order they were
   * put: callers put children before parents, and transfer (push, fetch) relies on "the
   * destination has X" meaning "it has everything X reaches".
   */
  standalone?: boolean
  /** The sha256 (hex) of the bytes, when the caller has it: a store whose etag is that hash does not hash them again. */
  contentSha256?: string
}

export interface ObjectStore {
  /** A URL that names this store (file:///abs, memory://name, s3://bucket/prefix). */
  readonly url: string
  readonly supports: StoreCapabilities
  /**
   * How many object reads a sequential scan should keep in flight to run at this store's speed:
   * a few for a local disk (its latency is small), more for a store a network round trip away.
   * Readers cap it by memory too (DataStore keeps a byte budget of prefetched chunks).
   */
  readonly readAhead: number
  /** Whole object; ObjectNotFoundError when absent. */
  get(key: string): Promise<Uint8Array>
  /**
   * `length` bytes from `offset`; ObjectNotFoundError when absent, CorruptObjectError when the object
   * is shorter. With `into` (at least `length` bytes), a provider that supports readInto reads into
   * it and returns a view of it; others ignore it: use the returned bytes either way.
   */
  getRange(key: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>
  /** Atomic: a reader sees the old object or the whole new one, never a part. Returns the new etag. */
  put(key: string, bytes: Uint8Array, opts?: PutOptions): Promise<{etag: string}>
  exists(key: string): Promise<boolean>
  /**
   * Marks an existing object as just written (its mtime becomes now) and returns true; false when
   * absent. A writer that finds its object already stored touches it, so that gc's grace period
   * (which spares young objects) also spares an old unreferenced object about to be referenced.
   */
  touch(key: string): Promise<boolean>
  /**
   * Optional: ObjectDb's write of a content-addressed object in one step — an object already
   * stored under `key` is touched (see touch) and kept, else `bytes` are put with `opts`. A store
   * that can answer "is it here?" more cheaply as part of the write implements it; ObjectDb
   * otherwise calls touch, then put.
   */
  putUnlessPresent?(key: string, bytes: Uint8Array, opts: PutOptions): Promise<void>
  /**
   * Optional: reads again what the store keeps in memory about its own layout (the fs store's pack
   * listing), so that a long-lived store's next reads go by the layout other processes left. fsck
   * calls it before checking.
   */
  refresh?(): void
  /**
   * Optional: containers of objects this store found damaged (the fs store's packs whose index
   * fails its checksum: their objects read as missing), each as a name to report and why. fsck
   * reports them beside the missing objects.
   */
  damaged?(): {object: string; problem: string}[]
  /**
   * Optional: removes leftovers of interrupted writes (temp files older than `olderThanMs`, stale
   * locks); gc calls it.
   */
  cleanupTemp?(olderThanMs: number): Promise<{files: number; bytes: number}>
  /**
   * Optional: the whole objects `keys` at once, for a reader of many small objects (the leaves under
   * an index page). Calls visit(i, bytes) for each key, in any order, or visit(i, undefined, error)
   * with what get would throw. `bytes` may be a view of a buffer the store reuses: valid only until
   * visit returns (copy what you keep). Resolves once every key has been visited. ObjectDb falls
   * back to get per key where a store has none.
   */
  visitMany?(keys: readonly string[], visit: ManyVisitor): void | Promise<void>
  /** Current etag, or null when absent. */
  head(key: string): Promise<{etag: string; size: number} | null>
  list(prefix: string): AsyncIterable<ListedObject>
  /** Deleting an absent key is not an error. */
  delete(key: string): Promise<void>
  /** Makes every deferSync put durable and visible to all; a no-op where puts already are. */
  flush(): Promise<void>
  close(): Promise<void>
}

/** See ObjectStore.visitMany. */
export type ManyVisitor = (i: number, bytes: Uint8Array | undefined, error?: unknown) => void
