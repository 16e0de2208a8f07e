// Runs model.ts sequences through the library API: one op at a time against lake and the model,
// cheap checks after each op, and the verification of the whole history at the end. Shared by
// test/model/history.test.ts and test/events/rebuild.test.ts.
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {Dataset, type LakeError} from '../../src/index.js'
import {Repo} from '../../src/core/repo/repo.js'
import {HistoryModel, HTYPE_OF, type Op, type Sequence, type Snap, type ValueOpts} from './model.js'

/**
 * Where the model's datasets go: a RAM disk when there is one (LAKE_TEST_TMP overrides). These
 * tests check version semantics, not durability, and fsyncs on a busy disk would dominate their
 * time; test/crash and test/concurrency run on the real temp dir.
 */
export const FAST_TMP = process.env.LAKE_TEST_TMP ?? (existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir())

export async function expectCode(what: string, p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p
  } catch (error) {
    if ((error as LakeError).code === code) return
    throw new Error(`${what}: expected ${code}, got ${(error as LakeError).code ?? ''} ${(error as Error).message}`, {cause: error})
  }
  throw new Error(`${what}: expected ${code}, but it succeeded`)
}

// ---- running one op against lake and the model -------------------------------------------------

/** Date.now, frozen and moved by 'clock' ops in fake-clock sequences. */
const realNow = Date.now
const clock = {fake: false, now: 0}

