import assert from 'node:assert/strict'
import {mkdir, readdir, readFile, rm, stat, utimes, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {sha256hex} from '../../src/core/hash.js'
import {CachedStore, type CachedStoreOptions} from '../../src/core/storage/cache.js'
import {dropMemoryStore, MemoryStore} from '../../src/core/storage/memory.js'
import {ObjectDb, objectKey} from '../../src/core/storage/objects.js'
import type {ObjectStore} from '../../src/core/storage/types.js'
import {rejectsWithCode, runStoreContract} from './contract.js'
import {tempDir} from './helpers.js'

const KiB = 1024
const MiB = 1024 * KiB
const bytesOf = (text: string) => new TextEncoder().encode(text)

// The cache is transparent: the same contract holds through it (its keys are not object hashes,
// so this checks the forwarding half; the tests below check the caching half).
runStoreContract('cache over memory', async () => {
  const {dir, cleanup} = await tempDir()
  const remote = new MemoryStore()
  const store = new CachedStore(remote, {dir, maxBytes: 64 * MiB})
  return {store, cleanup: async () => void (dropMemoryStore(remote.name), await cleanup())}
})

type Method = 'get' | 'getRange' | 'put' | 'exists' | 'head' | 'touch' | 'list' | 'delete'

/** A store that counts the calls made to it: the "remote requests" of these tests. */
function counting(store: ObjectStore): {store: ObjectStore; calls: Record<Method, number>} {
  const calls = {get: 0, getRange: 0, put: 0, exists: 0, head: 0, touch: 0, list: 0, delete: 0}
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver)
      if (typeof value !== 'function' || !(prop in calls)) return value
      return (...args: unknown[]) => {
        calls[prop as Method]++
        return value.apply(target, args)
      }
    },
  })
  return {store: proxy, calls}
}

/** Distinct objects of `size` bytes, stored in the remote directly (not counted). */
const objectOf = (i: number, size: number) => new Uint8Array(size).map((_, j) => (i * 31 + j) & 0xff)

