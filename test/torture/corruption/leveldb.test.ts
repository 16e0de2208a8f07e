// Family 4, a damaged event database: the LevelDB in .lake/db (the hash-chained event log and
// its projections: refs, HEAD, reflog, staged state, commit graph) gets one file flipped,
// zeroed, truncated or deleted, seeded. Opening the dataset, fsck, status, log and revision
// lookups must then either work on the intact state or fail with a lake error carrying a hint
// (never a raw LevelDB error or a stack), and fsck must not call a changed state ok. Each case
// is classified: refused (a lake error), reported (fsck problems), harmless (state as before),
// or silent (state changed, nobody noticed: what LevelDB's recovery can do to the tail of its
// write-ahead log, whose damaged records it drops without an error).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {Repo} from '../../../src/core/repo/repo.js'
import {fsck, repairEventDb} from '../../../src/core/ops/fsck.js'
import {checkLevelTables} from '../../../src/core/events/level-files.js'
import {resolve} from '../../../src/core/ops/state.js'
import {datasetState} from '../../helpers/state.js'
import {describeRun, runLake} from '../../helpers/cli.js'
import {FULL, prng, runs, seed} from '../knobs.js'
import {assertLakeError} from '../hostile/check.js'
import {makeFixture, type Fixture} from './fixture.js'

const SEED = seed()
const FAULTS = ['flip', 'zero', 'truncate', 'delete', 'garbage'] as const
type Outcome = 'refused' | 'reported' | 'harmless' | 'silent'

function damageDb(dir: string, rnd: () => number): string {
  const db = path.join(dir, '.lake', 'db')
  const files = fs.readdirSync(db).filter((f) => f !== 'LOCK' && !f.startsWith('LOG')).sort()
  const name = files[Math.floor(rnd() * files.length)]
  const file = path.join(db, name)
  const fault = FAULTS[Math.floor(rnd() * FAULTS.length)]
  const bytes = fs.readFileSync(file)
  const at = Math.floor(rnd() * Math.max(1, bytes.length))
  if (fault === 'delete') fs.rmSync(file)
  else if (fault === 'truncate') fs.truncateSync(file, at)
  else if (fault === 'garbage') fs.writeFileSync(file, Buffer.from('not what leveldb wrote\n'))
  else {
    if (fault === 'flip') bytes[at] ^= 1 + Math.floor(rnd() * 255)
    else bytes.fill(0, Math.min(at, bytes.length), Math.min(bytes.length, at + 1 + Math.floor(rnd() * 32)))
    fs.writeFileSync(file, bytes)
  }
  return `${fault} ${name} (${bytes.length} bytes) at ${at}`
}