export async function step(ds: Dataset, m: HistoryModel, op: Op): Promise<string> {
  const detached = m.head.branch === null
  switch (op.k) {
    case 'clock': {
      if (!clock.fake) return 'skip'
      clock.now += op.delta
      return `${op.delta >= 0 ? '+' : ''}${op.delta} ms`
    }
    case 'create': {
      const name = `${op.kind}_${op.slot}`
      const p = ds.createTensor(name, HTYPE_OF[op.kind])
      if (detached) return expectCode(`create ${name}`, p, 'DETACHED_HEAD').then(() => 'detached')
      if (name in m.staged) return expectCode(`create ${name}`, p, 'TENSOR_EXISTS').then(() => 'exists')
      await p
      m.staged[name] = {kind: op.kind, values: []}
      m.stagedChanged()
      return name
    }
    case 'append': {
      const names = m.tensorNames()
      if (names.length === 0) return 'skip'
      const name = names[op.t % names.length]
      const t = m.staged[name]
      const values = op.values.map((v) => v[t.kind])
      const p = ds.append(name, values)
      if (detached) return expectCode(`append ${name}`, p, 'DETACHED_HEAD').then(() => 'detached')
      await p
      t.values.push(...values)
      m.stagedChanged()
      return `${name} +${values.length}`
    }
    case 'update': {
      const names = m.tensorNames().filter((n) => m.staged[n].values.length > 0)
      if (names.length === 0) return 'skip'
      const name = names[op.t % names.length]
      const t = m.staged[name]
      const row = op.row % t.values.length
      const value = op.value[t.kind]
      const p = ds.update(name, row, value)
      if (detached) return expectCode(`update ${name}[${row}]`, p, 'DETACHED_HEAD').then(() => 'detached')
      await p
      t.values[row] = value
      m.stagedChanged()
      return `${name}[${row}]`
    }
    case 'delete': {
      const longest = Math.max(0, ...m.tensorNames().map((n) => m.staged[n].values.length))
      if (longest === 0) return 'skip'
      const start = op.row % longest
      const end = Math.min(start + op.count, longest)
      const p = ds.deleteRows(start, end)
      if (detached) return expectCode(`delete ${start}:${end}`, p, 'DETACHED_HEAD').then(() => 'detached')
      await p
      for (const t of Object.values(m.staged)) if (start < t.values.length) t.values.splice(start, Math.min(end, t.values.length) - start)
      m.stagedChanged()
      return `${start}:${end}`
    }
    case 'commit': {
      const message = `m${m.commits.length}`
      const p = ds.commit(message)
      if (detached) return expectCode('commit', p, 'DETACHED_HEAD').then(() => 'detached')
      if (!m.dirty) return expectCode('commit', p, 'NOTHING_TO_COMMIT').then(() => 'nothing')
      const result = await p
      const parents = m.head.commit ? [m.head.commit] : []
      assert.deepEqual(result.parents, parents, 'commit parents')
      assert.equal(result.branch, m.head.branch)
      const c = m.recordCommit(result.commit, parents)
      assert.deepEqual(await ds.tag(c.tag, c.id), {tag: c.tag, commit: c.id})
      m.tags.set(c.tag, c.id)
      return `${c.tag} ${c.id.slice(0, 8)}`
    }
    case 'branch': {
      const name = m.fresh('b')
      const p = ds.createBranch(name)
      if (!m.head.commit) return expectCode(`branch ${name}`, p, 'UNKNOWN_REVISION').then(() => 'unborn')
      assert.deepEqual(await p, {branch: name, commit: m.head.commit})
      m.branches.set(name, m.head.commit)
      return name
    }
    case 'checkoutBranch': {
      const names = m.branchNames()
      if (names.length === 0) return 'skip'
      const name = names[op.b % names.length]
      const force = m.dirty === true && op.force
      const p = ds.checkout(name, force ? {force} : {})
      if (m.dirty && !force) return expectCode(`checkout ${name}`, p, 'DIRTY_STATE').then(() => 'dirty')
      const commit = m.branches.get(name)!
      assert.deepEqual(await p, {head: commit, branch: name, detached: false})
      m.moveHead(name, commit)
      return `${name}${force ? ' --force' : ''}`
    }
    case 'checkoutNew': {
      const name = m.fresh('n')
      const p = ds.checkout('HEAD', {newBranch: name})
      if (!m.head.commit) return expectCode(`checkout -b ${name}`, p, 'UNKNOWN_REVISION').then(() => 'unborn')
      const commit = m.head.commit
      assert.deepEqual(await p, {head: commit, branch: name, detached: false})
      m.branches.set(name, commit)
      m.moveHead(name, commit, m.dirty === true)
      return name
    }
    case 'checkoutPast': {
      if (m.commits.length === 0) return 'skip'
      const c = m.commits[op.c % m.commits.length]
      const rev = op.form === 'id' ? c.id : op.form === 'tag' ? c.tag : c.id.slice(0, 12)
      const force = m.dirty === true && op.force
      const p = ds.checkout(rev, force ? {force} : {})
      if (m.dirty && !force) return expectCode(`checkout ${rev}`, p, 'DIRTY_STATE').then(() => 'dirty')
      const back = m.head.branch ?? m.branchNames()[0]
      assert.deepEqual(await p, {head: c.id, branch: null, detached: true})
      m.moveHead(null, c.id)
      await materializes(ds, 'HEAD', c.id, c.snap)
      if (op.stay) return `${rev} (stay)`
      const commit = m.branches.get(back)!
      assert.deepEqual(await ds.checkout(back), {head: commit, branch: back, detached: false})
      m.moveHead(back, commit)
      return `${rev} and back to ${back}`
    }
    case 'tag': {
      const name = m.fresh('x')
      const p = ds.tag(name)
      if (!m.head.commit) return expectCode(`tag ${name}`, p, 'UNKNOWN_REVISION').then(() => 'unborn')
      assert.deepEqual(await p, {tag: name, commit: m.head.commit})
      m.tags.set(name, m.head.commit)
      return name
    }
    case 'reset': {
      await ds.reset()
      m.staged = structuredClone(m.base)
      m.dirty = false
      return ''
    }
  }
}

/** Cheap checks after every op: HEAD, cleanliness and the staged tensors' lengths. */
export async function checkNow(ds: Dataset, m: HistoryModel): Promise<void> {
  const st = await ds.status()
  assert.deepEqual({branch: st.branch, head: st.head, detached: st.detached}, {branch: m.head.branch, head: m.head.commit, detached: m.head.branch === null}, 'status HEAD')
  if (m.dirty === 'unknown') m.dirty = !st.clean // same content re-staged: lake may or may not see a change
  else assert.equal(st.clean, !m.dirty, 'status clean')
  const tensors = (await ds.tensors()).map((t) => [t.name, t.length])
  assert.deepEqual(tensors, m.tensorNames().map((n) => [n, m.staged[n].values.length]), 'staged tensors')
}

// ---- verification of the whole history ---------------------------------------------------------

