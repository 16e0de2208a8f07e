import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {readdirSync} from 'node:fs'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {sha256hex} from '../../src/core/hash.js'
import {FsStore} from '../../src/core/storage/fs.js'
import {dropMemoryStore, MemoryStore} from '../../src/core/storage/memory.js'
import {ObjectDb, objectKey} from '../../src/core/storage/objects.js'
import type {ObjectStore} from '../../src/core/storage/types.js'
import {collect, rejectsWithCode} from './contract.js'
import {makeFsStore} from './helpers.js'

const bytesOf = (text: string) => new TextEncoder().encode(text)
const textOf = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

/** Counts the calls that reach the store. */
/** `store` counting its calls; `without` hides optional methods (putUnlessPresent: ObjectDb then touches and puts). */
function counting(store: ObjectStore, without: string[] = []): ObjectStore & {calls: Record<string, number>} {
  const calls: Record<string, number> = {}
  return new Proxy(store, {
    get(target, name, receiver) {
      if (name === 'calls') return calls
      if (without.includes(String(name))) return undefined
      const value = Reflect.get(target, name, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls[String(name)] = (calls[String(name)] ?? 0) + 1
        return value.apply(target, args)
      }
    },
  }) as ObjectStore & {calls: Record<string, number>}
}

describe('sha256hex', () => {
  it('is sha256 of exactly the bytes of a view (offset and length honoured), hex', () => {
    const whole = Buffer.from('--lake content hash test--')
    const view = new Uint8Array(whole.buffer, whole.byteOffset + 2, whole.length - 4)
    assert.equal(sha256hex(view), createHash('sha256').update(Buffer.from('lake content hash test')).digest('hex'))
    assert.equal(sha256hex(new Uint8Array(0)), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
  })
})

describe('ObjectDb', () => {
  let fixture: Awaited<ReturnType<typeof makeFsStore>>
  beforeEach(async () => {
    fixture = await makeFsStore()
  })
  afterEach(async () => {
    await fixture.store.close()
    await fixture.cleanup()
  })

  it('names an object by the sha256 of its bytes, stored at objects/xx/yyyy…', async () => {
    const db = new ObjectDb(fixture.store)
    const bytes = bytesOf('a commit')
    const hash = await db.put(bytes)
    assert.equal(hash, sha256hex(bytes))
    assert.equal(db.keyOf(hash), `objects/${hash.slice(0, 2)}/${hash.slice(2)}`)
    assert.equal(objectKey(hash), db.keyOf(hash))
    await db.flush() // puts are made durable (and visible to other store instances) at flush
    const other = new FsStore(fixture.dir)
    try {
      assert.equal(textOf(await other.get(db.keyOf(hash))), 'a commit')
    } finally {
      await other.close()
    }
    assert.equal(textOf(await db.get(hash)), 'a commit')
    assert.equal(await db.has(hash), true)
  })

  it('stores identical content once and skips the second write (touch, then put)', async () => {
    const store = counting(fixture.store, ['putUnlessPresent'])
    const db = new ObjectDb(store)
    const first = await db.put(bytesOf('same'))
    const second = await db.put(bytesOf('same'))
    assert.equal(first, second)
    assert.equal(store.calls.put, 1)
    assert.deepEqual((await collect(db.list())).map(o => o.hash), [first])
  })

  it("stores identical content once through the store's putUnlessPresent: one pack entry, the object there touched", async () => {
    const db = new ObjectDb(fixture.store)
    const first = await db.put(bytesOf('same'))
    assert.equal(await db.put(bytesOf('same')), first)
    await db.flush()
    const again = new ObjectDb(new FsStore(fixture.dir))
    try {
      assert.equal(await again.put(bytesOf('same')), first) // found in the pack: nothing pending
      await again.flush()
      const packs = readdirSync(join(fixture.dir, '.lake-packs'))
      assert.equal(packs.length, 1, 'no second pack for an object already packed')
      assert.deepEqual((await collect(again.list())).map(o => o.hash), [first])
    } finally {
      await again.store.close()
    }
  })

  it('concurrent puts of the same new object all succeed', async () => {
    const db = new ObjectDb(fixture.store)
    const hashes = await Promise.all(Array.from({length: 8}, () => db.put(bytesOf('racing'))))
    assert.equal(new Set(hashes).size, 1)
    assert.equal(textOf(await db.get(hashes[0])), 'racing')
  })

  it('refuses corrupted bytes on disk, naming the hash; verify says corrupt', async () => {
    const writer = new ObjectDb(fixture.store)
    // standalone (like a chunk): its own file, which the test can overwrite (packs: test/storage/fs-pack.test.ts)
    const hash = await writer.put(bytesOf('the original bytes'), {standalone: true})
    await writer.flush()
    await writeFile(join(fixture.dir, 'objects', hash.slice(0, 2), hash.slice(2)), 'the 0riginal bytes')
    const db = new ObjectDb(fixture.store)
    await assert.rejects(db.get(hash), (err: {code: string; message: string; data: {hash: string}}) => {
      assert.equal(err.code, 'CORRUPT_OBJECT')
      assert.equal(err.data.hash, hash)
      assert.ok(err.message.includes(hash))
      return true
    })
    assert.equal(await db.verify(hash), 'corrupt')
  })

  it('refuses a missing object, naming the hash; verify says missing', async () => {
    const db = new ObjectDb(fixture.store)
    const hash = sha256hex(bytesOf('never stored'))
    for (const read of [db.get(hash), db.getRange(hash, 0, 1)]) {
      await assert.rejects(read, (err: {code: string; message: string; data: {hash: string}}) => {
        assert.equal(err.code, 'OBJECT_NOT_FOUND')
        assert.equal(err.data.hash, hash)
        assert.ok(err.message.includes(hash))
        return true
      })
    }
    assert.equal(await db.has(hash), false)
    assert.equal(await db.verify(hash), 'missing')
  })

  it('refuses what is not a hash', async () => {
    const db = new ObjectDb(fixture.store)
    for (const bad of ['', 'abc', '../../etc/passwd', 'A'.repeat(64)]) await rejectsWithCode(db.get(bad), 'STORAGE_ERROR')
  })

  it('reads ranges (unverified) and refuses a range past the end, naming the hash', async () => {
    const db = new ObjectDb(fixture.store, {cacheBytes: 0})
    const hash = await db.put(bytesOf('0123456789'))
    assert.equal(textOf(await db.getRange(hash, 3, 4)), '3456')
    await assert.rejects(db.getRange(hash, 8, 4), (err: {code: string; data: {hash: string}}) => err.code === 'CORRUPT_OBJECT' && err.data.hash === hash)
  })

  it('deletes, and lists hashes with sizes, skipping stray keys under the prefix', async () => {
    const db = new ObjectDb(fixture.store)
    const a = await db.put(bytesOf('a'))
    const b = await db.put(bytesOf('bb'))
    await fixture.store.put('objects/zz/not-a-hash', bytesOf('stray'))
    await fixture.store.put('objects/README', bytesOf('stray'))
    const listed = await collect(db.list())
    assert.deepEqual(listed.map(o => [o.hash, o.size]), [[a, 1], [b, 2]].sort())
    assert.ok(listed.every(o => o.mtimeMs > 0))
    await db.delete(a)
    await rejectsWithCode(db.get(a), 'OBJECT_NOT_FOUND')
    assert.equal(await db.verify(b), 'ok')
  })

  it('serves small objects from its cache, never large ones, and hands out copies', async () => {
    const store = counting(fixture.store)
    const db = new ObjectDb(store, {maxCachedObjectBytes: 1024})
    const small = await db.put(bytesOf('index page'))
    const large = await db.put(new Uint8Array(2048).fill(1))
    const first = await db.get(small)
    first.fill(0)
    assert.equal(textOf(await db.get(small)), 'index page')
    assert.equal(textOf(await db.getRange(small, 0, 5)), 'index')
    assert.equal(store.calls.get ?? 0, 0, 'small object came from the cache')
    await db.get(large)
    await db.get(large)
    assert.equal(store.calls.get, 2)
  })

  it('keeps the cache within its byte budget', async () => {
    const store = counting(fixture.store)
    const db = new ObjectDb(store, {cacheBytes: 4096, maxCachedObjectBytes: 1024})
    const hashes = []
    for (let i = 0; i < 10; i++) hashes.push(await db.put(new Uint8Array(1000).fill(i)))
    for (const hash of hashes) await db.get(hash)
    assert.ok(store.calls.get >= 6, 'older objects were evicted')
  })

  it('works on a store without conditional writes, and under another prefix', async () => {
    const store = new MemoryStore()
    Object.defineProperty(store, 'supports', {value: {...store.supports, conditionalWrite: false}})
    try {
      const db = new ObjectDb(store, {prefix: 'chunks/'})
      const hash = await db.put(bytesOf('x'))
      assert.equal(await db.put(bytesOf('x')), hash)
      assert.equal(await store.exists(`chunks/${hash.slice(0, 2)}/${hash.slice(2)}`), true)
      assert.deepEqual((await collect(db.list())).map(o => o.hash), [hash])
      assert.throws(() => new ObjectDb(store, {prefix: 'chunks'}), {code: 'STORAGE_ERROR'})
    } finally {
      dropMemoryStore(store.name)
    }
  })
})
