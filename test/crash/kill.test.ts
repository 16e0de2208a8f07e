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
import {lake, lakeOk, prng, requireBuild, snapshotDir, startLake, testSeed} from './cli.js'

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

/** Object files in the dataset (objects/xx/<hash>), and the store's leftover temp files. */
async function countObjects(dsDir: string): Promise<{objects: number; temp: number}> {
  const out = {objects: 0, temp: 0}
  const base = path.join(dsDir, '.lake', 'objects')
  for (const sub of await fs.readdir(base).catch(() => [])) {
    for (const name of await fs.readdir(path.join(base, sub)).catch(() => [] as string[])) {
      if (/^[0-9a-f]{40,}$/.test(name)) out.objects++
      else if (name.startsWith('.lake-')) out.temp++
    }
    if (sub.startsWith('.lake-')) out.temp++
  }
  return out
}

/**
 * When to kill: at a random time from the start of add (start-up included), when add has written
 * its n-th new object (mid-import), when commit has written its commit object (just before or
 * just after its event), or at a random time into commit. Object triggers follow the work itself,
 * so they hit the same windows however loaded the machine is.
 */
type Trigger =
  | {kind: 'time'; ms: number}
  | {kind: 'add-objects'; n: number}
  | {kind: 'commit-object'}
  | {kind: 'commit-time'; ms: number}

function pickTrigger(rand: () => number, t: {add: number; commit: number; addObjects: number}): Trigger {
  const r = rand()
  if (r < 0.25) return {kind: 'time', ms: rand() * (t.add + t.commit)}
  if (r < 0.65) return {kind: 'add-objects', n: 1 + Math.floor(rand() * t.addObjects)}
  if (r < 0.85) return {kind: 'commit-object'}
  return {kind: 'commit-time', ms: rand() * t.commit}
}

const describeTrigger = (t: Trigger) => ('ms' in t ? `${t.kind} ${t.ms.toFixed(0)}ms` : 'n' in t ? `${t.kind} ${t.n}` : t.kind)

/** Kills the child when `when` says so (polled), or leaves it alone once it exits. */
function killWhen(child: ReturnType<typeof startLake>, when: () => Promise<boolean>): void {
  let exited = false
  void child.done.then(() => (exited = true))
  void (async () => {
    while (!exited) {
      if (await when()) {
        child.child.kill('SIGKILL')
        return
      }
      await new Promise((r) => setTimeout(r, 2))
    }
  })()
}

type Phase = 'add' | 'commit' | 'none'

/** Runs add then commit, and kill -9s one of them as the trigger says. */
async function addCommitKilled(dsDir: string, data: string, message: string, trigger: Trigger) {
  const started = performance.now()
  const objectsAtStart = (await countObjects(dsDir)).objects
  const add = startLake(['add', data, '-C', dsDir, '--json'])
  if (trigger.kind === 'time') killWhen(add, async () => performance.now() - started >= trigger.ms)
  if (trigger.kind === 'add-objects') killWhen(add, async () => (await countObjects(dsDir)).objects >= objectsAtStart + trigger.n)
  const addRun = await add.done
  if (addRun.signal === 'SIGKILL') return 'add' as Phase
  assert.equal(addRun.code, 0, `add: ${addRun.stderr}`)
  const objectsAfterAdd = (await countObjects(dsDir)).objects
  const commitStarted = performance.now()
  const commit = startLake(['commit', '-m', message, '-C', dsDir, '--json'])
  if (trigger.kind === 'time') killWhen(commit, async () => performance.now() - started >= trigger.ms)
  if (trigger.kind === 'commit-time') killWhen(commit, async () => performance.now() - commitStarted >= trigger.ms)
  if (trigger.kind === 'commit-object') killWhen(commit, async () => (await countObjects(dsDir)).objects > objectsAfterAdd)
  const commitRun = await commit.done
  if (commitRun.signal === 'SIGKILL') return 'commit' as Phase
  assert.equal(commitRun.code, 0, `commit: ${commitRun.stderr}`)
  return 'none' as Phase
}

