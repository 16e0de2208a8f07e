// Family 2, concurrency (issue 7): C clones of one S3 dataset (s3rver behind the proxy that
// enforces If-Match / If-None-Match like AWS) push to it at the same time, in rounds: each clone
// appends its own values and commits, then pushes; a push refused with REMOTE_MOVED pulls (a
// merge by sample identity) and pushes again. Afterwards no commit is lost: a fresh clone --full
// holds every commit any clone made (its own and its merges), HEAD holds every appended value
// exactly once, and fsck is clean there and in every clone. Every failure on the way is a clean
// REMOTE_MOVED; no process runs past its cap.
// npm test: 2 clones × 2 rounds; npm run torture: 4 × 10 (LAKE_TORTURE_RACE_CLONES / _ROUNDS).
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {Dataset} from '../../../src/index.js'
import {requireBuild} from '../../crash/cli.js'
import {freshUrl, s3Env, s3Server} from '../../remote/helpers.js'
import {runs} from '../knobs.js'
import {assertClean, describeRan, errorCode, runCapped, tally, type Ran} from './run.js'

const CLONES = runs('race_clones', 2, 4)
const ROUNDS = runs('race_rounds', 2, 10)
const CAP_MS = 120_000
/** A clone that keeps losing the race gives up after this many attempts: a livelock, not a pass. */
const MAX_ATTEMPTS = 40

describe('torture 2: concurrency — clones pushing to one S3 remote', function () {
  this.timeout(180_000 + CLONES * ROUNDS * 30_000)
  let root: string

  before(async () => {
    await requireBuild()
    root = await fs.mkdtemp(path.join(process.env.LAKE_TEST_TMP ?? os.tmpdir(), 'lake-torture-race-'))
  })
  after(() => root && fs.rm(root, {recursive: true, force: true}))

  it(`${CLONES} clones × ${ROUNDS} rounds of concurrent push, pull-on-reject: no commit lost, fresh clone --full fscks clean`, async () => {
    const s3 = await s3Server()
    const {url, prefix} = freshUrl(s3, 'torture-race')
    const env = {...s3Env(s3), LAKE_LOCK_TIMEOUT: '30'}
    const t0 = performance.now()
    const all: Ran[] = []
    const lake = async (who: string, args: string[], cwd: string) => {
      const r = await runCapped(who, args, {cwd, env, capMs: CAP_MS, t0})
      all.push(r)
      assertClean(r, ['REMOTE_MOVED'])
      return r
    }
    const must = async (who: string, args: string[], cwd: string) => {
      const r = await lake(who, args, cwd)
      assert.equal(r.run.code, 0, describeRan(r))
      return r.run.json
    }

    const seedDir = path.join(root, 'seed')
    const ds = await Dataset.init(seedDir)
    let base: string
    try {
      await ds.createTensor('t', {htype: 'generic', dtype: 'i64'})
      await ds.append('t', [0])
      base = (await ds.commit('base')).commit
    } finally {
      await ds.close()
    }
    await must('seed', ['remote', 'add', 'origin', url], seedDir)
    await must('seed', ['push'], seedDir)
    const clones = Array.from({length: CLONES}, (_, k) => path.join(root, `c${k}`))
    for (const [k, dir] of clones.entries()) await must(`c${k}`, ['clone', url, dir], root)

    const made = new Set<string>([base]) // every commit any clone made (commits and merges)
    const values = [0]
    let attempts = 0
    let rejected = 0
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(clones.map(async (dir, k) => {
        const who = `c${k}/r${round}`
        const value = (k + 1) * 1000 + round
        await must(who, ['append', '--tensor', 't', '--value', String(value)], dir)
        made.add((await must(who, ['commit', '-m', `c${k} r${round}`], dir)).commit)
        values.push(value)
        for (let attempt = 1; ; attempt++) {
          assert.ok(attempt <= MAX_ATTEMPTS, `${who}: still not pushed after ${MAX_ATTEMPTS} attempts`)
          attempts++
          const push = await lake(who, ['push'], dir)
          if (push.run.code === 0) break
          assert.equal(errorCode(push), 'REMOTE_MOVED', describeRan(push))
          rejected++
          const pulled = await must(who, ['pull'], dir)
          assert.deepEqual(pulled.conflicts ?? [], [], `${who}: appends never conflict`)
          made.add(pulled.commit)
        }
      }))
    }
    const elapsed = performance.now() - t0

    // A fresh full clone: every commit made anywhere, every value once, fsck clean.
    const fresh = path.join(root, 'fresh')
    await must('fresh', ['clone', url, fresh, '--full'], root)
    const check = await Dataset.open(fresh)
    try {
      const log = new Set((await check.log({rev: 'main'})).commits.map((c) => c.commit))
      for (const id of made) assert.ok(log.has(id), `commit ${id} is on the remote's main`)
      const head = await check.version('main')
      const atHead = (await head.readRange('t', 0, head.length('t'))).map(Number)
      assert.deepEqual([...atHead].sort((a, b) => a - b), [...values].sort((a, b) => a - b), 'every appended value exactly once')
      const fsck = await check.fsck()
      assert.ok(fsck.ok, JSON.stringify(fsck.problems))
      console.log(`      ${CLONES} clones × ${ROUNDS} rounds in ${(elapsed / 1000).toFixed(0)} s: ${attempts} pushes, ${rejected} refused (REMOTE_MOVED) and retried after a pull; ${made.size} commits made, all ${log.size >= made.size ? 'on the remote' : 'MISSING'}; ${values.length} values at HEAD; fresh clone fsck ${fsck.checked} objects ok`)
    } finally {
      await check.close()
    }
    // The clones are lazy (they read through to S3): their fsck runs in the CLI, with the S3 environment.
    for (const [k, dir] of clones.entries()) {
      const fsck = await must(`c${k}`, ['fsck'], dir)
      assert.deepEqual(fsck.problems, [], `${dir}: fsck`)
    }
    // The branch moved only by conditional PUTs; a race lost at the PUT itself is a 412.
    const refPuts = (await s3.requests(`${prefix}refs/heads/main`)).filter((r) => r.method === 'PUT')
    assert.ok(refPuts.every((r) => r.ifMatch !== undefined || r.ifNoneMatch === '*'), 'every ref write is conditional')
    assert.equal(refPuts.filter((r) => r.status === 200).length, all.filter((r) => r.args[0] === 'push' && r.run.code === 0).length, 'one ref write per successful push')
    console.log(`      remote ref PUTs: ${JSON.stringify(tally(refPuts.map((r) => String(r.status))))} (412: lost the race at the compare-and-swap itself; the other refusals saw the new ref before writing)`)
    console.log(`      commands: ${JSON.stringify(tally(all.map((r) => `${r.args[0]}:${r.run.code === 0 ? 'ok' : errorCode(r)}`)))}`)
  })
})
