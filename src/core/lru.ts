// LRU caches bounded by their number of entries without lru-cache's `max`: given `max`, it makes
// arrays of that many slots up front, ~0.6-1 ms for 4096 slots even once its code is warm, which
// every Repo.open paid (reading a label column in a fresh process takes ~20-30 ms in all). Each
// entry counted as at least a fixed share of `maxSize` bounds the count just the same, and the
// arrays grow with the entries.
import {LRUCache} from 'lru-cache'

/** At most `maxEntries` entries, as LRUCache's `max` would keep. */
export function countedLru<K extends {}, V extends {}>(maxEntries: number, opts: {dispose?: (value: V, key: K) => void} = {}): LRUCache<K, V> {
  return new LRUCache<K, V>({maxSize: Math.max(1, maxEntries), sizeCalculation: () => 1, ...opts})
}

/**
 * At most `maxEntries` entries and `maxBytes` of `sizeOf`: each entry weighs at least
 * maxBytes / maxEntries, so neither bound is ever passed (a mix of tiny and large entries may be
 * held to a little less than both).
 */
export function sizedLru<K extends {}, V extends {}>(maxEntries: number, maxBytes: number, sizeOf: (value: V) => number): LRUCache<K, V> {
  const least = Math.ceil(maxBytes / Math.max(1, maxEntries))
  return new LRUCache<K, V>({maxSize: maxBytes, sizeCalculation: (value) => Math.max(1, least, sizeOf(value))})
}
