// A small LRU of open read-only file descriptors, so a random small read costs one pread instead
// of open + pread + close. A descriptor pins its inode: a key that was overwritten (renamed over)
// or deleted keeps being served from the old inode unless the caller asks for a freshness check,
// which compares the path's inode with the descriptor's (the inode cannot be reused while we hold
// it). Opening, the fstat and the freshness stat are synchronous: each is a few microseconds on a
// local file system, where a thread-pool round trip costs far more and, on a loaded machine, now
// and then several milliseconds (the slow 1% of random sample reads was almost all first opens).
import {closeSync, fstatSync, openSync, statSync} from 'node:fs'
import {Lru} from '../lru.js'

interface Entry {
  fd: number
  ino: bigint
  dev: bigint
  /** Reads in flight; an evicted descriptor is closed when the last one finishes. */
  users: number
  evicted: boolean
  closed: boolean
}

export class ReadHandles {
  private readonly lru: Lru<string, Entry>

  constructor(maxOpen: number) {
    this.lru = new Lru<string, Entry>({
      maxEntries: Math.max(1, maxOpen),
      dispose: entry => {
        entry.evicted = true
        if (entry.users === 0) closeEntry(entry)
      },
    })
  }

  /** Runs `read` with an open descriptor of `path`; `checkFresh` re-validates a cached one against the path. */
  async use<T>(path: string, checkFresh: boolean, read: (fd: number) => T | Promise<T>): Promise<T> {
    const entry = this.acquire(path, checkFresh)
    try {
      return await read(entry.fd)
    } finally {
      this.release(entry)
    }
  }

  /** use() for a read that does not wait: no promise, the descriptor released when `read` returns. */
  useSync<T>(path: string, checkFresh: boolean, read: (fd: number) => T): T {
    const entry = this.acquire(path, checkFresh)
    try {
      return read(entry.fd)
    } finally {
      this.release(entry)
    }
  }

  evict(path: string): void {
    this.lru.delete(path)
  }

  async close(): Promise<void> {
    this.lru.clear()
  }

  private acquire(path: string, checkFresh: boolean): Entry {
    const cached = this.lru.get(path)
    if (cached) {
      let current: boolean
      try {
        current = !checkFresh || isSameFile(path, cached)
      } catch (err) {
        this.forget(path, cached)
        throw err
      }
      if (current) {
        cached.users++
        return cached
      }
      this.forget(path, cached)
    }
    const entry = openEntry(path)
    entry.users++
    this.lru.set(path, entry)
    return entry
  }

  private forget(path: string, entry: Entry): void {
    if (this.lru.peek(path) === entry) this.lru.delete(path)
  }

  private release(entry: Entry): void {
    entry.users--
    if (entry.evicted && entry.users === 0) closeEntry(entry)
  }
}

function closeEntry(entry: Entry): void {
  if (entry.closed) return
  entry.closed = true
  try {
    closeSync(entry.fd)
  } catch {
    // a read-only descriptor has nothing to flush: a failed close loses nothing
  }
}

function isSameFile(path: string, entry: Entry): boolean {
  const now = statSync(path, {bigint: true})
  return now.ino === entry.ino && now.dev === entry.dev
}

function openEntry(path: string): Entry {
  const fd = openSync(path, 'r')
  try {
    const st = fstatSync(fd, {bigint: true})
    // open() succeeds on a directory; a directory is not an object.
    if (!st.isFile()) throw Object.assign(new Error(`not a file: ${path}`), {code: 'EISDIR'})
    return {fd, ino: st.ino, dev: st.dev, users: 0, evicted: false, closed: false}
  } catch (err) {
    closeSync(fd)
    throw err
  }
}
