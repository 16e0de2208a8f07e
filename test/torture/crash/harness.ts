// Crash trials: one dataset (with a second branch and a path remote) carried across many trials;
// each trial prepares a little work in-process, starts one real `lake` command (add, commit,
// merge, push, gc --prune=now, checkout or tag) and kill -9s it at a seeded moment. After the kill:
//  - the killed command is all-or-nothing (per command: the ref, tag, HEAD, staged root or remote
//    ref it moves is either as before or exactly the complete result);
//  - every commit the harness recorded (exit 0 with its id, or found landed after a kill and then
//    checked whole) is present and materializes exactly: tips and a random recorded commit are
//    exported and compared file by file with the record, every other one opens with the right
//    lengths; refs and tags are exactly the recorded ones; the remote holds everything its ref
//    reaches; fsck is clean (dangling objects allowed);
//  - the next command works without cleanup: the killed command is run again (or `status`), and
//    must succeed.
// Kill moments: half at the k-th file-system/LevelDB write point of the process (kill-point.mjs:
// reaches the windows between a rename and its directory fsync, or around the event batch),
// half at a wall-clock time after spawn (mostly in the part of the run after start-up).
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {Dataset, Version} from '../../../src/index.js'
import {fsck} from '../../../src/core/ops/fsck.js'
import {Repo} from '../../../src/core/repo/repo.js'
import {remoteAdd} from '../../../src/core/ops/remote.js'
import {listRefs, readHead, readStaged} from '../../../src/core/version/source.js'
import {FsStore} from '../../../src/core/storage/fs.js'
import {ObjectDb} from '../../../src/core/storage/objects.js'
import type {ObjectStore} from '../../../src/core/storage/types.js'
import {decodeCommit} from '../../../src/core/version/commit.js'
import {decodeRoot} from '../../../src/core/dataset/version-root.js'
import {decodeNode} from '../../../src/core/index/index.js'
import {lakeOk, startLake, type LakeRun} from '../../crash/cli.js'
import {ContentPool, fileSetDiff, hashTree, merged, mutate, versionFiles, writeFileSet, type FileSet} from './files.js'

const PRELOAD = pathToFileURL(fileURLToPath(new URL('./kill-point.mjs', import.meta.url))).href

export type Kind = 'add' | 'commit' | 'merge' | 'push' | 'gc' | 'checkout' | 'tag'
const WEIGHTS: [Kind, number][] = [['add', 16], ['commit', 18], ['merge', 12], ['push', 14], ['gc', 12], ['checkout', 13], ['tag', 15]]
const PREFIX = {main: 'm/', side: 's/'} as const
type Branch = keyof typeof PREFIX
/** A command still running after this long is a hang. */
const HANG_MS = 90_000

export type KillPlan = {mode: 'point'; at: number} | {mode: 'time'; ms: number}

export interface KindStats {
  trials: number
  killed: number
  /** Killed, yet its effect was complete (the kill came after the commit point). */
  landed: number
  byPoint: number
  byTime: number
}

export interface CrashReport {
  seed: number
  trials: number
  epochs: number
  commits: number
  tags: number
  pushes: number
  perKind: Record<Kind, KindStats>
  ms: number
  /** Where the time went: preparing in-process, the killed command, checks, the next command. */
  phaseMs: {prepare: number; killed: number; check: number; next: number}
}

interface Committed {
  id: string
  files: FileSet
}

interface State {
  head: {branch: string | null; commit: string | null}
  stagedRoot: string
  heads: Map<string, string>
  tags: Map<string, string>
}

/** HEAD, staged root, branches and tags, read in-process in one short DB visit. */
async function readState(dir: string): Promise<State> {
  const repo = await Repo.open(dir)
  try {
    return await repo.withDb(async (db) => ({
      head: await readHead(db),
      stagedRoot: (await readStaged(db))!.root,
      heads: new Map((await listRefs(db, 'heads')).map((r) => [r.name, r.commit])),
      tags: new Map((await listRefs(db, 'tags')).map((r) => [r.name, r.commit])),
    }))
  } finally {
    await repo.close()
  }
}

