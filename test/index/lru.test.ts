// core/lru.ts, the caches of the read path: against a model (an array in recency order), for any
// sequence of operations, bounds, sizes and values: the same entries, evicted least recent first,
// and dispose called exactly for what leaves (evicted, deleted, replaced by another value, cleared).
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {Lru} from '../../src/core/lru.js'

type Op = {op: 'set'; key: number; value: number} | {op: 'get' | 'peek' | 'delete' | 'has'; key: number} | {op: 'clear'}

const op: fc.Arbitrary<Op> = fc.oneof(
  {weight: 5, arbitrary: fc.record({op: fc.constant('set' as const), key: fc.integer({min: 0, max: 12}), value: fc.integer({min: 0, max: 40})})},
  {weight: 3, arbitrary: fc.record({op: fc.constantFrom('get' as const, 'peek' as const, 'delete' as const, 'has' as const), key: fc.integer({min: 0, max: 12})})},
  {weight: 1, arbitrary: fc.record({op: fc.constant('clear' as const)})},
)

describe('Lru', () => {
  it('behaves as the model for any operations, entry bound and size bound (fast-check)', () => {
    fc.assert(
      fc.property(fc.option(fc.integer({min: 1, max: 6}), {nil: undefined}), fc.option(fc.integer({min: 1, max: 80}), {nil: undefined}), fc.array(op, {maxLength: 80}), (maxEntries, maxSize, ops) => {
        const disposed: [number, number][] = []
        const lru = new Lru<number, number>({maxEntries, maxSize, sizeOf: (v) => v, dispose: (v, k) => disposed.push([k, v])})
        let model: [number, number][] = [] // least recent first
        const expectDisposed: [number, number][] = []
        const total = () => model.reduce((s, [, v]) => s + v, 0)
        for (const o of ops) {
          const at = 'key' in o ? model.findIndex(([k]) => k === o.key) : -1
          if (o.op === 'set') {
            if (at >= 0) {
              const [[k, old]] = model.splice(at, 1)
              if (old !== o.value) expectDisposed.push([k, old])
            }
            if (maxSize === undefined || o.value <= maxSize) {
              model.push([o.key, o.value])
              while (model.length > (maxEntries ?? Infinity) || total() > (maxSize ?? Infinity)) expectDisposed.push(model.shift()!)
            }
            assert.equal(lru.set(o.key, o.value), lru)
          } else if (o.op === 'get') {
            const expected = at >= 0 ? model[at][1] : undefined
            if (at >= 0) model.push(...model.splice(at, 1))
            assert.equal(lru.get(o.key), expected)
          } else if (o.op === 'peek') {
            assert.equal(lru.peek(o.key), at >= 0 ? model[at][1] : undefined)
          } else if (o.op === 'has') {
            assert.equal(lru.has(o.key), at >= 0)
          } else if (o.op === 'delete') {
            if (at >= 0) expectDisposed.push(...model.splice(at, 1))
            assert.equal(lru.delete(o.key), at >= 0)
          } else {
            expectDisposed.push(...model)
            model = []
            lru.clear()
          }
          assert.deepEqual([...lru.keys()], model.map(([k]) => k))
          assert.deepEqual([...lru.values()], model.map(([, v]) => v))
          assert.equal(lru.size, model.length)
          assert.deepEqual(disposed, expectDisposed)
        }
      }),
      {numRuns: 300},
    )
  })
})
