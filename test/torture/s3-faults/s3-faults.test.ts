// Family 5, S3 faults (issue 7): push, pull, clone and lazy reads through a proxy injecting seeded
// 5xx, slow answers (past the client's timeout), connection resets and cut bodies. See harness.ts
// for the trial and what is checked. npm test: 1 trial; npm run torture: 30
// (LAKE_TORTURE_S3FAULTS=N overrides); LAKE_TORTURE_SEED repeats a run's fault plans.
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {prng, runs, seed as tortureSeed} from '../knobs.js'
import {s3Server} from '../../remote/helpers.js'
import {printReport, S3FaultHarness} from './harness.js'

const TRIALS = runs('s3faults', 1, 30)

describe('torture 5: S3 faults (5xx, slow answers, resets, cut bodies)', function () {
  this.timeout(60_000 + TRIALS * 60_000)
  const seed = tortureSeed()
  let root: string

  before(async () => {
    root = await fs.mkdtemp(path.join(process.env.LAKE_TEST_TMP ?? os.tmpdir(), 'lake-torture-s3faults-'))
  })
  after(() => root && fs.rm(root, {recursive: true, force: true}))

  it(`${TRIALS} trials: every command succeeds exactly or fails clearly; the remote never shows a half-visible commit`, async () => {
    console.log(`      s3-faults seed ${seed} (reproduce: LAKE_TORTURE_SEED=${seed}; the k-th request of each step meets the same fault)`)
    const h = new S3FaultHarness(await s3Server(), root, seed, prng(seed))
    const t0 = performance.now()
    await h.setup()
    for (let n = 0; n < TRIALS; n++) {
      await h.trial(n)
      if (TRIALS > 10 && (n + 1) % 10 === 0) console.log(`      ${n + 1}/${TRIALS} trials, ${((performance.now() - t0) / 1000).toFixed(0)} s`)
    }
    h.report.ms = performance.now() - t0
    printReport(seed, h.report)
    assert.deepEqual(h.report.violations, [])
    const faults = Object.values(h.report.injected).reduce((a, b) => a + b, 0)
    assert.ok(faults > 0, 'faults were injected')
  })
})
