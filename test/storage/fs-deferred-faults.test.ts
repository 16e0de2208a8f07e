// Deferred writes of the file store under faults and races (found in review): a failed fsync, a
// retry of the flush while the failed one still runs, a delete during a flush, two puts of one key
// at once, many large puts at once. fs.fsync is wrapped (the store calls it through node:fs's
// exports, which syncBuiltinESMExports updates) to inject EIO or delays. The per-file machinery is
// what standalone objects (chunks) go through; the others go into a pack at the flush (last tests).
import assert from 'node:assert/strict'
import fs, {existsSync, mkdtempSync, openSync, readdirSync, readlinkSync, rmSync, statSync} from 'node:fs'
import {syncBuiltinESMExports} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {FsStore} from '../../src/core/storage/fs.js'

const bytes = (text: string) => new TextEncoder().encode(text)
const walk = (d: string): string[] => readdirSync(d, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]))
/** Descriptors of this process open on files under root (Linux: /proc). */
const openUnder = (root: string) =>
  existsSync('/proc/self/fd')
    ? readdirSync('/proc/self/fd').filter((n) => {
        try {
          return readlinkSync(`/proc/self/fd/${n}`).startsWith(root)
        } catch {
          return false
        }
      })
    : []
const eio = () => Object.assign(new Error('EIO: injected'), {code: 'EIO'})