export async function materializes(ds: Dataset, rev: string, id: string, snap: Snap): Promise<void> {
  const v = await ds.version(rev)
  assert.equal(v.commit, id, `${rev} resolves to ${id.slice(0, 12)}`)
  const names = Object.keys(snap).sort()
  assert.deepEqual(v.tensors().map((t) => [t.name, t.length]), names.map((n) => [n, snap[n].values.length]), `${rev}: tensors and lengths`)
  for (const n of names) {
    assert.deepStrictEqual(await v.readRange(n, 0, v.length(n)), snap[n].values, `${rev}: values of ${n}`)
  }
}

export async function verifyHistory(ds: Dataset, m: HistoryModel, rand: () => number, stats: Stats): Promise<void> {
  for (const c of m.commits) {
    await materializes(ds, c.id, c.id, c.snap)
    await materializes(ds, c.tag, c.id, c.snap)
  }
  assert.deepEqual((await ds.branches()).branches.map((b) => [b.name, b.commit, b.current]),
    m.branchNames().map((n) => [n, m.branches.get(n), n === m.head.branch]), 'branches')
  assert.deepEqual((await ds.tags()).tags.map((t) => [t.name, t.commit]), [...m.tags].sort(([a], [b]) => (a < b ? -1 : 1)), 'tags')

  // The log holds every commit with its model parents; its times drive the time-travel answers.
  const log = (await ds.log({all: true})).commits
  assert.deepEqual(log.map((e) => e.commit).sort(), m.commits.map((c) => c.id).sort(), 'log --all lists every commit')
  const time = new Map(log.map((e) => [e.commit, Date.parse(e.timestamp)]))
  for (const e of log) assert.deepEqual(e.parents, m.byId.get(e.commit)!.parents, `parents of ${e.commit.slice(0, 12)}`)
  for (let i = 1; i < log.length; i++) assert.ok(time.get(log[i - 1].commit)! >= time.get(log[i].commit)!, 'log is newest first')

  for (const branch of m.branchNames()) {
    const chain = m.firstParentChain(m.branches.get(branch)!) // newest first
    for (let i = 1; i < chain.length; i++) assert.ok(time.get(chain[i - 1].id)! >= time.get(chain[i].id)!, `${branch}: times never decrease along first parents`)
    for (let i = 1; i < chain.length; i++) if (time.get(chain[i - 1].id) === time.get(chain[i].id)) stats.timeTies++
    const probes = new Set<number>([time.get(chain[0].id)! + 1000])
    for (const c of chain) probes.add(time.get(c.id)!).add(time.get(c.id)! - 1)
    for (const t of probes) {
      const rev = `${branch}@{${new Date(t).toISOString()}}`
      const expected = chain.find((c) => time.get(c.id)! <= t)
      if (!expected) await expectCode(rev, ds.resolve(rev), 'UNKNOWN_REVISION')
      else await materializes(ds, rev, expected.id, expected.snap)
    }
  }

  // The same walks from a tag and from HEAD: TAG@{time}, @{time} (HEAD's), and TAG~N along first
  // parents (the commit index's skip pointers).
  for (const c of m.commits.filter(() => rand() < 0.3)) {
    const chain = m.firstParentChain(c.id)
    const t = time.get(chain[Math.floor(rand() * chain.length)].id)!
    for (const probe of [t, t - 1]) {
      const rev = `${c.tag}@{${new Date(probe).toISOString()}}`
      const expected = chain.find((x) => time.get(x.id)! <= probe)
      if (!expected) await expectCode(rev, ds.resolve(rev), 'UNKNOWN_REVISION')
      else assert.equal(await ds.resolve(rev), expected.id, rev)
    }
    for (let k = 0; k <= chain.length; k++) {
      const rev = `${c.tag}~${k}`
      if (k === chain.length) await expectCode(rev, ds.resolve(rev), 'UNKNOWN_REVISION')
      else assert.equal(await ds.resolve(rev), chain[k].id, rev)
    }
  }
  if (m.head.commit) {
    const chain = m.firstParentChain(m.head.commit)
    const t = time.get(chain[Math.floor(rand() * chain.length)].id)!
    assert.equal(await ds.resolve(`@{${new Date(t).toISOString()}}`), chain.find((x) => time.get(x.id)! <= t)!.id, '@{time} walks HEAD')
  }

  // @{N}: the N-th previous position of HEAD; every N resolves, a few materialize.
  const n = m.reflog.length
  for (let i = 0; i <= n; i++) {
    const expected = i < n ? m.reflog[n - 1 - i] : null
    const rev = `@{${i}}`
    if (expected === null) await expectCode(rev, ds.resolve(rev), 'UNKNOWN_REVISION')
    else assert.equal(await ds.resolve(rev), expected, rev)
  }
  for (const i of [0, Math.floor(rand() * n), Math.floor(rand() * n)]) {
    const expected = m.reflog[n - 1 - i]
    if (expected) await materializes(ds, `@{${i}}`, expected, m.byId.get(expected)!.snap)
  }
  if (m.head.commit) assert.equal(await ds.resolve('HEAD'), m.head.commit)

  const fsck = await ds.fsck()
  assert.ok(fsck.ok, `fsck: ${JSON.stringify(fsck.problems)}`)
}