/** Checks that a remote holds every object its ref reaches, each re-hashed; remembers what it checked. */
export class RemoteChecker {
  private readonly verified = new Set<string>()
  constructor(private readonly open: () => ObjectStore) {}

  private async withStore<T>(fn: (store: ObjectStore) => Promise<T>): Promise<T> {
    const store = this.open()
    try {
      return await fn(store)
    } finally {
      await store.close()
    }
  }

  ref(branch: string): Promise<string | null> {
    return this.withStore(async (store) => ((await store.exists(`refs/heads/${branch}`)) ? new TextDecoder().decode(await store.get(`refs/heads/${branch}`)).trim() : null))
  }

  complete(commit: string): Promise<void> {
    return this.withStore(async (store) => {
      const db = new ObjectDb(store, {cacheBytes: 0})
      const stack: [string, 'commit' | 'root' | 'node' | 'chunk'][] = [[commit, 'commit']]
      while (stack.length) {
        const [hash, kind] = stack.pop()!
        if (this.verified.has(hash)) continue
        const bytes = await db.get(hash) // re-hashes
        if (kind === 'commit') {
          const c = decodeCommit(bytes, hash)
          for (const p of c.parents) stack.push([p, 'commit'])
          stack.push([c.root, 'root'])
        } else if (kind === 'root') {
          for (const t of Object.values(decodeRoot(bytes, hash).tensors)) stack.push([t.index, 'node'])
        } else if (kind === 'node') {
          const node = decodeNode(hash, bytes)
          if (node.kind === 'leaf') for (const c of node.chunkTable) stack.push([c, 'chunk'])
          else for (const c of node.children) stack.push([c, 'node'])
        }
        this.verified.add(hash)
      }
    })
  }
}

/** Where the remote lives: by default a path (or file:// URL) beside the dataset; or a given store (S3). */
export interface RemoteSetup {
  /** The remote's URL for an epoch (a fresh location each time). */
  url: (epoch: number) => string
  /** A store on that URL, opened in-process. */
  open: (url: string) => ObjectStore
  /** Environment the CLI needs to reach it. */
  env?: Record<string, string>
}

export interface HarnessOptions {
  remote?: RemoteSetup
  /** Only these kinds of trial (default: all). */
  kinds?: Kind[]
}

/** A commit opened through the object store alone (no event-log visit). */
async function openVersion(repo: Repo, id: string): Promise<Version> {
  return new Version(id, await repo.data.getRoot((await repo.data.getCommit(id)).root), repo.data)
}

export class CrashHarness {
  readonly report: CrashReport
  private readonly pool: ContentPool
  private epoch = -1
  private dir = ''
  private data = ''
  private remote!: RemoteChecker
  private remoteUrl = ''
  private commits = new Map<string, Committed>()
  private tags = new Map<string, string>()
  private tips: Record<Branch, string> = {main: '', side: ''}
  private work: Record<Branch, FileSet> = {main: new Map(), side: new Map()}
  private head: Branch = 'main'
  private pushed: string | null = null
  private calls = 0
  /** Per kind: write points and milliseconds of its last uninterrupted run. */
  private readonly calibration = new Map<Kind, {points: number; ms: number}>()

  private readonly weights: [Kind, number][]

  constructor(readonly root: string, readonly seed: number, private readonly rand: () => number, private readonly opts: HarnessOptions = {}) {
    this.pool = new ContentPool(rand)
    this.weights = WEIGHTS.filter(([k]) => !opts.kinds || opts.kinds.includes(k))
    const perKind = Object.fromEntries(WEIGHTS.map(([k]) => [k, {trials: 0, killed: 0, landed: 0, byPoint: 0, byTime: 0}])) as Record<Kind, KindStats>
    this.report = {seed, trials: 0, epochs: 0, commits: 0, tags: 0, pushes: 0, perKind, ms: 0, phaseMs: {prepare: 0, killed: 0, check: 0, next: 0}}
  }

  // ---- epochs -------------------------------------------------------------------------------

