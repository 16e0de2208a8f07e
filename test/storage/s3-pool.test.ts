import assert from 'node:assert/strict'
import {RequestPool} from '../../src/core/storage/s3-pool.js'

const tick = () => new Promise(resolve => setTimeout(resolve, 1))

describe('RequestPool (bounds S3 requests in flight)', () => {
  it('never runs more than its limit at once, and serves waiters in arrival order', async () => {
    const pool = new RequestPool(3)
    let running = 0
    let peak = 0
    const started: number[] = []
    await Promise.all(Array.from({length: 20}, (_, i) => pool.run(async () => {
      started.push(i)
      peak = Math.max(peak, ++running)
      await tick()
      running--
    })))
    assert.equal(peak, 3)
    assert.deepEqual(started, Array.from({length: 20}, (_, i) => i))
  })

  it('a weighted task (a multipart upload) holds several slots; a failing task frees its slots', async () => {
    const pool = new RequestPool(4)
    let running = 0
    let peak = 0
    const task = (weight: number) => pool.run(async () => {
      const slots = Math.min(weight, 4)
      running += slots
      peak = Math.max(peak, running)
      await tick()
      running -= slots
    }, weight)
    await assert.rejects(pool.run(async () => Promise.reject(new Error('boom')), 4), /boom/)
    // A weight above the limit is capped at the limit (it would never run otherwise).
    await Promise.all([task(3), task(1), task(4), task(2), task(9)])
    assert.equal(peak, 4)
    assert.throws(() => new RequestPool(0), RangeError)
  })
})
