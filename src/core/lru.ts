// The least-recently-used caches of the read path (decoded index nodes, roots, chunk payloads,
// small objects, open file descriptors), over a Map, which keeps insertion order: a hit moves its
// entry to the end, and eviction takes from the front. Our own rather than lru-cache's: reading a
// label column in a fresh process takes ~20-30 ms in all, and its first cache cost ~1 ms of that
// (its large constructor and methods compiled on first use), or 0.6-1 ms on every Repo.open with
// `max` (slots preallocated: 4096 for the node cache), against a few microseconds here.

export interface LruOptions<K, V> {
  /** At most this many entries. */
  maxEntries?: number
  /** At most this much of sizeOf in all; an entry larger than this on its own is not kept. */
  maxSize?: number
  /** An entry's size (default 1). */
  sizeOf?: (value: V) => number
  /** Called with what leaves the cache: evicted, deleted, replaced by another value, or cleared. */
  dispose?: (value: V, key: K) => void
}

export class Lru<K, V> {
  private readonly entries = new Map<K, {value: V; size: number}>()
  private total = 0
  private readonly maxEntries: number
  private readonly maxSize: number

  constructor(private readonly opts: LruOptions<K, V>) {
    this.maxEntries = opts.maxEntries ?? Infinity
    this.maxSize = opts.maxSize ?? Infinity
  }

  get size(): number {
    return this.entries.size
  }

  /** The value, now the most recently used. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    this.entries.delete(key)
    this.entries.set(key, entry)
    return entry.value
  }

  /** The value, its recency unchanged. */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value
  }

  has(key: K): boolean {
    return this.entries.has(key)
  }

  set(key: K, value: V): this {
    const size = this.opts.sizeOf ? this.opts.sizeOf(value) : 1
    const old = this.entries.get(key)
    if (old !== undefined) {
      this.entries.delete(key)
      this.total -= old.size
      if (old.value !== value) this.opts.dispose?.(old.value, key)
    }
    if (size > this.maxSize) return this
    this.entries.set(key, {value, size})
    this.total += size
    while (this.entries.size > this.maxEntries || this.total > this.maxSize) {
      const [oldest, entry] = this.entries.entries().next().value as [K, {value: V; size: number}]
      this.entries.delete(oldest)
      this.total -= entry.size
      this.opts.dispose?.(entry.value, oldest)
    }
    return this
  }

  delete(key: K): boolean {
    const entry = this.entries.get(key)
    if (entry === undefined) return false
    this.entries.delete(key)
    this.total -= entry.size
    this.opts.dispose?.(entry.value, key)
    return true
  }

  clear(): void {
    const all = [...this.entries]
    this.entries.clear()
    this.total = 0
    for (const [key, {value}] of all) this.opts.dispose?.(value, key)
  }

  keys(): IterableIterator<K> {
    return this.entries.keys()
  }

  *values(): IterableIterator<V> {
    for (const {value} of this.entries.values()) yield value
  }
}