  /** A fresh dataset: main with a base commit, branch side, remote origin (a path, or a file:// URL). */
  async newEpoch(): Promise<void> {
    if (this.epoch >= 0) await fs.rm(path.join(this.root, `e${this.epoch}`), {recursive: true, force: true})
    this.epoch++
    this.report.epochs++
    const base = path.join(this.root, `e${this.epoch}`)
    this.dir = path.join(base, 'ds')
    this.data = path.join(base, 'data')
    const remoteDir = path.join(base, 'remote')
    const setup: RemoteSetup = this.opts.remote ?? {url: (e) => (e % 2 === 0 ? remoteDir : pathToFileURL(remoteDir).href), open: (url) => new FsStore(url.startsWith('file:') ? fileURLToPath(url) : url)}
    this.remoteUrl = setup.url(this.epoch)
    this.remote = new RemoteChecker(() => setup.open(this.remoteUrl))
    this.commits = new Map()
    this.tags = new Map()
    this.pushed = null
    const ds = await Dataset.init(this.dir)
    await ds.close()
    const repo = await Repo.open(this.dir)
    try {
      // Small chunks: an add writes several objects, so kills land between many different writes.
      await repo.setConfig('chunk.size', '4096')
      await remoteAdd(repo, 'origin', this.remoteUrl)
    } finally {
      await repo.close()
    }
    let files: FileSet = new Map()
    for (let i = 0; i < 3; i++) files = mutate(files, PREFIX.main, this.pool, this.rand, `base${i}`)
    this.work = {main: files, side: files}
    this.head = 'main'
    await this.withDs(async (ds) => {
      await writeFileSet(this.data, files, this.pool)
      await ds.add([this.data])
      const c = await ds.commit('base')
      await ds.createBranch('side')
      this.tips = {main: c.commit, side: c.commit}
      this.record(c.commit, files)
    })
  }

  /** Everything recorded in this epoch, exported and compared; the remote cloned --full and checked. */
  async closeEpoch(): Promise<void> {
    await this.withDs(async (ds) => {
      for (const c of this.commits.values()) await this.assertExport(ds, c, 'epoch end')
      const fsck = await ds.fsck()
      assert.ok(fsck.ok, `epoch end: fsck ${JSON.stringify(fsck.problems)}`)
    })
    if (this.pushed) {
      const clone = path.join(this.root, `e${this.epoch}`, 'clone')
      await lakeOk(['clone', this.remoteUrl, clone, '--full', '--json'], {env: this.opts.remote?.env})
      const ds = await Dataset.open(clone)
      try {
        const fsck = await ds.fsck()
        assert.ok(fsck.ok, `fresh clone --full of the remote: fsck ${JSON.stringify(fsck.problems)}`)
        assert.equal(await ds.resolve('main'), this.pushed, 'the clone holds the last pushed commit')
        await this.assertExport(ds, this.commits.get(this.pushed)!, 'clone of the remote')
      } finally {
        await ds.close()
      }
    }
  }

  async finish(): Promise<void> {
    await this.closeEpoch()
    await fs.rm(path.join(this.root, `e${this.epoch}`), {recursive: true, force: true})
  }

  // ---- one trial ----------------------------------------------------------------------------

  async trial(n: number): Promise<string> {
    const kind = this.pickKind()
    const stats = this.report.perKind[kind]
    stats.trials++
    this.report.trials++
    const what = `epoch ${this.epoch} trial ${n} (${kind})`
    const phase = this.report.phaseMs
    let t = performance.now()
    const lap = () => {
      const now = performance.now()
      const ms = now - t
      t = now
      return ms
    }
    const plan = await this.prepare(kind, n)
    const before = await readState(this.dir)
    const kill = this.planKill(kind)
    phase.prepare += lap()
    const {run} = await this.cli(plan.args, kill)
    phase.killed += lap()
    const killed = run.signal === 'SIGKILL'
    if (!killed) assert.equal(run.code, 0, `${what}: lake ${plan.args.join(' ')} (not killed) exited ${run.code}\n${run.stderr}`)
    else {
      stats.killed++
      if (kill.mode === 'point') stats.byPoint++
      else stats.byTime++
    }
    const label = `${what}, ${kill.mode === 'point' ? `point ${kill.at}` : `${kill.ms.toFixed(0)} ms`}${killed ? '' : ' (finished first)'}`
    const landed = await plan.check(before, await readState(this.dir), killed ? null : run.json, label)
    if (killed && landed) stats.landed++
    if (process.env.LAKE_TORTURE_VERBOSE) console.log(`        ${label} → ${killed ? (landed ? 'killed, landed' : 'killed, undone') : 'exit 0'} (calibrated ${JSON.stringify(this.calibration.get(kind))}, run ${run.ms.toFixed(0)} ms)`)
    await this.checkAll(label)
    phase.check += lap()
    await plan.recover(landed, label)
    phase.next += lap()
    return `${kind}:${killed ? (landed ? 'landed' : 'undone') : 'ok'}`
  }