describe('FsStore deferred writes: faults and races', () => {
  let root: string
  let store: FsStore
  const original = {fsync: fs.fsync, closeSync: fs.closeSync}
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'lake-fs-faults-'))
    store = new FsStore(root)
  })
  afterEach(async () => {
    Object.assign(fs, original)
    syncBuiltinESMExports()
    await store.close().catch(() => {})
    rmSync(root, {recursive: true, force: true})
  })
  const wrapFsync = (f: (fd: number, cb: (e: Error | null) => void, n: number) => void) => {
    let n = 0
    ;(fs as {fsync: unknown}).fsync = (fd: number, cb: (e: Error | null) => void) => f(fd, cb, ++n)
    syncBuiltinESMExports()
  }

  it('two puts of one small key at once: one file, no descriptor or temp file left', async () => {
    await Promise.all([store.put('objects/aa/x', bytes('same'), {deferSync: true, standalone: true}), store.put('objects/aa/x', bytes('same'), {deferSync: true, standalone: true})])
    await store.flush()
    assert.deepEqual(openUnder(root), [])
    assert.deepEqual(walk(root).map((f) => f.slice(root.length)), ['/objects/aa/x'])
  })

  it('a failed fsync fails the flush naming that object, and only it: once it is deleted the rest flush', async () => {
    wrapFsync((fd, cb, n) => (n === 1 ? process.nextTick(() => cb(eio())) : original.fsync(fd, cb)))
    await store.put('objects/aa/bad', bytes('bad'), {deferSync: true, standalone: true})
    await store.put('objects/bb/good', bytes('good'), {deferSync: true, standalone: true})
    await assert.rejects(store.flush(), /objects\/aa\/bad.*EIO/)
    await assert.rejects(store.flush(), /objects\/aa\/bad/, 'a failed fsync stays failed')
    assert.equal(existsSync(join(root, 'objects/aa/bad')), false)
    await store.delete('objects/aa/bad')
    await store.flush()
    assert.equal(existsSync(join(root, 'objects/bb/good')), true)
    assert.deepEqual(openUnder(root), [])
  })

  it("a retry while the failed flush still fsyncs never fsyncs a descriptor number again: an object whose fsync failed is never renamed into place", async () => {
    wrapFsync((fd, cb, n) => {
      if (n === 1) return process.nextTick(() => cb(eio())) // 'bad' fails at once
      if (n === 2) return setTimeout(() => cb(eio()), 30) // 'good' fails later
      setTimeout(() => original.fsync(fd, cb), 60) // anything else (a second fsync of a number) would run late
    })
    await store.put('objects/aa/bad', bytes('bad'), {deferSync: true, standalone: true})
    await store.put('objects/bb/good', bytes('good'), {deferSync: true, standalone: true})
    await store.flush().catch(() => {})
    await store.delete('objects/aa/bad').catch(() => {})
    const retry = store.flush().then(() => 'ok', (e: Error) => e.message)
    await new Promise((r) => setTimeout(r, 40))
    const other = openSync(join(root, 'other'), 'w') // may take the number 'good' was written through
    try {
      assert.match(await retry, /objects\/bb\/good.*EIO/)
    } finally {
      original.closeSync(other)
    }
    assert.equal(existsSync(join(root, 'objects/bb/good')), false, "'good' under its name although its only fsync failed")
  })

  it('a delete during a flush waits for it; the flush succeeds and the deleted object is gone', async () => {
    for (let i = 0; i < 20; i++) await store.put(`objects/a${i % 10}/k${i}`, bytes(`v${i}`), {deferSync: true, standalone: true})
    const flushing = store.flush()
    await new Promise((r) => setImmediate(r))
    await store.delete('objects/a5/k15')
    await flushing
    assert.equal(existsSync(join(root, 'objects/a5/k15')), false)
    assert.equal(existsSync(join(root, 'objects/a4/k14')), true)
  })

  it('many large puts at once: at most two of them fsync in the background at a time', async function () {
    if (!existsSync('/proc/self/fd')) this.skip() // a descriptor's file size is read through /proc
    let inflight = 0
    let most = 0
    wrapFsync((fd, cb) => {
      const large = statSync(`/proc/self/fd/${fd}`, {throwIfNoEntry: false})?.size ?? 0
      if (large < 1024 * 1024) return original.fsync(fd, cb)
      most = Math.max(most, ++inflight)
      setTimeout(() => original.fsync(fd, (e) => (inflight--, cb(e))), 5)
    })
    const big = (i: number) => new Uint8Array(1024 * 1024 + 10).fill(i)
    await Promise.all(Array.from({length: 8}, (_, i) => store.put(`objects/${(i + 16).toString(16)}/k${i}`, big(i), {deferSync: true, standalone: true})))
    await store.flush()
    assert.ok(most >= 1 && most <= 2, `${most} large fsyncs at once`)
    for (let i = 0; i < 8; i++) assert.equal(statSync(join(root, `objects/${(i + 16).toString(16)}/k${i}`)).size, 1024 * 1024 + 10)
  })

  it("a failed fsync of the pack fails the flush naming an object; nothing is packed, the objects stay readable, a retry packs them", async () => {
    wrapFsync((fd, cb, n) => (n === 1 ? process.nextTick(() => cb(eio())) : original.fsync(fd, cb)))
    await store.put('objects/aa/one', bytes('one'), {deferSync: true})
    await store.put('objects/bb/two', bytes('two'), {deferSync: true})
    await assert.rejects(store.flush(), /objects\/aa\/one.*EIO/)
    const packDir = join(root, '.lake-packs')
    assert.deepEqual(readdirSync(packDir), [], 'no pack and no temp file after the failed fsync')
    assert.equal(new TextDecoder().decode(await store.get('objects/bb/two')), 'two')
    await store.flush()
    assert.equal(readdirSync(packDir).length, 1)
    const other = new FsStore(root)
    try {
      assert.equal(new TextDecoder().decode(await other.get('objects/aa/one')), 'one')
    } finally {
      await other.close()
    }
    assert.deepEqual(openUnder(root), [])
  })

  it('a delete during a flush that packs the object waits for it; the object is gone, here and for another instance', async () => {
    for (let i = 0; i < 20; i++) await store.put(`objects/a${i % 10}/p${i}`, bytes(`v${i}`), {deferSync: true})
    const flushing = store.flush()
    await new Promise((r) => setImmediate(r))
    await store.delete('objects/a5/p15')
    await flushing
    assert.equal(await store.exists('objects/a5/p15'), false)
    await store.flush() // the pack is rewritten without it
    const other = new FsStore(root)
    try {
      assert.equal(await other.exists('objects/a5/p15'), false)
      assert.equal(await other.exists('objects/a4/p14'), true)
    } finally {
      await other.close()
    }
  })
})
