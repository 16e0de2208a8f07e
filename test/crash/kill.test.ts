// kill -9 of the real CLI at random moments of `lake add <dir>` + `lake commit`, and of `lake init`.
// After each kill: what was committed before is intact and materializes exactly, fsck is ok
// (dangling objects allowed), the next command works with no cleanup, and the killed commit is
// all or nothing. Kill times come from a seeded PRNG: rerun a failure with the LAKE_TEST_SEED it
// prints (timings still vary from run to run).
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {Dataset} from '../../src/index.js'
import {lake, lakeOk, prng, requireBuild, snapshotDir, startLake, testSeed, type LakeRun} from './cli.js'

const TRIALS = Number(process.env.LAKE_CRASH_TRIALS ?? 4)
const INIT_TRIALS = 4

interface Committed {
  id: string
  message: string
  files: Map<string, string>
}

/** Rewrites, adds and removes some files, so each add has work in every part of the import. */
async function mutate(data: string, rand: () => number, round: number, files: number): Promise<void> {
  await fs.mkdir(data, {recursive: true})
  const names = [...(await snapshotDir(data)).keys()]
  const pick = () => names[Math.floor(rand() * names.length)]
  for (let i = 0; i < files; i++) {
    const dir = path.join(data, `d${Math.floor(rand() * 8)}`)
    await fs.mkdir(dir, {recursive: true})
    await fs.writeFile(path.join(dir, `r${round}-${i}.bin`), randomBytes(8_000 + Math.floor(rand() * 40_000)))
  }
  for (let i = 0; i < Math.min(10, names.length / 4); i++) await fs.writeFile(path.join(data, pick()), randomBytes(1_000 + Math.floor(rand() * 20_000)))
  for (let i = 0; i < Math.min(8, names.length / 4); i++) await fs.rm(path.join(data, pick()), {force: true})
}

async function exportMatches(ds: Dataset, c: Committed, scratch: string): Promise<void> {
  const out = path.join(scratch, `export-${c.id.slice(0, 12)}-${Date.now()}`)
  await ds.exportTo(out, {rev: c.id, format: 'files'})
  assert.deepEqual(await snapshotDir(out), c.files, `export of ${c.message} (${c.id.slice(0, 12)}) is byte-identical to what was added`)
  await fs.rm(out, {recursive: true, force: true})
}

/**
 * A random moment of add + commit: mostly inside the part of add or commit after start-up (where
 * they write objects and events), sometimes anywhere, start-up included.
 */
function killTime(rand: () => number, t: {startup: number; add: number; commit: number}): number {
  const total = t.add + t.commit
  if (rand() < 0.15) return rand() * total
  const from = Math.min(t.startup * 0.8, t.add * 0.5)
  return rand() < 0.6 ? from + rand() * (t.add - from) : t.add + from + rand() * (t.commit - from) * 1.1
}

type Phase = 'add' | 'between' | 'commit' | 'none'

/** Runs add then commit, and kill -9s whichever is running `killAt` ms after the start. */
async function addCommitKilledAt(dsDir: string, data: string, message: string, killAt: number) {
  let current: ReturnType<typeof startLake> | undefined
  let fired = false
  const timer = setTimeout(() => {
    fired = true
    current?.child.kill('SIGKILL')
  }, killAt)
  try {
    current = startLake(['add', data, '-C', dsDir, '--json'])
    const add = await current.done
    if (add.signal === 'SIGKILL') return {phase: 'add' as Phase, add}
    assert.equal(add.code, 0, `add: ${add.stderr}`)
    if (fired) return {phase: 'between' as Phase, add}
    current = startLake(['commit', '-m', message, '-C', dsDir, '--json'])
    const commit: LakeRun = await current.done
    if (commit.signal === 'SIGKILL') return {phase: 'commit' as Phase, add, commit}
    assert.equal(commit.code, 0, `commit: ${commit.stderr}`)
    return {phase: 'none' as Phase, add, commit}
  } finally {
    clearTimeout(timer)
  }
}