// ---- the property ------------------------------------------------------------------------------

export interface Stats {
  runs: number
  ops: number
  failedAsExpected: number
  commits: number
  chunkObjects: number
  outcomes: Record<string, number>
  verifyMs: number
  /** first-parent neighbours with the same commit time (ms): @{time} must take the newer */
  timeTies: number
}

export const newStats = (): Stats => ({runs: 0, ops: 0, failedAsExpected: 0, commits: 0, chunkObjects: 0, outcomes: {}, verifyMs: 0, timeTies: 0})

export interface RunOptions extends ValueOpts {
  chunkSize?: number
  /** Skip the (slower) end-of-sequence verification of every commit. */
  skipVerify?: boolean
  /** Runs after the history verified, before the dataset is closed and removed. */
  after?: (ds: Dataset, m: HistoryModel, dir: string) => Promise<void>
}

/** Runs one sequence on a fresh dataset in a temp dir, verifies it, and removes the dataset. */
export async function runSequence({ops, fakeClock}: Sequence, o: RunOptions, stats: Stats): Promise<void> {
  if (fakeClock) {
    Object.assign(clock, {fake: true, now: realNow()})
    Date.now = () => clock.now
  }
  const dir = await fs.mkdtemp(path.join(FAST_TMP, 'lake-model-'))
  let ds: Dataset | undefined
  const trace: string[] = []
  try {
    ds = await Dataset.init(dir)
    if (o.chunkSize) {
      // The `lake config chunk.size` path: set it, then open the dataset afresh so new tensors use it.
      await ds.close()
      const repo = await Repo.open(dir)
      await repo.setConfig('chunk.size', String(o.chunkSize))
      await repo.close()
      ds = await Dataset.open(dir)
    }
    const m = new HistoryModel()
    let seed = ops.length
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    for (const [i, op] of ops.entries()) {
      const what = await step(ds, m, op)
      trace.push(`${i}: ${op.k} ${what}`)
      if (op.k !== 'clock' && ['detached', 'exists', 'nothing', 'unborn', 'dirty', 'skip'].includes(what)) {
        stats.failedAsExpected++
        stats.outcomes[`${op.k}:${what}`] = (stats.outcomes[`${op.k}:${what}`] ?? 0) + 1
      }
      await checkNow(ds, m)
    }
    const t0 = performance.now()
    if (!o.skipVerify) await verifyHistory(ds, m, rand, stats)
    stats.verifyMs += Math.round(performance.now() - t0)
    if (o.chunkSize) {
      for (const c of m.commits) {
        const v = await ds.version(c.id)
        for (const t of v.tensors()) assert.equal(v.meta(t.name).maxChunkBytes, o.chunkSize, `${t.name} uses chunk.size`)
      }
      stats.chunkObjects += (await ds.fsck()).checked
    }
    if (o.after) await o.after(ds, m, dir)
    stats.runs++
    stats.ops += ops.length
    stats.commits += m.commits.length
  } catch (error) {
    const where = `${trace.length}: ${ops[trace.length]?.k ?? '(verification)'} ← failed here`
    throw new Error(`${(error as Error).message}\n  trace:\n    ${[...trace, where].join('\n    ')}`, {cause: error})
  } finally {
    Date.now = realNow
    clock.fake = false
    await ds?.close()
    await fs.rm(dir, {recursive: true, force: true})
  }
}