  private pickKind(): Kind {
    let r = this.rand() * this.weights.reduce((s, [, w]) => s + w, 0)
    for (const [k, w] of this.weights) if ((r -= w) < 0) return k
    return this.weights[0][0]
  }

  private planKill(kind: Kind): KillPlan {
    const cal = this.calibration.get(kind) ?? {points: 40, ms: 600}
    if (this.rand() < 0.5) {
      // Half anywhere, half in the last 40% of the run, where the commit point (the event batch) is.
      const from = this.rand() < 0.5 ? 1 : Math.ceil(cal.points * 0.6)
      return {mode: 'point', at: from + Math.floor(this.rand() * (cal.points + 3 - from))}
    }
    // Most of a run's time is Node start-up; 4 kills in 5 land in the part after it.
    const ms = this.rand() < 0.2 ? this.rand() * cal.ms : cal.ms * (0.55 + 0.5 * this.rand())
    return {mode: 'time', ms}
  }

  /** Runs `lake ARGS -C ds --json` with the kill-point preload; kill it as planned; never waits past HANG_MS. */
  private async cli(args: string[], kill?: KillPlan, kind?: Kind): Promise<{run: LakeRun; points: number | null}> {
    const countFile = path.join(this.root, `points-${++this.calls}`)
    const env: Record<string, string> = {...this.opts.remote?.env, NODE_OPTIONS: `--import=${PRELOAD}`, LAKE_KILL_COUNT: countFile, LAKE_LOCK_TIMEOUT: '30'}
    if (kill?.mode === 'point') env.LAKE_KILL_AT = String(kill.at)
    const p = startLake([...args, '-C', this.dir, '--json'], {env})
    const timer = kill?.mode === 'time' ? setTimeout(() => p.child.kill('SIGKILL'), kill.ms) : undefined
    let hung = false
    const hang = setTimeout(() => {
      hung = true
      p.child.kill('SIGKILL')
    }, HANG_MS)
    const run = await p.done
    clearTimeout(timer)
    clearTimeout(hang)
    assert.ok(!hung, `lake ${args.join(' ')} still running after ${HANG_MS / 1000} s: a hang`)
    const points = await fs.readFile(countFile, 'utf8').then(Number, () => null)
    await fs.rm(countFile, {force: true})
    if (kind && args[0] === kind && run.code === 0 && points !== null) {
      // The work per run varies (a no-op add after a landed one, a gc with nothing to delete):
      // points follow the larger runs, time a moving average.
      const old = this.calibration.get(kind)
      this.calibration.set(kind, old ? {points: Math.max(points, Math.round(old.points * 0.8)), ms: 0.7 * old.ms + 0.3 * run.ms} : {points, ms: run.ms})
    }
    return {run, points}
  }

  /** The next command after a kill: must succeed (no cleanup by hand); calibrates its kind. */
  private async next(kind: Kind, args: string[], label: string): Promise<any> {
    const {run} = await this.cli(args, undefined, kind)
    assert.equal(run.code, 0, `${label}: the next command, lake ${args.join(' ')}, exited ${run.code ?? run.signal}\n${run.stderr}`)
    return run.json
  }

  // ---- preparing each kind, and what counts as all-or-nothing -----------------------------------

