// Family 5, S3 faults (issue 7): push, pull, clone and lazy reads through a proxy injecting seeded
// 5xx, slow answers (past the client's timeout), connection resets and cut bodies. See harness.ts
// for the trial and what is checked. npm test: 1 trial; npm run torture: 30
// (LAKE_TORTURE_S3FAULTS=N overrides); LAKE_TORTURE_SEED repeats a run's fault plans.
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {prng, runs, seed as tortureSeed} from '../knobs.js'
import {snapshotDir} from '../../crash/cli.js'
import {assertRefused} from '../../helpers/cli.js'
import {assertFsckClean, freshUrl, Lake, remoteBranch, s3Env, s3Server} from '../../remote/helpers.js'
import {printReport, S3FaultHarness} from './harness.js'

const TRIALS = runs('s3faults', 1, 30)

describe('torture 5: S3 faults (5xx, slow answers, resets, cut bodies)', function () {
  this.timeout(60_000 + TRIALS * 60_000)
  const seed = tortureSeed()
  let root: string
  const rootDir = () => root

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

  // The rarest outcome, made on purpose: a ref write that lands while every answer to it is lost
  // (the first attempt's answer dropped, the retries refused by a failing service). The command
  // reports a failure although the ref moved; what the user does next must come out right.
  it('a ref write that landed though every answer was lost: the failed commit is settled by pull (nothing applied twice), the failed push by pushing again', async () => {
    const s3 = await s3Server()
    const root = new Lake(path.join(rootDir(), 'lost-ack'), s3Env(s3))
    root.write('p1/a.bin', 'one')
    root.write('p2/b.bin', 'two')
    const loseEveryAnswer = async (key: string) => {
      await s3.injectFault({method: 'PUT', keyEndsWith: key}, 'drop-response')
      for (let i = 0; i < 3; i++) await s3.injectFault({method: 'PUT', keyEndsWith: key}, {status: 500, code: 'InternalError'})
    }

    // a commit on S3 storage
    const {url, prefix} = freshUrl(s3, 'lost-ack')
    root.ok('init', 'd', '--storage', url)
    const d = root.at('d')
    d.ok('add', root.path('p1'), '--format', 'files', '--prefix', 'p1')
    d.ok('commit', '-m', 'c1')
    d.ok('add', root.path('p2'), '--format', 'files', '--prefix', 'p2')
    await loseEveryAnswer(`${prefix}refs/heads/main`)
    assertRefused(d.run(['commit', '-m', 'c2']), 1, ['refs/heads/main', 'S3 service failed'], {hint: true})
    const landed = await remoteBranch(s3, prefix)
    assert.deepEqual(d.json('log').commits.map((c: {message: string}) => c.message), ['c1'], 'the failed commit is not recorded here')
    assertRefused(d.run(['commit', '-m', 'c2 again']), 1, ['moved to', landed!.slice(0, 12)], {hint: 'pull'})
    d.ok('pull')
    assert.equal(d.json('status').clean, true, "after the pull nothing is staged: the landed commit's changes are not applied twice")
    assert.equal(d.json('log', '-n', '1').commits[0].commit, landed)
    d.ok('export', 'HEAD', '--to', root.path('d-out'))
    assert.deepEqual([...(await snapshotDir(root.path('d-out')))].map(([k]) => k), ['p1/a.bin', 'p2/b.bin'])
    await assertFsckClean(d)

    // a push
    const {url: url2, prefix: prefix2} = freshUrl(s3, 'lost-ack-push')
    d.ok('remote', 'add', 'other', url2)
    await loseEveryAnswer(`${prefix2}refs/heads/main`)
    assertRefused(d.run(['push', 'other']), 1, ['refs/heads/main'], {hint: true})
    assert.equal(await remoteBranch(s3, prefix2), landed, 'the ref moved all the same')
    assert.equal(d.json('push', 'other').upToDate, true, 'pushing again finds the remote up to date')
  })
})
