// A small LRU of open read-only file handles, so a random small read costs one pread instead of
// open + pread + close. A handle pins its inode: a key that was overwritten (renamed over) or
// deleted keeps being served from the old inode unless the caller asks for a freshness check,
// which compares the path's inode with the handle's (the inode cannot be reused while we hold it).
import {open, stat, type FileHandle} from 'node:fs/promises'
import {LRUCache} from 'lru-cache'

interface Entry {
  handle: FileHandle
  ino: bigint
  dev: bigint
  /** Reads in flight; an evicted handle is closed when the last one finishes. */
  users: number
  evicted: boolean
}

export class ReadHandles {
  private readonly lru: LRUCache<string, Entry>
  private readonly closing = new Set<Promise<void>>()

  constructor(maxOpen: number) {
    this.lru = new LRUCache<string, Entry>({
      max: Math.max(1, maxOpen),
      dispose: entry => {
        entry.evicted = true
        if (entry.users === 0) this.closeHandle(entry)
      },
    })
  }

  /** Runs `read` with an open handle on `path`; `checkFresh` re-validates a cached handle against the path. */
  async use<T>(path: string, checkFresh: boolean, read: (handle: FileHandle) => Promise<T>): Promise<T> {
    const entry = await this.acquire(path, checkFresh)
    try {
      return await read(entry.handle)
    } finally {
      this.release(entry)
    }
  }

  evict(path: string): void {
    this.lru.delete(path)
  }

  async close(): Promise<void> {
    this.lru.clear()
    await Promise.all(this.closing)
  }

  private async acquire(path: string, checkFresh: boolean): Promise<Entry> {
    const cached = this.lru.get(path)
    if (cached) {
      cached.users++
      let current: boolean
      try {
        current = !checkFresh || (await isSameFile(path, cached))
      } catch (err) {
        this.release(cached)
        this.forget(path, cached)
        throw err
      }
      if (current) return cached
      this.release(cached)
      this.forget(path, cached)
    }
    const entry = await openEntry(path)
    entry.users++
    this.lru.set(path, entry)
    return entry
  }

  private forget(path: string, entry: Entry): void {
    if (this.lru.peek(path) === entry) this.lru.delete(path)
  }

  private release(entry: Entry): void {
    entry.users--
    if (entry.evicted && entry.users === 0) this.closeHandle(entry)
  }

  private closeHandle(entry: Entry): void {
    const closed = entry.handle.close().catch(() => {}).finally(() => this.closing.delete(closed))
    this.closing.add(closed)
  }
}

async function isSameFile(path: string, entry: Entry): Promise<boolean> {
  const now = await stat(path, {bigint: true})
  return now.ino === entry.ino && now.dev === entry.dev
}

async function openEntry(path: string): Promise<Entry> {
  const handle = await open(path, 'r')
  try {
    const st = await handle.stat({bigint: true})
    // open() succeeds on a directory; a directory is not an object.
    if (!st.isFile()) throw Object.assign(new Error(`not a file: ${path}`), {code: 'EISDIR'})
    return {handle, ino: st.ino, dev: st.dev, users: 0, evicted: false}
  } catch (err) {
    await handle.close()
    throw err
  }
}