  private async prepare(kind: Kind, n: number): Promise<{args: string[]; check: (before: State, after: State, json: any, label: string) => Promise<boolean>; recover: (landed: boolean, label: string) => Promise<void>}> {
    const msg = `e${this.epoch}-${n}-${kind}`
    switch (kind) {
      case 'add': {
        const files = mutate(this.work[this.head], PREFIX[this.head], this.pool, this.rand, `t${n}`)
        await writeFileSet(this.data, files, this.pool)
        let killedRoot = ''
        return {
          args: ['add', this.data],
          check: async (before, after, json) => {
            // Staged as before, or some new staged root, which the next add must confirm is whole.
            if (json) assert.notEqual(after.stagedRoot, before.stagedRoot, 'an add that exited 0 staged something')
            killedRoot = after.stagedRoot === before.stagedRoot ? '' : after.stagedRoot
            this.assertRefs(after, 'add')
            return killedRoot !== ''
          },
          recover: async (_landed, label) => {
            await this.next('add', ['add', this.data], label)
            const now = await readState(this.dir)
            if (killedRoot) assert.equal(now.stagedRoot, killedRoot, `${label}: the killed add staged a partial change (adding again staged more)`)
            const c = await this.withDs((ds) => ds.commit(msg))
            this.commitOnHead(c.commit, files)
            await this.withRepo((repo) => this.assertSamples(repo, this.commits.get(c.commit)!, label))
          },
        }
      }
      case 'commit': {
        const files = mutate(this.work[this.head], PREFIX[this.head], this.pool, this.rand, `t${n}`)
        await writeFileSet(this.data, files, this.pool)
        await this.withDs((ds) => ds.add([this.data]))
        const branch = this.head
        return {
          args: ['commit', '-m', msg],
          check: async (before, after, json, label) => {
            const tip = after.heads.get(branch)!
            const landed = tip !== before.heads.get(branch)
            if (json) assert.equal(json.commit, tip, `${label}: the commit reported is the branch tip`)
            if (landed) await this.acceptCommit(tip, [this.tips[branch]], msg, files, branch, label)
            this.assertRefs(after, label)
            return landed
          },
          recover: async (landed, label) => {
            if (landed) {
              const st = await this.next('commit', ['status'], label)
              assert.equal(st.clean, true, `${label}: clean after the landed commit`)
              return
            }
            const json = await this.next('commit', ['commit', '-m', msg], label)
            await this.acceptCommit(json.commit, [this.tips[branch]], msg, files, branch, label)
          },
        }
      }
      case 'merge': {
        await this.switchTo('side')
        const sideTip = this.tips.side
        const mainHasSide = await this.withDs(async (ds) => (await ds.log({rev: 'main'})).commits.some((c) => c.commit === sideTip))
        if (mainHasSide || this.rand() < 0.5) await this.commitInProcess('side', `t${n}s`, `${msg}-side`)
        await this.switchTo('main')
        const expected = merged(this.work.main, this.work.side, PREFIX.side)
        const theirs = this.tips.side
        return {
          args: ['merge', 'side', '-m', msg],
          check: async (before, after, json, label) => {
            const tip = after.heads.get('main')!
            const old = before.heads.get('main')!
            const landed = tip !== old
            if (json) assert.equal(json.commit, tip, `${label}: the merge reported is the tip`)
            if (landed) await this.acceptMerge(tip, old, theirs, msg, expected, label)
            this.assertRefs(after, label)
            return landed
          },
          recover: async (landed, label) => {
            if (landed) {
              await this.next('merge', ['status'], label)
              return
            }
            const json = await this.next('merge', ['merge', 'side', '-m', msg], label)
            await this.acceptMerge(json.commit, this.tips.main, theirs, msg, expected, label)
          },
        }
      }
      case 'push': {
        if (this.tips.main === this.pushed) {
          await this.switchTo('main')
          await this.commitInProcess('main', `t${n}p`, `${msg}-main`)
        }
        const tip = this.tips.main
        return {
          args: ['push', 'origin', 'main'],
          check: async (_before, after, json, label) => {
            const there = await this.remote.ref('main')
            assert.ok(there === this.pushed || there === tip, `${label}: the remote ref is ${there}: neither the one before (${this.pushed}) nor the pushed tip`)
            if (json) assert.equal(there, tip, `${label}: a push that exited 0 moved the remote ref`)
            if (there === tip) {
              await this.remote.complete(tip)
              this.pushed = tip
            }
            this.assertRefs(after, label)
            return there === tip
          },
          recover: async (_landed, label) => {
            const json = await this.next('push', ['push', 'origin', 'main'], label)
            assert.equal(json.commit, tip)
            assert.equal(await this.remote.ref('main'), tip, `${label}: the remote ref after the next push`)
            await this.remote.complete(tip)
            this.pushed = tip
            this.report.pushes++
          },
        }
      }
      case 'gc': {
        if (this.rand() < 0.6) {
          // Garbage to collect: a staged change thrown away.
          await writeFileSet(this.data, mutate(this.work[this.head], PREFIX[this.head], this.pool, this.rand, `t${n}g`), this.pool)
          await this.withDs(async (ds) => {
            await ds.add([this.data])
            await ds.reset()
          })
        }
        return {
          args: ['gc', '--prune=now'],
          check: async (_before, after, _json, label) => {
            this.assertRefs(after, label)
            return false
          },
          recover: async (_landed, label) => {
            await this.next('gc', ['gc', '--prune=now'], label)
          },
        }
      }
      case 'checkout': {
        const from = this.head
        const to: Branch = from === 'main' ? 'side' : 'main'
        return {
          args: ['checkout', to],
          check: async (_before, after, json, label) => {
            const at = after.head.branch
            assert.ok(at === from || at === to, `${label}: HEAD is on ${at}`)
            if (json) assert.equal(at, to)
            // Whichever branch HEAD is on, nothing is staged: the staged root is its tip's root.
            await this.withDs(async (ds) => assert.equal((await ds.status()).clean, true, `${label}: HEAD on ${at} with staged changes`))
            this.assertRefs(after, label)
            this.head = at as Branch
            return at === to
          },
          recover: async (landed, label) => {
            const json = await this.next('checkout', landed ? ['status'] : ['checkout', to], label)
            if (!landed) assert.equal(json.branch, to)
            this.head = to
          },
        }
      }
      case 'tag': {
        const name = `t${this.epoch}-${n}`
        const ids = [...this.commits.keys()]
        const id = ids[Math.floor(this.rand() * ids.length)]
        return {
          args: ['tag', name, id],
          check: async (_before, after, json, label) => {
            const at = after.tags.get(name)
            assert.ok(at === undefined || at === id, `${label}: tag ${name} names ${at}, not ${id}`)
            if (json) assert.equal(at, id, `${label}: a tag that exited 0 exists`)
            if (at) {
              this.tags.set(name, id)
              this.report.tags++
            }
            this.assertRefs(after, label)
            return at !== undefined
          },
          recover: async (landed, label) => {
            if (landed) return void (await this.next('tag', ['status'], label))
            const json = await this.next('tag', ['tag', name, id], label)
            assert.equal(json.commit, id)
            this.tags.set(name, id)
            this.report.tags++
          },
        }
      }
    }
  }

