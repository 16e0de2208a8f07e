import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import fsp, {mkdir, readdir, readFile, rename, stat, utimes, writeFile} from 'node:fs/promises'
import {syncBuiltinESMExports} from 'node:module'
import {join} from 'node:path'
import fc from 'fast-check'
import {FsStore} from '../../src/core/storage/fs.js'
import {dropMemoryStore, MemoryStore} from '../../src/core/storage/memory.js'
import {collect, rejectsWithCode, runStoreContract} from './contract.js'
import {makeFsStore} from './helpers.js'

runStoreContract('fs (durable)', () => makeFsStore())
runStoreContract('fs (not durable)', () => makeFsStore({durable: false}))
runStoreContract('fs (durable, no packs: a dataset of format 1)', () => makeFsStore({pack: false}))

const bytesOf = (text: string) => new TextEncoder().encode(text)
const textOf = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

describe('FsStore', () => {
  let fixture: Awaited<ReturnType<typeof makeFsStore>>
  let store: FsStore
  let root: string
  beforeEach(async () => {
    fixture = await makeFsStore()
    ;({store, dir: root} = fixture)
  })
  afterEach(async () => {
    await store.close()
    await fixture.cleanup()
  })

  it('a deferSync object is invisible to another instance until flush, then whole under its name; close flushes too', async () => {
    const other = new FsStore(root)
    try {
      await store.put('objects/aa/one', bytesOf('one'), {deferSync: true, ifNoneMatch: '*'})
      await store.put('objects/bb/two', bytesOf('two'), {deferSync: true})
      assert.equal(await other.exists('objects/aa/one'), false, 'not under its name before flush')
      assert.deepEqual(await collect(other.list('objects/')), [])
      await store.flush()
      assert.equal(textOf(await other.get('objects/aa/one')), 'one')
      assert.equal(textOf(await other.get('objects/bb/two')), 'two')
      // a racing writer of the same content-addressed key: the one already there stays
      await other.put('objects/cc/three', bytesOf('three'), {deferSync: true, ifNoneMatch: '*'})
      await store.put('objects/cc/three', bytesOf('three'), {deferSync: true, ifNoneMatch: '*'})
      await other.flush()
      await store.close()
      assert.equal(textOf(await other.get('objects/cc/three')), 'three')
      const leftovers = (await readdir(root, {recursive: true})).filter((f) => String(f).includes('.lake-tmp-'))
      assert.deepEqual(leftovers, [], 'no temp file left after flush and close')
    } finally {
      await other.close()
    }
  })

  it('reads of deferred objects while a flush renames them all succeed', async () => {
    // the renames run in parallel, so a round of reads falls inside their window only now and
    // then: batches until one has (all reads of every round must succeed)
    let midRename = 0
    for (let attempt = 0; attempt < 40 && midRename === 0; attempt++) {
      const keys = Array.from({length: 60}, (_, i) => `objects/${(i % 9).toString(16).padStart(2, '0')}/r${attempt}-${i}`)
      // (standalone: each its own file, renamed at the flush; other objects go into one pack)
      await Promise.all(keys.map((k) => store.put(k, bytesOf(k), {deferSync: true, standalone: true, ifNoneMatch: k.endsWith('0') ? '*' : undefined})))
      let done = false
      const flushing = store.flush().finally(() => (done = true))
      // rounds that began with some objects already renamed and some not: the window under test
      while (!done) {
        const named = keys.filter((k) => existsSync(join(root, k))).length
        if (named > 0 && named < keys.length) midRename++
        for (const k of keys) {
          assert.equal(textOf(await store.get(k)), k)
          assert.equal(textOf(await store.getRange(k, 1, 3)), k.slice(1, 4))
        }
        await new Promise((resolve) => setImmediate(resolve))
      }
      await flushing
    }
    assert.ok(midRename > 0, 'no read round fell between the first and the last rename')
  })

  it('a large deferred object becomes durable in the background: readable throughout, under its name before the flush, which waits for it', async () => {
    const other = new FsStore(root)
    try {
      const big = new Uint8Array(2 * 1024 * 1024).map((_, i) => i % 251)
      await store.put('objects/ee/big', big, {deferSync: true, ifNoneMatch: '*', standalone: true})
      await store.put('objects/ee/small', bytesOf('small'), {deferSync: true})
      // reads succeed whether the background work has renamed it yet or not
      const deadline = Date.now() + 10_000
      while (!existsSync(join(root, 'objects/ee/big')) && Date.now() < deadline) {
        assert.deepEqual((await store.getRange('objects/ee/big', 1000, 4))!, big.subarray(1000, 1004))
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
      assert.ok(existsSync(join(root, 'objects/ee/big')), 'renamed into place without waiting for a flush')
      assert.deepEqual(await store.get('objects/ee/big'), big)
      // the small one waits for the flush (one journal commit for all the small ones)
      assert.equal(await other.exists('objects/ee/small'), false)
      await store.flush()
      assert.equal(textOf(await other.get('objects/ee/small')), 'small')
      assert.deepEqual(await other.get('objects/ee/big'), big)
      const leftovers = (await readdir(root, {recursive: true})).filter((f) => String(f).includes('.lake-tmp-'))
      assert.deepEqual(leftovers, [], 'no temp file left')
    } finally {
      await other.close()
    }
  })

  it('many large deferred objects at once, with flushes among them: all durable under their names, no temp file left', async () => {
    const other = new FsStore(root)
    try {
      const blobs = Array.from({length: 7}, (_, i) => new Uint8Array(1024 * 1024 + i).fill(i + 1))
      const puts = blobs.map((b, i) => store.put(`objects/f${i}/big`, b, {deferSync: true, ifNoneMatch: i % 2 ? '*' : undefined, standalone: true}))
      const flushes = [store.flush(), new Promise((resolve) => setImmediate(resolve)).then(() => store.flush())]
      await Promise.all([...puts, ...flushes])
      await store.flush()
      for (const [i, b] of blobs.entries()) assert.deepEqual(await other.get(`objects/f${i}/big`), b)
      const leftovers = (await readdir(root, {recursive: true})).filter((f) => String(f).includes('.lake-tmp-'))
      assert.deepEqual(leftovers, [], 'no temp file left')
    } finally {
      await other.close()
    }
  })

  it('deferred objects become visible children first: standalone ones (chunks) under their names, then all the others at once, in one pack', async () => {
    const renamed: string[] = []
    const original = fsp.rename
    ;(fsp as {rename: unknown}).rename = async (from: string, to: string) => {
      await original(from, to)
      renamed.push(to.slice(root.length + 1))
    }
    syncBuiltinESMExports()
    const other = new FsStore(root)
    try {
      const keys = Array.from({length: 30}, (_, i) => `objects/${(i * 7) % 16}0/o${i}`)
      for (const k of keys) await store.put(k, bytesOf(k), {deferSync: true})
      // a large object that names others (not standalone) waits for the flush and goes into the pack
      const parent = new Uint8Array(1024 * 1024 + 1).fill(3)
      await store.put('objects/ff/big-parent', parent, {deferSync: true})
      await new Promise((resolve) => setTimeout(resolve, 50))
      assert.deepEqual(renamed, [], 'nothing visible before the flush')
      assert.equal(await other.exists(keys[0]), false)
      await store.put('objects/fe/big-chunk', new Uint8Array(1024 * 1024 + 2), {deferSync: true, standalone: true})
      await store.flush()
      assert.deepEqual(renamed.slice(0, 1), ['objects/fe/big-chunk'], 'the chunk first')
      assert.equal(renamed.length, 2)
      assert.match(renamed[1], /^\.lake-packs\/pack-[0-9a-f]{32}\.pack$/, 'then one pack')
      for (const k of keys) assert.equal(textOf(await other.get(k)), k)
      assert.deepEqual(await other.get('objects/ff/big-parent'), parent)
      assert.equal(existsSync(join(root, keys[0])), false, 'a packed object is no file of its own')
    } finally {
      ;(fsp as {rename: unknown}).rename = original
      syncBuiltinESMExports()
      await other.close()
    }
  })

  it('a ref written after deferred objects makes them durable first (the ref may name them)', async () => {
    const other = new FsStore(root)
    try {
      await store.put('objects/dd/obj', bytesOf('named by the ref'), {deferSync: true})
      await store.put('refs/heads/main', bytesOf('dd/obj'))
      assert.equal(textOf(await other.get('objects/dd/obj')), 'named by the ref')
    } finally {
      await other.close()
    }
  })

  it('a deferred object a crash never flushed is only a temp file (a chunk) or nothing (the others): no object under its name', async () => {
    const crashed = new FsStore(root)
    await crashed.put('objects/ee/lost', bytesOf('never flushed'), {deferSync: true})
    await crashed.put('objects/ee/chunk', bytesOf('never flushed'), {deferSync: true, standalone: true})
    // (the instance is dropped without flush or close, as a killed process would leave it)
    assert.equal(await store.exists('objects/ee/lost'), false)
    assert.equal(await store.exists('objects/ee/chunk'), false)
    assert.equal(existsSync(join(root, '.lake-packs')), false, 'a small object waits in memory: nothing on disk')
    const files = (await readdir(join(root, 'objects', 'ee'))).map(String)
    assert.equal(files.length, 1)
    assert.ok(files[0].startsWith('.lake-tmp-'), files[0])
  })

  it('maps keys to files under the root and names itself with a file URL', async () => {
    await store.put('objects/ab/cdef', bytesOf('x'))
    assert.equal(await readFile(join(root, 'objects', 'ab', 'cdef'), 'utf8'), 'x')
    assert.equal(store.url, `file://${root}`)
  })

  it('refuses a key that is also a directory of other keys, naming the conflict', async () => {
    await store.put('refs/heads/main', bytesOf('1'))
    await rejectsWithCode(store.put('refs/heads', bytesOf('2')), 'STORAGE_ERROR')
    await rejectsWithCode(store.put('refs/heads/main/x', bytesOf('3')), 'STORAGE_ERROR')
    assert.deepEqual((await collect(store.list(''))).map(o => o.key), ['refs/heads/main'])
  })

  it('prunes emptied directories on delete, so the prefix can become a key', async () => {
    await store.put('refs/heads/feature/x', bytesOf('1'))
    await store.delete('refs/heads/feature/x')
    await assert.rejects(stat(join(root, 'refs')))
    await store.put('refs/heads/feature', bytesOf('2'))
    assert.equal(textOf(await store.get('refs/heads/feature')), '2')
  })

  it('never lists temp files while puts are in flight', async () => {
    const keys = Array.from({length: 40}, (_, i) => `objects/${String(i % 4).padStart(2, '0')}/k${i}`)
    let writing = true
    const writes = Promise.all(keys.map(key => store.put(key, new Uint8Array(128 * 1024).fill(7)))).finally(() => (writing = false))
    do {
      for (const {key} of await collect(store.list(''))) assert.ok(keys.includes(key), `listed ${key}`)
    } while (writing)
    await writes
    assert.equal((await collect(store.list(''))).length, keys.length)
  })

  it('ignores a crashed writer\'s temp and lock files, and cleanupTemp removes them when old', async () => {
    await store.put('objects/ab/cd', bytesOf('real'))
    const strays = [join(root, '.lake-tmp-dead01'), join(root, 'objects', 'ab', '.lake-tmp-dead02')]
    for (const path of strays) await writeFile(path, 'half an objec')
    await writeFile(join(root, 'objects', 'ab', '.lake-lock-cd'), '999@elsewhere')
    assert.deepEqual((await collect(store.list(''))).map(o => o.key), ['objects/ab/cd'])
    await rejectsWithCode(store.get('.lake-tmp-dead01'), 'STORAGE_ERROR')

    assert.deepEqual(await store.cleanupTemp(60_000), {files: 0, bytes: 0}, 'young files may be live writes')
    const old = new Date(Date.now() - 120_000)
    for (const path of strays) await utimes(path, old, old)
    await utimes(join(root, 'objects', 'ab', '.lake-lock-cd'), old, old)
    assert.deepEqual(await store.cleanupTemp(60_000), {files: 3, bytes: 2 * 13})
    assert.deepEqual(await readdir(join(root, 'objects', 'ab')), ['cd'])
    assert.deepEqual(await readdir(root), ['objects'])
  })

  it('does not serve an overwritten key stale from its cached read handle', async () => {
    await store.put('refs/x', bytesOf('old value'))
    assert.equal(textOf(await store.getRange('refs/x', 0, 3)), 'old')
    await store.put('refs/x', bytesOf('new value'))
    assert.equal(textOf(await store.getRange('refs/x', 0, 3)), 'new')
    // Replaced behind the store's back (another process): same check.
    await writeFile(join(root, 'refs', 'other'), 'fresh value')
    await rename(join(root, 'refs', 'other'), join(root, 'refs', 'x'))
    assert.equal(textOf(await store.getRange('refs/x', 0, 5)), 'fresh')
    await store.delete('refs/x')
    await rejectsWithCode(store.getRange('refs/x', 0, 1), 'OBJECT_NOT_FOUND')
  })

  it('drops the cached handle of a deleted immutable object', async () => {
    await store.put('objects/aa/bb', bytesOf('content'))
    assert.equal(textOf(await store.getRange('objects/aa/bb', 0, 4)), 'cont')
    await store.delete('objects/aa/bb')
    await rejectsWithCode(store.getRange('objects/aa/bb', 0, 4), 'OBJECT_NOT_FOUND')
  })

  it('keeps few handles open and stays correct past the limit', async () => {
    const small = new FsStore(join(root, 'small'), {maxOpenFiles: 2})
    try {
      for (let i = 0; i < 6; i++) await small.put(`objects/0${i}/x`, bytesOf(`value ${i}`))
      const reads = Array.from({length: 60}, (_, j) => small.getRange(`objects/0${j % 6}/x`, 6, 1))
      assert.deepEqual((await Promise.all(reads)).map(textOf), Array.from({length: 60}, (_, j) => String(j % 6)))
    } finally {
      await small.close()
    }
  })

  it('keeps a descriptor open while a large (asynchronous) read uses it, even once evicted', async () => {
    const small = new FsStore(join(root, 'evict'), {maxOpenFiles: 1})
    try {
      const objects = [0, 1].map(k => new Uint8Array(1024 * 1024).map((_, i) => (i * 7 + k) & 0xff))
      await small.put('objects/00/a', objects[0])
      await small.put('objects/00/b', objects[1])
      // each read evicts the other file's descriptor while that one's read is still in flight
      const reads = Array.from({length: 20}, (_, j) => small.getRange(`objects/00/${j % 2 ? 'b' : 'a'}`, 1000, 512 * 1024))
      for (const [j, got] of (await Promise.all(reads)).entries()) assert.deepEqual(got, objects[j % 2].subarray(1000, 1000 + 512 * 1024))
    } finally {
      await small.close()
    }
  })

  it('takes over a stale lock left by a crashed writer', async () => {
    const {etag} = await store.put('refs/main', bytesOf('1'))
    const lock = join(root, 'refs', '.lake-lock-main')
    await writeFile(lock, '999@crashed')
    const old = new Date(Date.now() - 31_000)
    await utimes(lock, old, old)
    await store.put('refs/main', bytesOf('2'), {ifMatch: etag})
    assert.equal(textOf(await store.get('refs/main')), '2')
    await assert.rejects(stat(lock))
  })

  it('waits for a live lock, and times out with LOCK_TIMEOUT', async () => {
    const patient = new FsStore(root, {lockTimeoutMs: 5_000})
    const impatient = new FsStore(root, {lockTimeoutMs: 150})
    try {
      await patient.put('refs/main', bytesOf('1'))
      const lock = join(root, 'refs', '.lake-lock-main')
      await writeFile(lock, '1@another-process')
      await rejectsWithCode(impatient.put('refs/main', bytesOf('2')), 'LOCK_TIMEOUT')
      const waiting = patient.put('refs/main', bytesOf('3'))
      await new Promise(resolve => setTimeout(resolve, 100))
      await import('node:fs/promises').then(fs => fs.unlink(lock))
      await waiting
      assert.equal(textOf(await patient.get('refs/main')), '3')
    } finally {
      await patient.close()
      await impatient.close()
    }
  })

  it('two stores on one root (two processes) keep compare-and-swap exact', async () => {
    const other = new FsStore(root)
    try {
      await store.put('counter', bytesOf('0'))
      const increment = async (s: FsStore) => {
        for (;;) {
          const head = await s.head('counter')
          const value = Number(textOf(await s.get('counter')))
          try {
            return await s.put('counter', bytesOf(String(value + 1)), {ifMatch: head!.etag})
          } catch (err) {
            if ((err as {code?: string}).code !== 'PRECONDITION_FAILED') throw err
          }
        }
      }
      await Promise.all(Array.from({length: 20}, (_, i) => increment(i % 2 ? store : other)))
      assert.equal(textOf(await store.get('counter')), '20')
    } finally {
      await other.close()
    }
  })

  it('lists exactly what the memory store lists, for any keys and prefix (model check)', async function () {
    this.timeout(120_000)
    // Characters around '/' in sort order ('-' '.' < '/' < '0' 'a') are where a directory walk can go wrong.
    const segment = fc.string({unit: fc.constantFrom('-', '.', '0', 'a', 'b'), minLength: 1, maxLength: 3}).filter(s => s !== '.' && s !== '..')
    const key = fc.array(segment, {minLength: 1, maxLength: 3}).map(segments => segments.join('/'))
    // A file store cannot hold both 'k' and 'k/…' (see above), so the model does not ask it to.
    const keySet = fc.uniqueArray(key, {maxLength: 12}).filter(keys => !keys.some(k => keys.some(other => other.startsWith(`${k}/`))))
    let run = 0
    await fc.assert(
      fc.asyncProperty(keySet, fc.nat(), fc.nat(), async (keys, pick, cut) => {
        const files = new FsStore(join(root, `model-${run}`), {durable: false})
        const model = new MemoryStore()
        run++
        try {
          for (const k of keys) {
            await files.put(k, bytesOf(k))
            await model.put(k, bytesOf(k))
          }
          const base = keys.length ? keys[pick % keys.length] : ''
          const prefix = base.slice(0, cut % (base.length + 1))
          const listed = async (s: FsStore | MemoryStore) => (await collect(s.list(prefix))).map(o => [o.key, o.size])
          assert.deepEqual(await listed(files), await listed(model))
        } finally {
          await files.close()
          dropMemoryStore(model.name)
        }
      }),
      {numRuns: 40},
    )
  })

  it('lists an empty or missing root as empty', async () => {
    assert.deepEqual(await collect(store.list('')), [])
    await mkdir(root, {recursive: true})
    assert.deepEqual(await collect(store.list('objects/')), [])
  })
})
