// getRange(key, offset, length, into): stores that declare readInto read into the caller's buffer
// and return a view of it (scans reuse a few buffers that way); the result is exact either way, a
// short object is still CORRUPT_OBJECT, and a buffer too small for the read is refused.
import assert from 'node:assert/strict'
import {FsStore} from '../../src/core/storage/fs.js'
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
]

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
