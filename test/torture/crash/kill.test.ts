// Family 1, crash trials (issue 7): kill -9 of add, commit, merge, push, gc, checkout and tag at
// seeded moments, on one dataset carried across trials (a fresh one every EPOCH trials). See
// harness.ts for what is checked after each kill. npm test: a handful of trials; npm run torture:
// 1000 (LAKE_TORTURE_CRASH=N overrides).
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {requireBuild} from '../../crash/cli.js'
import {prng, runs, seed as tortureSeed} from '../knobs.js'
import {S3Store} from '../../../src/core/storage/s3.js'
import {freshUrl, s3Env, s3Server} from '../../remote/helpers.js'
import {CrashHarness, type CrashReport} from './harness.js'

const TRIALS = runs('crash', 6, 1000)
const S3_TRIALS = runs('crash_s3', 1, 50)
const EPOCH = 50

describe('torture 1: crash trials (kill -9 at seeded moments)', function () {
  this.timeout(60_000 + (TRIALS + S3_TRIALS) * 10_000)
  const seed = tortureSeed()
  let root: string

  before(async () => {
    await requireBuild()
    root = await fs.mkdtemp(path.join(process.env.LAKE_TEST_TMP ?? os.tmpdir(), 'lake-torture-crash-'))
  })
  after(() => root && fs.rm(root, {recursive: true, force: true}))

  it(`${TRIALS} trials: recorded commits intact and exact, fsck clean, next command works, killed command all-or-nothing`, async () => {
    console.log(`      crash seed ${seed} (reproduce: LAKE_TORTURE_SEED=${seed}; kill points repeat, wall-clock kills vary)`)
    const h = new CrashHarness(root, seed, prng(seed))
    const t0 = performance.now()
    const outcomes = new Map<string, number>()
    for (let n = 0; n < TRIALS; n++) {
      if (n % EPOCH === 0) {
        if (n > 0) await h.closeEpoch()
        await h.newEpoch()
      }
      const o = await h.trial(n)
      outcomes.set(o, (outcomes.get(o) ?? 0) + 1)
      if (TRIALS > 50 && (n + 1) % 50 === 0) console.log(`      ${n + 1}/${TRIALS} trials, ${((performance.now() - t0) / 1000).toFixed(0)} s`)
    }
    await h.finish()
    h.report.ms = performance.now() - t0
    assert.ok(summarize(h.report, outcomes) > 0, 'some command was killed')
  })

  it(`${S3_TRIALS} pushes to S3 (s3rver behind the CAS proxy) killed: the remote ref moves only to a whole commit, the next push works`, async () => {
    const s3 = await s3Server()
    const h = new CrashHarness(await fs.mkdir(path.join(root, 's3'), {recursive: true}).then(() => path.join(root, 's3')), seed, prng(seed + 1), {
      kinds: ['push'],
      remote: {url: () => freshUrl(s3, 'crash').url, open: (url) => new S3Store(url, s3.storeOptions()), env: s3Env(s3)},
    })
    const outcomes = new Map<string, number>()
    const t0 = performance.now()
    await h.newEpoch()
    for (let n = 0; n < S3_TRIALS; n++) {
      const o = await h.trial(n)
      outcomes.set(o, (outcomes.get(o) ?? 0) + 1)
    }
    await h.finish()
    h.report.ms = performance.now() - t0
    summarize(h.report, outcomes)
  })
})

/** Prints the run's figures; returns how many commands were killed. */
function summarize(r: CrashReport, outcomes: Map<string, number>): number {
  const killed = Object.values(r.perKind).reduce((s, k) => s + k.killed, 0)
  const kinds = Object.fromEntries(Object.entries(r.perKind).filter(([, k]) => k.trials > 0))
  console.log(`      ${r.trials} trials in ${(r.ms / 1000).toFixed(0)} s over ${r.epochs} datasets: ${killed} killed; ${r.commits} commits, ${r.tags} tags, ${r.pushes} pushes recorded, all intact`)
  console.log(`      per kind: ${JSON.stringify(kinds)}`)
  console.log(`      outcomes: ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}`)
  console.log(`      time (s): ${JSON.stringify(Object.fromEntries(Object.entries(r.phaseMs).map(([k, v]) => [k, Math.round(v / 1000)])))}`)
  return killed
}