describe('crash: kill -9 of the CLI', function () {
  this.timeout(240_000)
  const seed = testSeed()
  const rand = prng(seed)
  let root: string
  let dsDir: string
  let data: string
  const timing = {startup: 0, init: 0, add: 0, commit: 0}
  const committed: Committed[] = []

  before(async () => {
    requireBuild()
    console.log(`      crash seed ${seed} (reproduce: LAKE_TEST_SEED=${seed})`)
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'lake-crash-'))
    dsDir = path.join(root, 'ds')
    data = path.join(root, 'data')
    timing.init = (await lakeOk(['init', dsDir])).ms
    await mutate(data, rand, 0, 200) // ~5 MB in 200 files: an add takes about a second
    const files = await snapshotDir(data)
    timing.add = (await lakeOk(['add', data, '-C', dsDir, '--json'])).ms
    const commit = await lakeOk(['commit', '-m', 'base', '-C', dsDir, '--json'])
    timing.commit = commit.ms
    committed.push({id: commit.json.commit, message: 'base', files})
    timing.startup = (await lakeOk(['status', '-C', dsDir])).ms
    console.log(`      uninterrupted: status ${timing.startup.toFixed(0)} ms, init ${timing.init.toFixed(0)} ms, add ${timing.add.toFixed(0)} ms, commit ${timing.commit.toFixed(0)} ms`)
  })

  after(() => root && fs.rm(root, {recursive: true, force: true}))

  it(`add + commit killed at ${TRIALS} random moments: history intact, fsck ok, next command works, commit all-or-nothing`, async () => {
    const phases: string[] = []
    for (let trial = 0; trial < TRIALS; trial++) {
      await mutate(data, rand, trial + 1, 30)
      const files = await snapshotDir(data)
      const message = `trial-${trial}`
      const killAt = killTime(rand, timing)
      const {phase} = await addCommitKilledAt(dsDir, data, message, killAt)
      phases.push(`${killAt.toFixed(0)}ms→${phase}`)
      const what = `trial ${trial} (killed at ${killAt.toFixed(0)} ms, during ${phase})`

      // The next command works, with no cleanup.
      const status = await lake(['status', '-C', dsDir, '--json'])
      assert.equal(status.code, 0, `${what}: status after the kill: ${status.stderr}`)

      const ds = await Dataset.open(dsDir)
      try {
        const fsck = await ds.fsck()
        assert.ok(fsck.ok, `${what}: fsck ${JSON.stringify(fsck.problems)}`)
        const log = (await ds.log()).commits
        const before = committed.map((c) => c.id).reverse()
        const landed = log[0]?.message === message
        if (phase === 'none') assert.ok(landed, `${what}: a commit that exited 0 is in the log`)
        if (phase === 'add' || phase === 'between') assert.ok(!landed, `${what}: no commit ran`)
        assert.deepEqual(log.map((e) => e.commit).slice(landed ? 1 : 0), before, `${what}: the log holds exactly the earlier commits`)
        // Every earlier commit still opens with its tensors; one of them, at random, exports byte-identical.
        for (const c of committed) {
          const v = await ds.version(c.id)
          assert.deepEqual(v.tensors().map((t) => [t.name, t.length]), [['content', c.files.size], ['path', c.files.size]], `${what}: ${c.message}`)
        }
        await exportMatches(ds, committed[Math.floor(rand() * committed.length)], root)
        if (landed) {
          // A commit that made it is whole: it exports exactly what was added.
          const c = {id: log[0].commit, message, files}
          await exportMatches(ds, c, root)
          committed.push(c)
        }
      } finally {
        await ds.close()
      }
      if (!committed.some((c) => c.message === message)) {
        // Carry on as a user would: add again and commit.
        await lakeOk(['add', data, '-C', dsDir, '--json'])
        const commit = await lakeOk(['commit', '-m', message, '-C', dsDir, '--json'])
        committed.push({id: commit.json.commit, message, files})
      }
    }
    console.log(`      kills: ${phases.join(', ')}`)

    // In the end every commit ever made exports exactly, and fsck is clean.
    const ds = await Dataset.open(dsDir)
    try {
      for (const c of committed) await exportMatches(ds, c, root)
      const fsck = await ds.fsck()
      assert.ok(fsck.ok, JSON.stringify(fsck.problems))
      console.log(`      ${committed.length} commits intact; fsck: ${fsck.checked} objects, ${fsck.dangling} dangling`)
    } finally {
      await ds.close()
    }
  })

  it(`init killed at ${INIT_TRIALS} random moments leaves a whole dataset or none, and a new init works`, async () => {
    const outcomes: string[] = []
    let leftovers = 0
    for (let trial = 0; trial < INIT_TRIALS; trial++) {
      const dir = path.join(root, `init-${trial}`)
      // Mostly after node and the command's modules have loaded, where init does its work.
      const killAt = timing.startup * 0.7 + rand() * (timing.init - timing.startup * 0.7) * 1.1
      const run = startLake(['init', dir])
      const timer = setTimeout(() => run.child.kill('SIGKILL'), killAt)
      const result = await run.done
      clearTimeout(timer)
      const made = existsSync(path.join(dir, '.lake'))
      outcomes.push(`${killAt.toFixed(0)}ms→${result.signal ?? `exit ${result.code}`}${made ? ', dataset' : ', none'}`)
      if (!made) {
        assert.notEqual(result.code, 0, 'an init that reported success made the dataset')
        await lakeOk(['init', dir])
      } else {
        // Whole: a second init refuses, and the dataset works.
        const again = await lake(['init', dir, '--json'])
        assert.equal(again.code, 1)
        assert.equal(again.json?.error?.code, 'DATASET_EXISTS')
      }
      leftovers += existsSync(dir) ? (await fs.readdir(dir)).filter((n) => n.startsWith('.lake.init-')).length : 0
      const ds = await Dataset.open(dir)
      try {
        await ds.createTensor('n', {htype: 'generic', dtype: 'i32'})
        await ds.append('n', [trial])
        await ds.commit('works')
        assert.deepEqual(await (await ds.version('HEAD')).readRange('n', 0, 1), [trial])
        assert.ok((await ds.fsck()).ok)
      } finally {
        await ds.close()
      }
    }
    console.log(`      init kills: ${outcomes.join(', ')}; leftover .lake.init-* temp dirs: ${leftovers}`)
  })
})
