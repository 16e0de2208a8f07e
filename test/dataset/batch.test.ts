// Dataset.batch: operations inside share one open event log; each keeps its own commit point, and
// other processes wait for the dataset until the batch ends.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Dataset} from '../../src/index.js'
import {runLakeAsync} from '../helpers/cli.js'

describe('Dataset.batch', function () {
  this.timeout(60_000)
  let dir: string
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-batch-'))
    const ds = await Dataset.init(dir)
    await ds.createTensor('x', {htype: 'generic', dtype: 'i32'})
    await ds.append('x', [0, 1, 2, 3, 4])
    await ds.commit('base')
    await ds.close()
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('runs many changes, a commit and a tag; every one is there after, as without a batch', async () => {
    const ds = await Dataset.open(dir)
    try {
      const result = await ds.batch(async (d) => {
        for (let i = 0; i < 5; i++) await d.update('x', i, 10 + i)
        await d.append('x', [99])
        const c = await d.commit('in a batch')
        await d.tag('t1')
        return c.commit
      })
      assert.equal(await ds.resolve('t1'), result)
      assert.deepEqual(Array.from(await (await ds.version('t1')).column('x')), [10, 11, 12, 13, 14, 99])
      assert.deepEqual(Array.from(await (await ds.version('HEAD~1')).column('x')), [0, 1, 2, 3, 4])
      // nested batches and plain calls after a batch work too
      await ds.batch((d) => d.batch((e) => e.update('x', 0, 7)))
      await ds.commit('after')
      assert.equal(Number((await (await ds.version('HEAD')).column('x'))[0]), 7)
    } finally {
      await ds.close()
    }
    const log = await runLakeAsync(['log', '--json'], {cwd: dir})
    assert.equal(log.code, 0, log.stderr)
    assert.deepEqual(JSON.parse(log.stdout).commits.map((c: {message: string}) => c.message), ['after', 'in a batch', 'base'])
  })

  it('another process waits for the dataset while a batch holds it, and gets it after', async () => {
    const ds = await Dataset.open(dir)
    try {
      await ds.batch(async (d) => {
        await d.update('x', 0, 5)
        const blocked = await runLakeAsync(['status', '--json'], {cwd: dir, env: {LAKE_LOCK_TIMEOUT: '0.5'}})
        assert.notEqual(blocked.code, 0, 'status ran while the batch held the dataset')
      })
      const after = await runLakeAsync(['status', '--json'], {cwd: dir, env: {LAKE_LOCK_TIMEOUT: '5'}})
      assert.equal(after.code, 0, after.stderr)
      assert.equal(JSON.parse(after.stdout).clean, false, 'the update inside the batch is staged')
    } finally {
      await ds.close()
    }
  })
})
