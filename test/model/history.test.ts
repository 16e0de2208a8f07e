// Model-based test of the version graph: random sequences of edits, commits, branches, tags and
// checkouts run through the library API against the plain model of model.ts. After each sequence
// every commit ever made must materialize exactly by id, by tag, by `<branch>@{time}` and (spot
// checks) by `@{N}`. Reproduce a failure with the seed it prints:
//   LAKE_TEST_SEED=123 [LAKE_TEST_PATH=...] npx mocha test/model/history.test.ts
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {sequenceArb, type ValueOpts} from './model.js'
import {newStats, runSequence} from './runner.js'

const SEED = process.env.LAKE_TEST_SEED ? Number(process.env.LAKE_TEST_SEED) : Math.floor(Math.random() * 2 ** 31)
const RUNS = Number(process.env.LAKE_MODEL_RUNS ?? 25)

function check(o: ValueOpts & {chunkSize?: number}, runs: number, maxOps: number, seed: number) {
  const stats = newStats()
  return fc.assert(
    fc.asyncProperty(sequenceArb(o, maxOps), (seq) => runSequence(seq, o, stats)),
    {seed, numRuns: runs, path: process.env.LAKE_TEST_PATH, endOnFailure: process.env.LAKE_TEST_SHRINK !== '1'},
  ).then(() => {
    console.log(`      ${JSON.stringify(stats)}`)
    return stats
  })
}

describe('model: version history through the library API', function () {
  this.timeout(300_000)
  before(() => console.log(`      model seed ${SEED} (reproduce: LAKE_TEST_SEED=${SEED}; LAKE_TEST_SHRINK=1 to shrink)`))

  it(`every commit materializes by id, tag, <branch>@{time} and @{N} (${RUNS} sequences × ≤30 ops)`, async () => {
    const stats = await check({big: false}, RUNS, 30, SEED)
    assert.ok(stats.commits > 0, `the sequences commit (${JSON.stringify(stats)})`)
  })

  it('the same with chunk.size 1024 and larger samples (many chunks)', async () => {
    const stats = await check({big: true, chunkSize: 1024}, Math.max(1, Math.round(RUNS / 2)), 30, SEED + 1)
    assert.ok(stats.commits > 0, JSON.stringify(stats))
  })
})
