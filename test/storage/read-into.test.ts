// getRange(key, offset, length, into): stores that declare readInto read into the caller's buffer
// and return a view of it (scans reuse a few buffers that way); the result is exact either way, a
// short object is still CORRUPT_OBJECT, and a buffer too small for the read is refused.
import assert from 'node:assert/strict'
import {FallbackStore} from '../../src/core/storage/fallback.js'
import {FsStore} from '../../src/core/storage/fs.js'
import {sha256hex} from '../../src/core/hash.js'
import {dropMemoryStore, MemoryStore} from '../../src/core/storage/memory.js'
import type {ObjectStore} from '../../src/core/storage/types.js'
import {rejectsWithCode} from './contract.js'
import {makeFsStore} from './helpers.js'

const providers: [string, () => Promise<{store: ObjectStore; cleanup: () => Promise<void>}>][] = [
  ['fs', async () => makeFsStore()],
  ['memory', async () => {
    const store = new MemoryStore({name: `read-into-${process.pid}`})
    return {store, cleanup: async () => void dropMemoryStore(`read-into-${process.pid}`)}
  }],
  // a lazy clone's store: local files that read through to a remote (here, objects put are local)
  ['fallback', async () => {
    const local = await makeFsStore()
    const remote = new MemoryStore({name: `read-into-remote-${process.pid}`})
    return {
      store: new FallbackStore(local.store, remote),
      cleanup: async () => {
        await local.cleanup()
        dropMemoryStore(`read-into-remote-${process.pid}`)
      },
    }
  }],
]

describe('getRange into a caller\'s buffer (fallback, object only on the remote)', () => {
  it('the bytes fetched whole from the remote are read into the buffer too, exactly', async () => {
    const local = await makeFsStore()
    const remote = new MemoryStore({name: `read-into-remote-only-${process.pid}`})
    const store = new FallbackStore(local.store, remote)
    try {
      const object = new Uint8Array(300 * 1024).map((_, i) => (i * 7) & 0xff)
      const key = `objects/${sha256hex(object).slice(0, 2)}/${sha256hex(object).slice(2)}`
      await remote.put(key, object)
      const into = new Uint8Array(200 * 1024).fill(9)
      const got = await store.getRange(key, 1000, 150 * 1024, into)
      assert.deepEqual(got, object.subarray(1000, 1000 + 150 * 1024))
      assert.equal(got.buffer, into.buffer, 'a view of the given buffer')
      // kept locally: the next read is the local store's, into the buffer as well
      assert.equal(await local.store.exists(key), true)
      const again = await store.getRange(key, 7, 100, into)
      assert.deepEqual(again, object.subarray(7, 107))
      assert.equal(again.buffer, into.buffer)
    } finally {
      await store.close()
      await local.cleanup()
      dropMemoryStore(`read-into-remote-only-${process.pid}`)
    }
  })
})

for (const [name, make] of providers) {
  describe(`getRange into a caller's buffer (${name})`, () => {
    let store: ObjectStore
    let cleanup: () => Promise<void>
    beforeEach(async () => ({store, cleanup} = await make()))
    afterEach(async () => {
      await store.close()
      await cleanup()
    })

    it('reads into the buffer (small and large reads), exactly, and says it can', async () => {
      assert.equal(store.supports.readInto, true)
      const object = new Uint8Array(600 * 1024).map((_, i) => (i * 13) & 0xff)
      await store.put('objects/ab/cd', object)
      const into = new Uint8Array(512 * 1024).fill(7)
      for (const [offset, length] of [[5, 100], [1000, 400 * 1024], [0, 0]]) {
        const got = await store.getRange('objects/ab/cd', offset, length, into)
        assert.deepEqual(got, object.subarray(offset, offset + length))
        assert.equal(got.buffer, into.buffer, 'a view of the given buffer')
        assert.equal(got.byteOffset, into.byteOffset)
      }
    })

    it('a short object is CORRUPT_OBJECT; a buffer smaller than the read is refused', async () => {
      await store.put('objects/ab/ef', new Uint8Array(100))
      await rejectsWithCode(store.getRange('objects/ab/ef', 50, 60, new Uint8Array(64)), 'CORRUPT_OBJECT')
      await rejectsWithCode(store.getRange('objects/ab/ef', 0, 60, new Uint8Array(59)), 'STORAGE_ERROR')
    })
  })
}