describe('torture 4: damaged event database (LevelDB)', function () {
  this.timeout(FULL ? 0 : 60_000)
  let fx: Fixture
  let pristine: Awaited<ReturnType<typeof datasetState>>
  const counts: Record<Outcome, number> = {refused: 0, reported: 0, harmless: 0, silent: 0}
  /** What fsck --repair made of the cases that were not harmless. */
  const repairs = {restored: 0, older: 0, refused: 0}
  const silent: string[] = []

  before(async () => {
    fx = await makeFixture()
    pristine = await datasetState(fx.dir)
  })
  after(() => {
    fs.rmSync(path.dirname(fx.dir), {recursive: true, force: true})
    console.log(`damaged event database (seed ${SEED}): ${JSON.stringify(counts)}, after --repair: ${JSON.stringify(repairs)}${silent.length ? `\n  silent: ${silent.slice(0, 10).join('\n  silent: ')}` : ''}`)
  })

  it('every damaged LevelDB file: a lake error with a hint, fsck problems, or the intact state; then fsck --repair', async () => {
    assert.deepEqual(await checkLevelTables(path.join(fx.dir, '.lake', 'db')), [], 'the table check passes intact tables')
    const rnd = prng(SEED)
    const n = runs('CORRUPTION_DB', 10, 400)
    for (let c = 0; c < n; c++) {
      const dir = path.join(fs.mkdtempSync(path.join(path.dirname(fx.dir), 'db-case-')), 'ds')
      fs.cpSync(fx.dir, dir, {recursive: true})
      const fault = damageDb(dir, rnd)
      const what = `case ${c} (seed ${SEED}): ${fault}`
      if (process.env.LAKE_TORTURE_TRACE) console.error(what)
      const lake = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
        try {
          return await fn()
        } catch (err) {
          assertLakeError(err, what)
          assert.ok(err.hint, `${what}: ${err.code} without a hint: ${err.message}`)
          return undefined
        }
      }
      let outcome: Outcome
      const repo = await Repo.open(dir)
      try {
        const report = await lake(() => fsck(repo))
        const tableDamage = report?.problems.some((p) => p.object.startsWith('leveldb table')) ?? false
        // With a damaged table only fsck may read the database (LevelDB can abort on one).
        const state = tableDamage ? undefined : await lake(async () => {
          for (const rev of ['v1', 'side', 'HEAD', 'main~1']) await resolve(repo, rev)
          return datasetState(dir)
        })
        if (report === undefined || state === undefined) outcome = report === undefined ? 'refused' : 'reported'
        else if (!report.ok) outcome = 'reported'
        else if (JSON.stringify(state) === JSON.stringify(pristine)) outcome = 'harmless'
        else {
          outcome = 'silent'
          silent.push(fault)
        }
        counts[outcome]++
        if (outcome === 'harmless') continue
        // fsck --repair: rebuilds what the log allows, or refuses with a hint.
        const repaired = await lake(() => repairEventDb(repo))
        if (repaired === undefined) {
          repairs.refused++
          continue
        }
        const again = await fsck(repo)
        assert.ok(again.ok, `${what}: fsck after a successful repair: ${JSON.stringify(again.problems)}`)
        const state2 = await datasetState(dir)
        if (JSON.stringify(state2) === JSON.stringify(pristine)) repairs.restored++
        else repairs.older++
      } finally {
        await repo.close()
        fs.rmSync(path.dirname(dir), {recursive: true, force: true})
      }
    }
  })

  it('through the CLI: fsck, log, status and fsck --repair exit 0 or 1 with an error and hint, no stack', () => {
    const rnd = prng(SEED + 1)
    const n = runs('CORRUPTION_DB_CLI', 1, 30)
    const plain = (r: ReturnType<typeof runLake>) => {
      assert.ok(r.code === 0 || r.code === 1, describeRun(r))
      assert.doesNotMatch(r.stderr, /^\s+at |TypeError|RangeError|LEVEL_/m, describeRun(r))
      if (r.code === 1 && r.error !== undefined && !/fsck found/.test(r.error)) {
        assert.ok(r.hint, `no hint: ${describeRun(r)}`)
        assert.notEqual(r.json<{error: {code: string}}>().error.code, 'INTERNAL', describeRun(r))
      }
    }
    for (let c = 0; c < n; c++) {
      const dir = path.join(fs.mkdtempSync(path.join(path.dirname(fx.dir), 'db-cli-')), 'ds')
      fs.cpSync(fx.dir, dir, {recursive: true})
      damageDb(dir, rnd)
      const report = runLake(['fsck', '--json'], {cwd: dir})
      plain(report)
      // After fsck named a damaged table, only fsck may touch the database (LevelDB can abort on one).
      const tableDamage = /leveldb table/.test(report.stdout)
      if (!tableDamage) for (const args of [['log', '--json'], ['status', '--json']]) plain(runLake(args, {cwd: dir}))
      if (report.code !== 0) {
        const repaired = runLake(['fsck', '--repair', '--json'], {cwd: dir})
        plain(repaired)
        if (repaired.code === 0) plain(runLake(['log', '--json'], {cwd: dir}))
      }
      fs.rmSync(path.dirname(dir), {recursive: true, force: true})
    }
  })
})
