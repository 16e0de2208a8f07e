// The one contract every ObjectStore provider passes: run it from a provider's test file with
// runStoreContract(name, makeStore). Tests assert on error codes, never on message text.
import assert from 'node:assert/strict'
import type {ObjectStore} from '../../src/core/storage/types.js'

export interface StoreFixture {
  store: ObjectStore
  cleanup: () => Promise<void>
}

const bytesOf = (text: string) => new TextEncoder().encode(text)
const textOf = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

export async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: {code?: string}) => {
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${String(err)}`)
    return true
  })
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

const BAD_KEYS = ['', '/a', 'a/', 'a//b', '..', '../a', 'a/../b', 'a/./b', '.', 'a\\b', 'a\u0000b', 'a\nb', '.lake-tmp-123', 'x/.lake-lock-y', 'x'.repeat(1025), `a/${'y'.repeat(201)}`]

export function runStoreContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`ObjectStore contract: ${name}`, function () {
    let store: ObjectStore
    let cleanup: () => Promise<void>

    beforeEach(async () => {
      ;({store, cleanup} = await makeStore())
    })
    afterEach(async () => {
      await store.close()
      await cleanup()
    })

    describe('get, put, exists, head, delete', () => {
      it('touch marks an existing object as new and reports a missing one', async () => {
        await store.put('t/old', bytesOf('x'))
        const before = (await collect(store.list('t/')))[0].mtimeMs
        // S3's LastModified has whole seconds: a whole-second mtime waits into the next second.
        await new Promise((r) => setTimeout(r, before % 1000 === 0 ? 1030 - (Date.now() % 1000) : 30))
        assert.equal(await store.touch('t/old'), true)
        const after = (await collect(store.list('t/')))[0].mtimeMs
        assert.ok(after > before, `mtime ${after} should be after ${before}`)
        assert.equal(await store.touch('t/missing'), false)
        assert.equal(await store.exists('t/missing'), false)
        assert.equal(textOf(await store.get('t/old')), 'x')
      })

      it('round-trips bytes, including an empty object and a large one', async () => {
        const large = new Uint8Array(5 * 1024 * 1024).map((_, i) => (i * 31) & 0xff)
        await store.put('a', bytesOf('hello'))
        await store.put('empty', new Uint8Array(0))
        await store.put('big/one', large)
        assert.equal(textOf(await store.get('a')), 'hello')
        assert.equal((await store.get('empty')).length, 0)
        assert.deepEqual(await store.get('big/one'), large)
        assert.equal(await store.exists('a'), true)
        assert.equal((await store.head('empty'))?.size, 0)
        assert.equal((await store.head('big/one'))?.size, large.length)
      })

      it('returns plain Uint8Arrays the caller owns', async () => {
        const input = bytesOf('abc')
        await store.put('k', input)
        input[0] = 0
        const first = await store.get('k')
        assert.equal(Object.getPrototypeOf(first), Uint8Array.prototype)
        first[1] = 0
        assert.equal(textOf(await store.get('k')), 'abc')
        assert.equal(Object.getPrototypeOf(await store.getRange('k', 0, 2)), Uint8Array.prototype)
      })

      it('reports missing keys', async () => {
        await rejectsWithCode(store.get('nope'), 'OBJECT_NOT_FOUND')
        await rejectsWithCode(store.get('no/such/dir'), 'OBJECT_NOT_FOUND')
        await rejectsWithCode(store.getRange('nope', 0, 1), 'OBJECT_NOT_FOUND')
        await rejectsWithCode(store.getRange('nope', 0, 0), 'OBJECT_NOT_FOUND')
        assert.equal(await store.exists('nope'), false)
        assert.equal(await store.head('nope'), null)
        await store.delete('nope')
        await store.delete('no/such/dir')
      })

      it('a prefix of keys is not itself an object', async () => {
        await store.put('dir/leaf', bytesOf('x'))
        await rejectsWithCode(store.get('dir'), 'OBJECT_NOT_FOUND')
        await rejectsWithCode(store.getRange('dir', 0, 0), 'OBJECT_NOT_FOUND')
        assert.equal(await store.exists('dir'), false)
        assert.equal(await store.head('dir'), null)
        await store.delete('dir')
        assert.equal(await store.exists('dir/leaf'), true)
      })

      it('overwrites, and the etag follows the content', async () => {
        const first = await store.put('ref', bytesOf('one'))
        assert.equal((await store.head('ref'))?.etag, first.etag)
        const second = await store.put('ref', bytesOf('two!'))
        assert.notEqual(second.etag, first.etag)
        assert.deepEqual(await store.head('ref'), {etag: second.etag, size: 4})
        assert.equal(textOf(await store.get('ref')), 'two!')
      })

      it('deletes', async () => {
        await store.put('x/y', bytesOf('1'))
        await store.delete('x/y')
        assert.equal(await store.exists('x/y'), false)
        await rejectsWithCode(store.get('x/y'), 'OBJECT_NOT_FOUND')
        await rejectsWithCode(store.getRange('x/y', 0, 1), 'OBJECT_NOT_FOUND')
        await store.put('x/y', bytesOf('2'))
        assert.equal(textOf(await store.get('x/y')), '2')
      })
    })

    describe('getRange', () => {
      const data = bytesOf('0123456789')
      beforeEach(() => store.put('r/obj', data))

      it('reads the start, the middle and a range ending exactly at the end', async () => {
        assert.equal(textOf(await store.getRange('r/obj', 0, 3)), '012')
        assert.equal(textOf(await store.getRange('r/obj', 4, 2)), '45')
        assert.equal(textOf(await store.getRange('r/obj', 7, 3)), '789')
        assert.equal(textOf(await store.getRange('r/obj', 0, 10)), '0123456789')
      })

      it('reads zero bytes anywhere inside, including at the end', async () => {
        assert.equal((await store.getRange('r/obj', 0, 0)).length, 0)
        assert.equal((await store.getRange('r/obj', 5, 0)).length, 0)
        assert.equal((await store.getRange('r/obj', 10, 0)).length, 0)
      })

      it('refuses a range past the end as a corrupt (short) object', async () => {
        await rejectsWithCode(store.getRange('r/obj', 8, 3), 'CORRUPT_OBJECT')
        await rejectsWithCode(store.getRange('r/obj', 0, 11), 'CORRUPT_OBJECT')
        await rejectsWithCode(store.getRange('r/obj', 11, 0), 'CORRUPT_OBJECT')
        await rejectsWithCode(store.getRange('r/obj', 100, 1), 'CORRUPT_OBJECT')
      })

      it('refuses negative or fractional offsets and lengths', async () => {
        await rejectsWithCode(store.getRange('r/obj', -1, 1), 'STORAGE_ERROR')
        await rejectsWithCode(store.getRange('r/obj', 0, -1), 'STORAGE_ERROR')
        await rejectsWithCode(store.getRange('r/obj', 1.5, 1), 'STORAGE_ERROR')
        await rejectsWithCode(store.getRange('r/obj', 0, Number.NaN), 'STORAGE_ERROR')
      })

      it('reads a range deep inside a large object', async () => {
        const large = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251)
        await store.put('r/large', large)
        const offset = 2 * 1024 * 1024 + 17
        assert.deepEqual(await store.getRange('r/large', offset, 4096), large.slice(offset, offset + 4096))
      })
    })

    describe('list', () => {
      // No key here is also a directory of others ('a' and 'a/b'): a file store cannot hold both.
      const keys = ['a-', 'a.b', 'a/b', 'a/c/d', 'a/c/e', 'a0', 'ab', 'b/x', 'objects/ab/cdef', 'objects/ac/0123']

      beforeEach(async () => {
        // In reverse so that no provider gets the order for free.
        for (const key of [...keys].reverse()) await store.put(key, bytesOf(key))
      })

      it('lists everything, in ascending key order, with sizes and mtimes', async () => {
        const listed = await collect(store.list(''))
        assert.deepEqual(listed.map(o => o.key), [...keys].sort())
        const started = Date.now()
        for (const object of listed) {
          assert.equal(object.size, Buffer.byteLength(object.key))
          assert.ok(object.mtimeMs > started - 60_000 && object.mtimeMs < started + 60_000, `mtime of ${object.key}`)
        }
      })

      it('filters by prefix: a directory, a partial segment, nested keys', async () => {
        const keysUnder = async (prefix: string) => (await collect(store.list(prefix))).map(o => o.key)
        assert.deepEqual(await keysUnder('a/'), ['a/b', 'a/c/d', 'a/c/e'])
        assert.deepEqual(await keysUnder('a/c/'), ['a/c/d', 'a/c/e'])
        assert.deepEqual(await keysUnder('a'), ['a-', 'a.b', 'a/b', 'a/c/d', 'a/c/e', 'a0', 'ab'])
        assert.deepEqual(await keysUnder('objects/a'), ['objects/ab/cdef', 'objects/ac/0123'])
        assert.deepEqual(await keysUnder('objects/ab/c'), ['objects/ab/cdef'])
        assert.deepEqual(await keysUnder('a/c/d'), ['a/c/d'])
        assert.deepEqual(await keysUnder('zzz/'), [])
        assert.deepEqual(await keysUnder('zzz'), [])
      })

      it('does not list deleted keys, and survives deletes while listing', async () => {
        await store.delete('a/c/d')
        assert.deepEqual((await collect(store.list('a/c/'))).map(o => o.key), ['a/c/e'])
        const seen: string[] = []
        for await (const {key} of store.list('')) {
          seen.push(key)
          if (key === 'a-') await store.delete('b/x')
        }
        assert.ok(!seen.includes('b/x'))
      })

      it('refuses a bad prefix', async () => {
        await rejectsWithCode(collect(store.list('/a')), 'STORAGE_ERROR')
        await rejectsWithCode(collect(store.list('../')), 'STORAGE_ERROR')
        await rejectsWithCode(collect(store.list('a//')), 'STORAGE_ERROR')
      })
    })

    describe('bad keys', () => {
      for (const key of BAD_KEYS) {
        it(`refuses ${JSON.stringify(key.length > 40 ? `${key.slice(0, 20)}…(${key.length})` : key)}`, async () => {
          await rejectsWithCode(store.put(key, bytesOf('x')), 'STORAGE_ERROR')
          await rejectsWithCode(store.get(key), 'STORAGE_ERROR')
          await rejectsWithCode(store.getRange(key, 0, 1), 'STORAGE_ERROR')
          await rejectsWithCode(store.exists(key), 'STORAGE_ERROR')
          await rejectsWithCode(store.head(key), 'STORAGE_ERROR')
          await rejectsWithCode(store.delete(key), 'STORAGE_ERROR')
        })
      }

      it('refuses bytes that are not a Uint8Array', async () => {
        await rejectsWithCode(store.put('k', 'text' as unknown as Uint8Array), 'STORAGE_ERROR')
      })
    })

    describe('atomicity', () => {
      it('a reader during many overwrites sees only whole old or whole new values', async function () {
        this.timeout(120_000)
        // Value v: (64 KiB + v KiB) bytes, every byte v; a torn read shows a mixed or wrong-sized value.
        const valueOf = (v: number) => new Uint8Array(65536 + v * 1024).fill(v)
        await store.put('atom', valueOf(0))
        let writing = true
        const writer = (async () => {
          try {
            for (let v = 1; v <= 60; v++) await store.put('atom', valueOf(v))
          } finally {
            writing = false
          }
        })()
        let reads = 0
        const reader = async () => {
          while (writing) {
            const whole = await store.get('atom')
            const v = whole[0]
            assert.equal(whole.length, 65536 + v * 1024, 'a whole read has the size of one written value')
            assert.ok(whole.every(b => b === v), 'a whole read holds one written value')
            const head = await store.getRange('atom', 0, 4096)
            assert.ok(head.every(b => b === head[0]), 'a range read holds one written value')
            reads++
          }
        }
        await Promise.all([writer, reader(), reader()])
        assert.ok(reads > 0)
        assert.equal((await store.get('atom'))[0], 60)
      })
    })

    describe('conditional writes', () => {
      beforeEach(function () {
        if (!store.supports.conditionalWrite) this.skip()
      })

      it("ifNoneMatch '*' creates, then refuses to replace", async () => {
        const {etag} = await store.put('ref', bytesOf('first'), {ifNoneMatch: '*'})
        assert.equal((await store.head('ref'))?.etag, etag)
        await rejectsWithCode(store.put('ref', bytesOf('second'), {ifNoneMatch: '*'}), 'PRECONDITION_FAILED')
        assert.equal(textOf(await store.get('ref')), 'first')
        await store.delete('ref')
        await store.put('ref', bytesOf('third'), {ifNoneMatch: '*'})
        assert.equal(textOf(await store.get('ref')), 'third')
      })

      it("ifNoneMatch '*' race: of N concurrent creators exactly one wins", async () => {
        const n = 16
        const results = await Promise.allSettled(Array.from({length: n}, (_, i) => store.put('race/ref', bytesOf(`writer ${i}`), {ifNoneMatch: '*'})))
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []))
        assert.equal(winners.length, 1)
        for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as {code?: string}).code, 'PRECONDITION_FAILED')
        assert.equal(textOf(await store.get('race/ref')), `writer ${winners[0]}`)
        assert.deepEqual((await collect(store.list('race/'))).map(o => o.key), ['race/ref'])
      })

      it('ifMatch replaces only the version it names', async () => {
        const first = await store.put('ref', bytesOf('v1'))
        const second = await store.put('ref', bytesOf('v2'), {ifMatch: first.etag})
        assert.equal(textOf(await store.get('ref')), 'v2')
        await rejectsWithCode(store.put('ref', bytesOf('v3'), {ifMatch: first.etag}), 'PRECONDITION_FAILED')
        assert.equal(textOf(await store.get('ref')), 'v2')
        await store.put('ref', bytesOf('v3'), {ifMatch: second.etag})
        assert.equal(textOf(await store.get('ref')), 'v3')
      })

      it('ifMatch on a missing key fails', async () => {
        const {etag} = await store.put('gone', bytesOf('x'))
        await store.delete('gone')
        await rejectsWithCode(store.put('gone', bytesOf('y'), {ifMatch: etag}), 'PRECONDITION_FAILED')
        assert.equal(await store.exists('gone'), false)
      })

      it('refuses contradictory or malformed conditions', async () => {
        await rejectsWithCode(store.put('k', bytesOf('x'), {ifNoneMatch: '*', ifMatch: 'abc'}), 'STORAGE_ERROR')
        await rejectsWithCode(store.put('k', bytesOf('x'), {ifNoneMatch: 'abc' as '*'}), 'STORAGE_ERROR')
        await rejectsWithCode(store.put('k', bytesOf('x'), {ifMatch: ''}), 'STORAGE_ERROR')
        assert.equal(await store.exists('k'), false)
      })

      it('a compare-and-swap loop of N concurrent incrementers never loses an increment', async function () {
        this.timeout(120_000)
        const workers = 8
        const each = 10
        await store.put('counter', bytesOf('0'))
        let conflicts = 0
        const increment = async () => {
          for (;;) {
            const current = await store.head('counter')
            const value = Number(textOf(await store.get('counter')))
            try {
              await store.put('counter', bytesOf(String(value + 1)), {ifMatch: current!.etag})
              return
            } catch (err) {
              if ((err as {code?: string}).code !== 'PRECONDITION_FAILED') throw err
              conflicts++
            }
          }
        }
        await Promise.all(Array.from({length: workers}, async () => {
          for (let i = 0; i < each; i++) await increment()
        }))
        assert.equal(textOf(await store.get('counter')), String(workers * each))
        assert.ok(conflicts >= 0)
      })
    })

    describe('without conditional writes', () => {
      it('refuses a condition rather than ignoring it', async function () {
        if (store.supports.conditionalWrite) this.skip()
        await rejectsWithCode(store.put('k', bytesOf('x'), {ifNoneMatch: '*'}), 'STORAGE_ERROR')
      })
    })

    describe('deferSync puts and flush', () => {
      // what a content-addressed writer (ObjectDb) does: readable at once here, durable at flush
      const key = 'objects/ab/cdef0123'

      it('a deferred object reads, ranges, exists, touches and heads like any other before and after flush', async () => {
        const {etag} = await store.put(key, bytesOf('deferred bytes'), {deferSync: true, ifNoneMatch: store.supports.conditionalWrite ? '*' : undefined})
        for (const stage of ['before flush', 'after flush']) {
          assert.equal(textOf(await store.get(key)), 'deferred bytes', stage)
          assert.equal(textOf(await store.getRange(key, 9, 5)), 'bytes', stage)
          await rejectsWithCode(store.getRange(key, 9, 6), 'CORRUPT_OBJECT')
          assert.equal(await store.exists(key), true, stage)
          assert.equal(await store.touch(key), true, stage)
          assert.deepEqual(await store.head(key), {etag, size: 14}, stage)
          await store.flush()
        }
        assert.deepEqual((await collect(store.list('objects/'))).map((o) => o.key), [key])
      })

      it("a deferred ifNoneMatch '*' put refuses an existing key; flush with nothing waiting is a no-op", async () => {
        if (!store.supports.conditionalWrite) return
        await store.flush()
        await store.put(key, bytesOf('x'), {deferSync: true, ifNoneMatch: '*'})
        await rejectsWithCode(store.put(key, bytesOf('x'), {deferSync: true, ifNoneMatch: '*'}), 'PRECONDITION_FAILED')
        await store.flush()
        await rejectsWithCode(store.put(key, bytesOf('x'), {deferSync: true, ifNoneMatch: '*'}), 'PRECONDITION_FAILED')
      })

      it('a deferred object can be deleted before its flush, and stays deleted', async () => {
        await store.put(key, bytesOf('gone'), {deferSync: true})
        await store.delete(key)
        assert.equal(await store.exists(key), false)
        await store.flush()
        assert.equal(await store.exists(key), false)
        await rejectsWithCode(store.get(key), 'OBJECT_NOT_FOUND')
      })

      it('many deferred objects at once, some the same, all readable after flush', async () => {
        const keys = Array.from({length: 40}, (_, i) => `objects/${(i % 30 % 7).toString(16).padStart(2, '0')}/k${i % 30}`)
        await Promise.all(keys.map((k) => store.put(k, bytesOf(k), {deferSync: true})))
        await store.flush()
        for (const k of keys) assert.equal(textOf(await store.get(k)), k)
        assert.equal((await collect(store.list('objects/'))).length, 30)
      })
    })

    describe('lifecycle', () => {
      it('names itself and its capabilities', () => {
        assert.match(store.url, /^[a-z0-9]+:\/\//)
        for (const capability of ['conditionalWrite', 'list', 'rangeRead'] as const) assert.equal(typeof store.supports[capability], 'boolean')
      })

      it('refuses use after close; close twice is fine', async () => {
        await store.put('k', bytesOf('x'))
        await store.close()
        await store.close()
        await rejectsWithCode(store.get('k'), 'STORAGE_ERROR')
        await rejectsWithCode(store.put('k', bytesOf('y')), 'STORAGE_ERROR')
        await rejectsWithCode(collect(store.list('')), 'STORAGE_ERROR')
      })
    })
  })
}