describe('crash: kill -9 of the CLI', function () {
  this.timeout(240_000)
  const seed = testSeed()
  const rand = prng(seed)
  let root: string
  let dsDir: string
  let data: string
  const timing = {startup: 0, init: 0, add: 0, commit: 0, addObjects: 0}
  const committed: Committed[] = []

  before(async () => {
    await requireBuild()
    console.log(`      crash seed ${seed} (reproduce: LAKE_TEST_SEED=${seed})`)
    root = await fs.mkdtemp(path.join(process.env.LAKE_TEST_TMP ?? os.tmpdir(), 'lake-crash-'))
    dsDir = path.join(root, 'ds')
    data = path.join(root, 'data')
    timing.init = (await lakeOk(['init', dsDir])).ms
    // Small chunks: an add writes many objects, so a kill lands between many different writes.
    await lakeOk(['config', 'chunk.size', '65536', '-C', dsDir])
    await mutate(data, rand, 0, 200) // ~5 MB in 200 files: an add takes about a second
    let files = await snapshotDir(data)
    await lakeOk(['add', data, '-C', dsDir, '--json'])
    let commit = await lakeOk(['commit', '-m', 'base', '-C', dsDir, '--json'])
    committed.push({id: commit.json.commit, message: 'base', files})
    // Calibrate on an add like the trials' ones.
    await mutate(data, rand, 0.5, 30)
    files = await snapshotDir(data)
    const objectsBefore = (await countObjects(dsDir)).objects
    timing.add = (await lakeOk(['add', data, '-C', dsDir, '--json'])).ms
    timing.addObjects = (await countObjects(dsDir)).objects - objectsBefore
    commit = await lakeOk(['commit', '-m', 'calibration', '-C', dsDir, '--json'])
    timing.commit = commit.ms
    committed.push({id: commit.json.commit, message: 'calibration', files})
    timing.startup = (await lakeOk(['status', '-C', dsDir])).ms
    console.log(`      uninterrupted: add writes ${timing.addObjects} objects; status ${timing.startup.toFixed(0)} ms, init ${timing.init.toFixed(0)} ms, add ${timing.add.toFixed(0)} ms, commit ${timing.commit.toFixed(0)} ms`)
  })

  after(() => root && fs.rm(root, {recursive: true, force: true}))

  it(`add + commit killed at ${TRIALS} random moments: history intact, fsck ok, next command works, commit all-or-nothing`, async () => {
    const phases: string[] = []
    for (let trial = 0; trial < TRIALS; trial++) {
      await mutate(data, rand, trial + 1, 30)
      const files = await snapshotDir(data)
      const message = `trial-${trial}`
      const trigger = pickTrigger(rand, timing)
      const phase = await addCommitKilled(dsDir, data, message, trigger)
      const what = `trial ${trial} (kill on ${describeTrigger(trigger)}, killed during ${phase})`

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
        if (phase === 'add') assert.ok(!landed, `${what}: no commit ran`)
        phases.push(`${describeTrigger(trigger)}→${phase}${phase === 'commit' ? (landed ? ' (landed)' : ' (not landed)') : ''}`)
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
      console.log(`      ${committed.length} commits intact; fsck: ${fsck.checked} objects, ${fsck.dangling} dangling; store temp files left: ${(await countObjects(dsDir)).temp}`)
    } finally {
      await ds.close()
    }
  })

  it(`init killed at ${INIT_TRIALS} random moments leaves a whole dataset or none, and a new init works`, async () => {
    const outcomes: string[] = []
    let leftovers = 0
    for (let trial = 0; trial < INIT_TRIALS; trial++) {
      const dir = path.join(root, `init-${trial}`)
      // Half the kills at a random time (mostly start-up), half a few ms after init made its temp dir.
      const run = startLake(['init', dir])
      const started = performance.now()
      let trigger: string
      if (trial % 2 === 0) {
        const ms = rand() * timing.init
        trigger = `time ${ms.toFixed(0)}ms`
        killWhen(run, async () => performance.now() - started >= ms)
      } else {
        const delay = rand() * 30
        trigger = `temp dir + ${delay.toFixed(0)}ms`
        let seen = 0
        killWhen(run, async () => {
          if (!seen && (await fs.readdir(dir).catch(() => [] as string[])).some((n) => n.startsWith('.lake.init-'))) seen = performance.now()
          return seen > 0 && performance.now() - seen >= delay
        })
      }
      const result = await run.done
      const made = existsSync(path.join(dir, '.lake'))
      outcomes.push(`${trigger}→${result.signal ?? `exit ${result.code}`}${made ? ', dataset' : ', none'}`)
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
