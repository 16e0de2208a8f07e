// FsStore.visitMany (ObjectStore.visitMany): many objects in one call, packed ones read in runs
// into a reused buffer. Checked against get, key by key: every key is visited exactly once, with
// get's bytes or get's error, whatever mix of packed, loose, unflushed, missing and invalid keys,
// object sizes (runs, gaps, objects larger than a run) and packs (folded away under the reader).
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import fc from 'fast-check'
import {FsStore} from '../../src/core/storage/fs.js'
import {ObjectDb} from '../../src/core/storage/objects.js'

/** visitMany's answer per key: a copy of the bytes (they are valid only during visit) or the error's code. */
async function visited(store: FsStore, keys: string[]): Promise<{bytes?: Uint8Array; error?: string}[]> {
  const out: ({bytes?: Uint8Array; error?: string} | undefined)[] = keys.map(() => undefined)
  await store.visitMany(keys, (i, bytes, error) => {
    assert.equal(out[i], undefined, `key ${i} visited twice`)
    out[i] = bytes ? {bytes: bytes.slice()} : {error: (error as {code?: string}).code ?? String(error)}
  })
  assert.ok(out.every((o) => o !== undefined), 'every key visited')
  return out as {bytes?: Uint8Array; error?: string}[]
}

/** get's answer per key, in the same form. */
async function got(store: FsStore, keys: string[]) {
  return Promise.all(keys.map((key) => store.get(key).then((bytes) => ({bytes}), (error: {code?: string}) => ({error: error.code ?? String(error)}))))
}

describe('FsStore.visitMany', () => {
  let root: string
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'lake-visit-many-'))))
  afterEach(() => rmSync(root, {recursive: true, force: true}))

  it('answers like get for any mix of packed, loose, unflushed, missing and invalid keys and sizes (fast-check)', async () => {
    let run = 0
    const object = fc.record({
      size: fc.constantFrom(0, 1, 300, 4000, 5000, 30_000, 70_000, 200_000),
      where: fc.constantFrom('packed', 'packed', 'packed', 'loose', 'unflushed', 'missing'),
    })
    await fc.assert(
      fc.asyncProperty(fc.array(object, {minLength: 1, maxLength: 30}), fc.array(fc.nat(), {maxLength: 40}), fc.boolean(), async (objects, picks, twoPacks) => {
        const dir = join(root, `run-${run++}`)
        const writer = new FsStore(dir)
        const keys: string[] = []
        try {
          for (const [i, {size, where}] of objects.entries()) {
            const key = `objects/${(i % 256).toString(16).padStart(2, '0')}/o${i}`
            keys.push(key)
            const bytes = new Uint8Array(size).map((_, j) => (i * 31 + j) % 251)
            if (where === 'packed') await writer.put(key, bytes, {deferSync: true})
            else if (where === 'loose') await writer.put(key, bytes)
            if (twoPacks && i === objects.length >> 1) await writer.flush()
          }
          await writer.flush()
          // unflushed objects are seen by the instance that put them
          for (const [i, {size, where}] of objects.entries()) if (where === 'unflushed') await writer.put(keys[i], new Uint8Array(size).fill(i % 251), {deferSync: true})
          // any order, repeats, and a key no put accepts
          const asked = [...picks.map((p) => keys[p % keys.length]), ...keys, 'objects/../escape']
          assert.deepEqual(await visited(writer, asked), await got(writer, asked))
          const reader = new FsStore(dir)
          try {
            assert.deepEqual(await visited(reader, asked), await got(reader, asked))
          } finally {
            await reader.close()
          }
        } finally {
          await writer.close()
        }
      }),
      {numRuns: 40},
    )
  })

  it('follows a pack folded away under the reader, and a visit may ask for more (its bytes stay valid meanwhile)', async () => {
    const writer = new FsStore(root)
    const reader = new FsStore(root)
    try {
      const a = Array.from({length: 20}, (_, i) => [`objects/aa/a${i}`, new Uint8Array(3000).fill(i)] as const)
      for (const [key, bytes] of a) await writer.put(key, bytes, {deferSync: true})
      await writer.flush()
      assert.equal((await visited(reader, a.map(([key]) => key))).length, 20) // the reader has read this pack's index
      const b = Array.from({length: 40}, (_, i) => [`objects/bb/b${i}`, new Uint8Array(3000).fill(100 + i)] as const)
      for (const [key, bytes] of b) await writer.put(key, bytes, {deferSync: true})
      await writer.flush() // larger than the first pack: folds it away
      const all = [...a, ...b]
      // the reader still knows the folded pack only: the objects of the new one come through get
      assert.deepEqual((await visited(reader, all.map(([key]) => key))).map((x) => x.bytes), all.map(([, bytes]) => bytes))
      const inner: Promise<unknown>[] = []
      await reader.visitMany(
        all.map(([key]) => key),
        (i, bytes) => {
          assert.deepEqual(bytes, all[i][1], all[i][0])
          // a nested call reads while this visit still holds its bytes: they must not change
          if (i % 7 === 0) inner.push(visited(reader, b.map(([key]) => key)))
          assert.deepEqual(bytes, all[i][1], `${all[i][0]} after a nested read`)
        },
      )
      for (const r of (await Promise.all(inner)) as {bytes?: Uint8Array}[][]) assert.deepEqual(r.map((x) => x.bytes), b.map(([, bytes]) => bytes))
    } finally {
      await reader.close()
      await writer.close()
    }
  })

  it('ObjectDb.visitUnverified names missing objects by hash, as getUnverified does, and refuses a malformed hash', async () => {
    const store = new FsStore(root)
    const db = new ObjectDb(store)
    try {
      const hash = await db.put(new TextEncoder().encode('packed'))
      await db.flush()
      const missing = 'ab'.repeat(32)
      const results: unknown[] = []
      await db.visitUnverified([missing, hash, 'not-a-hash'], (i, bytes, error) => (results[i] = bytes ? new TextDecoder().decode(bytes) : error))
      const expected = await Promise.all([missing, hash, 'not-a-hash'].map((h) => db.getUnverified(h).then((b) => new TextDecoder().decode(b), (e: unknown) => e)))
      assert.equal(results[1], 'packed')
      for (const i of [0, 2]) {
        assert.equal((results[i] as {code: string}).code, (expected[i] as {code: string}).code)
        assert.equal((results[i] as Error).message, (expected[i] as Error).message)
      }
    } finally {
      await store.close()
    }
  })
})
