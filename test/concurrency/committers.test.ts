// Several `lake` processes writing one dataset at once, and a process that holds the dataset.
// Every command succeeds or fails with a clean lake error; no acknowledged commit or appended value
// is lost; fsck and the event chain stay clean; a held dataset makes others wait, or time out
// cleanly with LOCK_TIMEOUT.
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {Dataset} from '../../src/index.js'
import {openEventDb, verifyChain} from '../../src/core/events/index.js'
import {lake, lakeOk, requireBuild, startLake, type LakeRun} from '../crash/cli.js'
import {FAST_TMP} from '../model/runner.js'

const WRITERS = 4
const LOOPS = Number(process.env.LAKE_CONCURRENCY_LOOPS ?? 5)

interface Done {
  writer: number
  args: string[]
  run: LakeRun
  start: number
  end: number
}

/** exit 0, or exit 1 with an `error:` line and a lake error code in the --json output. */
function assertClean(d: Done): void {
  const what = `writer ${d.writer}: lake ${d.args.join(' ')} → exit ${d.run.code ?? d.run.signal}\n${d.run.stderr}${d.run.stdout}`
  if (d.run.code === 0) return
  assert.equal(d.run.code, 1, what)
  assert.match(d.run.stderr, /^error: .+/m, what)
  assert.ok(typeof d.run.json?.error?.code === 'string' && d.run.json.error.code !== 'INTERNAL', what)
}

