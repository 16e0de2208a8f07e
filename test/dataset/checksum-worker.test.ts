// The checksum worker costs a thread and its own Node start (~70 ms before its first answer), more
// than a short command spends on checksums: a process checks its first few MB on its own thread,
// then starts the worker in the background and hands it jobs once it is ready.
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {ChecksumWorker} from '../../src/core/checksum-worker.js'
import {sha256hex} from '../../src/core/hash.js'
import {crc32} from 'node:zlib'
import {syncBuiltinESMExports} from 'node:module'
import workerThreads from 'node:worker_threads'

const MiB = 1024 * 1024

describe('checksum worker', function () {
  this.timeout(30_000)

  it('is not started for the first few MB of checksum work, then starts without anyone waiting', async () => {
    const worker = new ChecksumWorker()
    for (let i = 0; i < 8; i++) assert.equal(worker.offload(MiB), false, `job ${i}: done on the calling thread`)
    assert.equal((worker as unknown as {worker?: unknown}).worker, undefined, 'no thread for 8 MiB')
    assert.equal(worker.offload(MiB), false, 'past the budget: started, but not ready yet')
    assert.notEqual((worker as unknown as {worker?: unknown}).worker, undefined, 'started in the background')
    await worker.warm()
    assert.equal(worker.offload(MiB), true, 'ready: jobs go to it')
    const bytes = randomBytes(2 * MiB)
    const expected = sha256hex(bytes)
    const copy = new Uint8Array(bytes)
    const {hash, bytes: back} = await worker.sha256(copy)
    assert.equal(hash, expected)
    assert.deepEqual(Buffer.from(back), bytes, 'the bytes come back whole')
  })

  it('warm() starts it on demand; crc jobs find a bad slice', async () => {
    const worker = new ChecksumWorker()
    await worker.warm()
    assert.equal(worker.offload(1), true)
    const payload = new Uint8Array(randomBytes(3000))
    const crcs = new Uint32Array([crc32(payload.subarray(0, 1000)) >>> 0, crc32(payload.subarray(1000, 2000)) >>> 0, 12345])
    const r = await worker.check({payload, offsets: new Float64Array([0, 1000, 2000]), lengths: new Float64Array([1000, 1000, 1000]), crcs})
    assert.equal(r.bad, 2)
    assert.equal(r.payload.byteLength, 3000)
  })

  it('without a thread to be had, jobs stay on the calling thread: offload says no, it does not throw', async () => {
    const Real = workerThreads.Worker
    let attempts = 0
    ;(workerThreads as {Worker: unknown}).Worker = function () {
      attempts++
      throw Object.assign(new Error('cannot start a thread'), {code: 'ERR_WORKER_INIT_FAILED'})
    }
    syncBuiltinESMExports()
    try {
      const worker = new ChecksumWorker()
      for (let i = 0; i < 12; i++) assert.equal(worker.offload(MiB), false)
      assert.equal(attempts, 1, 'tried once, not on every job')
      await assert.rejects(worker.warm(), /cannot start a thread/)
    } finally {
      ;(workerThreads as {Worker: unknown}).Worker = Real
      syncBuiltinESMExports()
    }
  })
})