  // ---- in-process steps and checks ------------------------------------------------------------

  private async withDs<T>(fn: (ds: Dataset) => Promise<T>): Promise<T> {
    const ds = await Dataset.open(this.dir)
    try {
      return await fn(ds)
    } finally {
      await ds.close()
    }
  }

  private async withRepo<T>(fn: (repo: Repo) => Promise<T>): Promise<T> {
    const repo = await Repo.open(this.dir)
    try {
      return await fn(repo)
    } finally {
      await repo.close()
    }
  }

  private async switchTo(branch: Branch): Promise<void> {
    if (this.head === branch) return
    await this.withDs((ds) => ds.checkout(branch))
    this.head = branch
  }

  private async commitInProcess(branch: Branch, tag: string, message: string): Promise<void> {
    const files = mutate(this.work[branch], PREFIX[branch], this.pool, this.rand, tag)
    await writeFileSet(this.data, files, this.pool)
    await this.withDs(async (ds) => {
      await ds.add([this.data])
      const c = await ds.commit(message)
      this.commitOnHead(c.commit, files)
    })
  }

  private record(id: string, files: FileSet): void {
    if (!this.commits.has(id)) this.report.commits++
    this.commits.set(id, {id, files})
  }

  private commitOnHead(id: string, files: FileSet): void {
    this.record(id, files)
    this.tips[this.head] = id
    this.work[this.head] = files
  }