describe('CachedStore', () => {
  let dir: string
  let cleanup: () => Promise<void>
  let memory: MemoryStore
  let remote: ReturnType<typeof counting>
  const opened: CachedStore[] = []

  beforeEach(async () => {
    ;({dir, cleanup} = await tempDir())
    memory = new MemoryStore()
    remote = counting(memory)
  })
  afterEach(async () => {
    for (const cache of opened.splice(0)) await cache.close()
    dropMemoryStore(memory.name)
    await cleanup()
  })

  const cacheDir = () => join(dir, 'cache')
  const open = (opts: Partial<CachedStoreOptions> = {}) => {
    const cache = new CachedStore(remote.store, {dir: cacheDir(), maxBytes: MiB, ...opts})
    opened.push(cache)
    return cache
  }
  /** Puts bytes into the remote under their object key and returns the key. */
  const store = async (bytes: Uint8Array) => {
    const key = objectKey(sha256hex(bytes))
    await memory.put(key, bytes)
    return key
  }
  const fileOf = (key: string) => join(cacheDir(), ...key.split('/'))
  const cachedBytes = async () => {
    let total = 0
    for (const sub of await readdir(join(cacheDir(), 'objects')).catch(() => [])) {
      for (const name of await readdir(join(cacheDir(), 'objects', sub))) total += (await stat(join(cacheDir(), 'objects', sub, name))).size
    }
    return total
  }

  it('a hit costs no remote request, and ranges are served from the cached whole object', async () => {
    const cache = open()
    const data = objectOf(1, 3000)
    const key = await store(data)
    assert.deepEqual(await cache.get(key), data)
    assert.deepEqual(await cache.get(key), data)
    assert.deepEqual(await cache.getRange(key, 100, 50), data.slice(100, 150))
    await rejectsWithCode(cache.getRange(key, 2990, 20), 'CORRUPT_OBJECT')
    assert.deepEqual(remote.calls, {get: 1, getRange: 0, put: 0, exists: 0, head: 0, touch: 0, list: 0, delete: 0})
    assert.deepEqual(cache.stats, {hits: 3, misses: 1, corrupt: 0, evicted: 0})
    assert.equal(Object.getPrototypeOf(await cache.get(key)), Uint8Array.prototype)
  })

  it('refs and other non-object keys always go to the remote, and so do exists, head, touch and list', async () => {
    const cache = open()
    await cache.put('refs/heads/main', bytesOf('c1'))
    await cache.get('refs/heads/main')
    await memory.put('refs/heads/main', bytesOf('c2'))
    assert.equal(new TextDecoder().decode(await cache.get('refs/heads/main')), 'c2')
    const key = await store(objectOf(2, 100))
    await cache.get(key)
    await cache.exists(key)
    await cache.head(key)
    await cache.touch(key)
    for await (const _ of cache.list('objects/')) void _
    assert.deepEqual(remote.calls, {get: 3, getRange: 0, put: 1, exists: 1, head: 1, touch: 1, list: 1, delete: 0})
    assert.deepEqual(await readdir(join(cacheDir(), 'objects')), [key.split('/')[1]])
  })

  it('a ranged miss fetches a small object whole once; a large one is forwarded, asked about once and never cached', async () => {
    const cache = open({wholeObjectOnRangeBytes: 4 * KiB})
    const small = objectOf(3, 2 * KiB)
    const large = objectOf(4, 8 * KiB)
    const [smallKey, largeKey] = [await store(small), await store(large)]
    assert.deepEqual(await cache.getRange(smallKey, 10, 10), small.slice(10, 20))
    assert.deepEqual(await cache.getRange(smallKey, 1000, 10), small.slice(1000, 1010))
    assert.deepEqual([remote.calls.head, remote.calls.get, remote.calls.getRange], [1, 1, 0])
    assert.deepEqual(await cache.getRange(largeKey, 5000, 10), large.slice(5000, 5010))
    assert.deepEqual(await cache.getRange(largeKey, 6000, 10), large.slice(6000, 6010))
    assert.deepEqual([remote.calls.head, remote.calls.get, remote.calls.getRange], [2, 1, 2])
    await assert.rejects(stat(fileOf(largeKey)))

    const forwarding = open({wholeObjectOnRangeBytes: 0, dir: join(dir, 'other')})
    await forwarding.getRange(smallKey, 0, 1)
    assert.deepEqual([remote.calls.head, remote.calls.get, remote.calls.getRange], [2, 1, 3])
    await rejectsWithCode(forwarding.getRange(objectKey('0'.repeat(64)), 0, 1), 'OBJECT_NOT_FOUND')
    await rejectsWithCode(cache.getRange(objectKey('0'.repeat(64)), 0, 1), 'OBJECT_NOT_FOUND')
  })

  it('eviction keeps the budget, least recently used first', async () => {
    const budget = 10 * KiB
    const cache = open({maxBytes: budget})
    const hot = await store(objectOf(0, KiB))
    await cache.get(hot)
    for (let i = 1; i <= 30; i++) {
      await cache.get(await store(objectOf(i, KiB)))
      await cache.get(hot)
      assert.ok((await cachedBytes()) <= budget, `${await cachedBytes()} bytes cached after ${i} objects`)
    }
    const gets = remote.calls.get
    await cache.get(hot)
    assert.equal(remote.calls.get, gets, 'the object used all along is still cached')
    await cache.get(await store(objectOf(1, KiB)))
    assert.equal(remote.calls.get, gets + 1, 'the oldest object was evicted')
    assert.ok(cache.stats.evicted >= 20)
    // Too large for the cache at all (over a quarter of the budget by default).
    const big = await store(objectOf(99, 3 * KiB))
    await cache.get(big)
    await assert.rejects(stat(fileOf(big)))
  })

  it('a corrupted cache file is detected, deleted and fetched again (whole and ranged reads)', async () => {
    const data = objectOf(5, 4 * KiB)
    const key = await store(data)
    const cache = open()
    await cache.get(key)
    const damage = async (how: 'flip' | 'truncate') => {
      const bytes = await readFile(fileOf(key))
      await writeFile(fileOf(key), how === 'flip' ? bytes.map((b, i) => (i === 100 ? b ^ 1 : b)) : bytes.subarray(0, 1000))
    }
    await damage('flip')
    assert.deepEqual(await cache.get(key), data)
    assert.equal(remote.calls.get, 2)
    assert.deepEqual(new Uint8Array(await readFile(fileOf(key))), data, 'the refetched object is cached again')
    // Another process's view (nothing verified yet): a ranged read hashes the file before trusting it.
    const fresh = open()
    await damage('truncate')
    assert.deepEqual(await fresh.getRange(key, 2000, 10), data.slice(2000, 2010))
    assert.deepEqual([cache.stats.corrupt, fresh.stats.corrupt], [1, 1])
    assert.deepEqual(await fresh.getRange(key, 3000, 10), data.slice(3000, 3010))
    assert.equal(remote.calls.get, 3)
  })

  it('bytes the remote corrupted are passed on, never cached, and ObjectDb refuses them', async () => {
    const cache = open()
    const key = objectKey(sha256hex(bytesOf('the real content')))
    await memory.put(key, bytesOf('something else'))
    assert.equal(new TextDecoder().decode(await cache.get(key)), 'something else')
    await assert.rejects(stat(fileOf(key)))
    await rejectsWithCode(new ObjectDb(cache, {cacheBytes: 0}).get(sha256hex(bytesOf('the real content'))), 'CORRUPT_OBJECT')
    assert.equal(remote.calls.get, 2)
  })

  it('two caches on one directory (two processes) read concurrently, tolerate each other\'s evictions and keep the budget', async function () {
    this.timeout(30_000)
    const budget = 16 * KiB
    const [a, b] = [open({maxBytes: budget}), open({maxBytes: budget})]
    const objects = Array.from({length: 40}, (_, i) => objectOf(100 + i, KiB))
    const keys = await Promise.all(objects.map(store))
    const reader = async (cache: CachedStore, seed: number) => {
      for (let round = 0; round < 3; round++) {
        const order = keys.map((_, i) => (i * (7 + seed) + round) % keys.length)
        for (let i = 0; i < order.length; i += 4) {
          await Promise.all(order.slice(i, i + 4).map(async k => {
            assert.deepEqual(await cache.get(keys[k]), objects[k])
            assert.deepEqual(await cache.getRange(keys[k], 512, 8), objects[k].slice(512, 520))
          }))
        }
      }
    }
    await Promise.all([reader(a, 0), reader(b, 4)])
    assert.ok(a.stats.hits + b.stats.hits > 0 && a.stats.evicted + b.stats.evicted > 0)
    await a.trim()
    assert.ok((await cachedBytes()) <= budget)
    assert.deepEqual(await readdir(join(cacheDir(), 'tmp')), [], 'no temp file left behind')
  })

  it('files vanishing behind its back (another process, a user) are misses, not errors', async () => {
    const cache = open({maxBytes: 4 * KiB})
    const keys = await Promise.all([1, 2, 3].map(i => store(objectOf(200 + i, KiB))))
    for (const key of keys) await cache.get(key)
    await rm(join(cacheDir(), 'objects'), {recursive: true})
    for (const key of keys) assert.deepEqual(await cache.getRange(key, 0, 4), (await memory.get(key)).slice(0, 4))
    await rm(join(cacheDir(), 'objects'), {recursive: true})
    await cache.trim()
    for (const key of keys) await cache.get(key)
    assert.equal(remote.calls.get, 9)
  })

  it('writeThrough caches what is put; delete drops the cached copy; old temp files are swept', async () => {
    const cache = open({writeThrough: true})
    const db = new ObjectDb(cache, {cacheBytes: 0})
    const hash = await db.put(bytesOf('written through'))
    const key = objectKey(hash)
    assert.equal(await readFile(fileOf(key), 'utf8'), 'written through')
    assert.equal(new TextDecoder().decode(await db.get(hash)), 'written through')
    assert.equal(remote.calls.get, 0)
    await db.delete(hash)
    await assert.rejects(stat(fileOf(key)))

    const stale = join(cacheDir(), 'tmp', 'crashed-writer')
    await mkdir(join(cacheDir(), 'tmp'), {recursive: true})
    await writeFile(stale, 'half')
    const old = new Date(Date.now() - 2 * 60 * 60_000)
    await utimes(stale, old, old)
    await cache.trim()
    assert.deepEqual(await readdir(join(cacheDir(), 'tmp')), [])
  })

  it('refuses a budget that is not a positive number of bytes', () => {
    for (const maxBytes of [0, -1, 1.5, Number.NaN]) assert.throws(() => new CachedStore(memory, {dir, maxBytes}), {code: 'STORAGE_ERROR'})
  })
})