describe('concurrency: several lake processes on one dataset', function () {
  this.timeout(300_000) // 40 node start-ups: slow on a busy machine
  let root: string
  let dsDir: string
  const env = {LAKE_LOCK_TIMEOUT: '30'}

  before(async () => {
    await requireBuild()
    root = await fs.mkdtemp(path.join(FAST_TMP, 'lake-conc-'))
    dsDir = path.join(root, 'ds')
    await lakeOk(['init', dsDir])
    await lakeOk(['tensor', 'create', 't', '--htype', 'generic', '--dtype', 'i32', '-C', dsDir])
    await lakeOk(['commit', '-m', 'create t', '-C', dsDir])
  })
  after(() => root && fs.rm(root, {recursive: true, force: true}))

  it(`${WRITERS} processes × ${LOOPS} append + commit: nothing acknowledged is lost`, async () => {
    const t0 = performance.now()
    const done: Done[] = []
    const cmd = async (writer: number, args: string[]) => {
      const start = performance.now()
      const run = await lake([...args, '-C', dsDir, '--json'], {env})
      const d = {writer, args, run, start, end: performance.now()}
      done.push(d)
      return d
    }
    await Promise.all(Array.from({length: WRITERS}, async (_, p) => {
      for (let i = 0; i < LOOPS; i++) {
        await cmd(p, ['append', '--tensor', 't', '--value', String(p * 1000 + i)])
        await cmd(p, ['commit', '-m', `p${p}-${i}`])
      }
    }))
    const elapsed = performance.now() - t0
    for (const d of done) assertClean(d)

    const appends = done.filter((d) => d.args[0] === 'append')
    const commits = done.filter((d) => d.args[0] === 'commit')
    const okAppends = appends.filter((d) => d.run.code === 0)
    const okCommits = commits.filter((d) => d.run.code === 0)
    const failures: Record<string, number> = {}
    for (const d of done) if (d.run.code !== 0) failures[`${d.args[0]}:${d.run.json.error.code}`] = (failures[`${d.args[0]}:${d.run.json.error.code}`] ?? 0) + 1
    console.log(`      ${done.length} commands in ${(elapsed / 1000).toFixed(1)} s: ${okAppends.length} appends and ${okCommits.length} commits succeeded; refused: ${JSON.stringify(failures)}`)
    assert.ok(okCommits.length > 0 && okAppends.length > 0)

    const valueOf = (d: Done) => Number(d.args[d.args.indexOf('--value') + 1])
    const ds = await Dataset.open(dsDir)
    try {
      // No acknowledged commit is lost, and the history is one line (every commit on first parents).
      const log = (await ds.log()).commits
      const ids = new Set(log.map((e) => e.commit))
      for (const c of okCommits) assert.ok(ids.has(c.run.json.commit), `commit ${c.run.json.commit} (${c.args.join(' ')}) is in the log`)
      assert.equal(log.length, okCommits.length + 1, 'the log holds the acknowledged commits and the first one')
      for (let i = 0; i + 1 < log.length; i++) assert.deepEqual(log[i].parents, [log[i + 1].commit], 'a linear history')

      // Every append acknowledged before a successful commit started is at HEAD; same process first.
      const head = await ds.version('HEAD')
      const atHead = (await head.readRange('t', 0, head.length('t'))) as number[]
      for (const a of okAppends) {
        const sameProcess = okCommits.some((c) => c.writer === a.writer && c.start >= a.end)
        const anyProcess = okCommits.some((c) => c.start >= a.end)
        if (sameProcess || anyProcess) assert.ok(atHead.includes(valueOf(a)), `value ${valueOf(a)} appended by writer ${a.writer} is at HEAD`)
      }
      // Nothing refused was staged, nothing twice.
      const acknowledged = new Set(okAppends.map(valueOf))
      for (const v of atHead) assert.ok(acknowledged.has(v), `value ${v} at HEAD was acknowledged`)
      assert.equal(new Set(atHead).size, atHead.length, 'no value twice')
    } finally {
      await ds.close()
    }

    // What is still staged commits now; then every acknowledged append is at HEAD.
    const last = await lake(['commit', '-m', 'rest', '-C', dsDir, '--json'])
    assert.ok(last.code === 0 || last.json?.error?.code === 'NOTHING_TO_COMMIT', last.stderr)
    const show = await lakeOk(['show', 'HEAD:t[0:]', '-C', dsDir, '--json'])
    assert.deepEqual([...show.json.values].sort((a: number, b: number) => a - b), okAppends.map(valueOf).sort((a, b) => a - b), 'every acknowledged append is committed')

    const fsck = await lakeOk(['fsck', '-C', dsDir, '--json'])
    assert.equal(fsck.json.ok, true, JSON.stringify(fsck.json.problems))
    const db = await openEventDb(path.join(dsDir, '.lake', 'db'))
    try {
      assert.deepEqual((await verifyChain(db)).problems, [])
    } finally {
      await db.level.close()
    }
  })

  it('a process holding the dataset ~2 s makes `lake log` wait, then succeed', async () => {
    // ~2 s, and at least 1 s past a start-up as slow as the last one, so lake really meets the lock.
    const startup = (await lakeOk(['status', '-C', dsDir])).ms
    const hold = Math.max(2000, startup + 1000)
    const db = await openEventDb(path.join(dsDir, '.lake', 'db'))
    const t0 = performance.now()
    const run = startLake(['log', '-C', dsDir, '--json'], {env})
    let released = 0
    try {
      await sleep(hold)
    } finally {
      await db.level.close()
      released = performance.now() - t0
    }
    const result = await run.done
    assert.equal(result.code, 0, result.stderr)
    assert.ok(result.json.commits.length > 0)
    assert.ok(result.ms >= released - 50, `log finished at ${result.ms.toFixed(0)} ms, after the release at ${released.toFixed(0)} ms`)
  })

  it('with LAKE_LOCK_TIMEOUT=1 while held 3 s, `lake log` fails with LOCK_TIMEOUT, not a hang', async () => {
    const db = await openEventDb(path.join(dsDir, '.lake', 'db'))
    const t0 = performance.now()
    let result: LakeRun
    try {
      const run = startLake(['log', '-C', dsDir, '--json'], {env: {LAKE_LOCK_TIMEOUT: '1'}})
      // Held for 3 s, and on until lake gives up (so a slow start-up cannot let it in); a lake
      // still waiting after 10 s hangs.
      const hang = setTimeout(() => run.child.kill('SIGKILL'), 10_000)
      result = await run.done
      clearTimeout(hang)
      await sleep(Math.max(0, 3000 - (performance.now() - t0)))
    } finally {
      await db.level.close()
    }
    console.log(`      lake log gave up after ${result.ms.toFixed(0)} ms (start-up included)`)
    assert.notEqual(result.signal, 'SIGKILL', 'lake log was still waiting after 10 s with LAKE_LOCK_TIMEOUT=1')
    assert.equal(result.code, 1, result.stderr)
    assert.equal(result.json?.error?.code, 'LOCK_TIMEOUT')
    assert.match(result.stderr, /^error: .+/m)
    assert.match(result.stderr, /^hint: .*LAKE_LOCK_TIMEOUT/m)
    // And the dataset is fine afterwards.
    await lakeOk(['status', '-C', dsDir])
  })
})