  /** A commit found at a branch tip: the right parents and message, and exactly the staged files. */
  private async acceptCommit(id: string, parents: string[], message: string, files: FileSet, branch: Branch, label: string): Promise<void> {
    await this.withDs(async (ds) => {
      const entry = (await ds.log({rev: id, limit: 1})).commits[0]
      assert.deepEqual(entry.parents, parents, `${label}: parents of ${id}`)
      assert.equal(entry.message, message)
      this.record(id, files)
    })
    await this.withRepo((repo) => this.assertSamples(repo, this.commits.get(id)!, label))
    this.tips[branch] = id
    this.work[branch] = files
  }

  private async acceptMerge(id: string, ours: string, theirs: string, message: string, files: FileSet, label: string): Promise<void> {
    await this.withDs(async (ds) => {
      const entry = (await ds.log({rev: id, limit: 1})).commits[0]
      if (id !== theirs) {
        assert.deepEqual(entry.parents, [ours, theirs], `${label}: parents of the merge ${id}`)
        assert.equal(entry.message, message)
      }
      this.record(id, files)
    })
    await this.withRepo((repo) => this.assertSamples(repo, this.commits.get(id)!, label))
    this.tips.main = id
    this.work.main = files
  }

  /** Branches are exactly main and side at the recorded tips; tags exactly the recorded ones. */
  private assertRefs(s: State, label: string): void {
    assert.deepEqual(Object.fromEntries(s.heads), {...this.tips}, `${label}: branches`)
    assert.deepEqual(Object.fromEntries(s.tags), Object.fromEntries(this.tags), `${label}: tags`)
  }

  /**
   * After every kill: fsck; every recorded commit opens with the right lengths; the tips and one
   * random recorded commit read back sample by sample exactly as recorded; the remote ref.
   */
  private async checkAll(label: string): Promise<void> {
    const repo = await Repo.open(this.dir)
    try {
      const result = await fsck(repo)
      assert.ok(result.ok, `${label}: fsck ${JSON.stringify(result.problems)}`)
      for (const c of this.commits.values()) {
        const v = await openVersion(repo, c.id)
        const lengths = Object.fromEntries(v.tensors().map((t) => [t.name, t.length]))
        assert.deepEqual(lengths, {content: c.files.size, path: c.files.size}, `${label}: commit ${c.id.slice(0, 12)} opens with its ${c.files.size} files`)
      }
      const ids = [...this.commits.keys()]
      for (const id of new Set([this.tips.main, this.tips.side, ids[Math.floor(this.rand() * ids.length)]])) await this.assertSamples(repo, this.commits.get(id)!, label)
    } finally {
      await repo.close()
    }
    assert.equal(await this.remote.ref('main'), this.pushed, `${label}: the remote ref`)
  }

  /** Reads every sample of a commit in-process (no files written) and compares it with the record. */
  private async assertSamples(repo: Repo, c: Committed, label: string): Promise<void> {
    const actual = await versionFiles(await openVersion(repo, c.id))
    assert.equal(fileSetDiff(actual, c.files), '', `${label}: samples of ${c.id.slice(0, 12)} differ from the record`)
  }

  private async assertExport(ds: Dataset, c: Committed, label: string): Promise<void> {
    const out = path.join(this.root, `export-${this.calls}-${c.id.slice(0, 8)}`)
    try {
      await ds.exportTo(out, {rev: c.id, format: 'files'})
      const diff = fileSetDiff(await hashTree(out), c.files)
      assert.equal(diff, '', `${label}: export of ${c.id.slice(0, 12)} differs from the record`)
    } finally {
      await fs.rm(out, {recursive: true, force: true})
    }
  }
}
