// core/lru.ts: caches bounded by entry count through maxSize (lru-cache's `max` preallocates its
// slots, a cost each Repo.open paid). The bounds must hold as `max` held them.
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {countedLru, sizedLru} from '../../src/core/lru.js'

describe('LRU bounds without preallocation', () => {
  it('countedLru keeps the last maxEntries entries used, and disposes of the rest', () => {
    const disposed: number[] = []
    const lru = countedLru<number, string>(3, {dispose: (_v, k) => disposed.push(k)})
    for (const k of [1, 2, 3]) lru.set(k, `v${k}`)
    lru.get(1)
    lru.set(4, 'v4')
    assert.deepEqual([...lru.keys()].sort(), [1, 3, 4])
    assert.deepEqual(disposed, [2])
  })

  it('sizedLru never holds more than maxEntries entries nor more than maxBytes (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({min: 1, max: 20}), fc.integer({min: 1, max: 5000}), fc.array(fc.integer({min: 0, max: 3000}), {maxLength: 200}), (maxEntries, maxBytes, sizes) => {
        const lru = sizedLru<number, {size: number}>(maxEntries, maxBytes, (v) => v.size)
        for (const [k, size] of sizes.entries()) {
          lru.set(k, {size})
          assert.ok(lru.size <= maxEntries, `${lru.size} entries > ${maxEntries}`)
          assert.ok([...lru.values()].reduce((sum, v) => sum + v.size, 0) <= maxBytes, 'over the byte budget')
        }
        // entries no larger than their share fill it to maxEntries
        const share = Math.max(1, Math.floor(maxBytes / maxEntries))
        const even = sizedLru<number, {size: number}>(maxEntries, share * maxEntries, (v) => v.size)
        for (let k = 0; k < 3 * maxEntries; k++) even.set(k, {size: share - (k % 2)})
        assert.equal(even.size, maxEntries)
      }),
    )
  })
})
