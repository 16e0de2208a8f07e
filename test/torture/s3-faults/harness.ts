// Family 5 (issue 7): push, pull, clone and reads against S3 through a proxy that injects seeded
// random faults (test/helpers/s3-proxy.ts, "chaos": 5xx, answers held past the client's timeout,
// connection resets before and after the work, bodies cut short). Every command under faults
// must either succeed (through retries) with exact results, or fail clearly: exit 1, one `error:`
// line naming S3 or the remote, a `hint:`, a JSON error with a lake error code, no stack trace.
// Whatever happened, the remote must never show a half-visible commit (every ref names a commit
// a fresh `clone --full` copies whole, fscks clean and materializes exactly), a failed command
// leaves the local dataset as it was, and the same command without faults then works.
//
// One trial, on a fresh prefix of the bucket (faulty steps marked *):
//   * push base (c1, c2) from the source dataset            [retried without faults if it failed]
//     clone P (lazy) of the remote: P is at base
//   * push main (c3 on top: incremental)                    [retried without faults if it failed]
//   * P: pull origin main (a fast-forward to c3)            [a failure changes nothing; retried]
//   * clone L (lazy), then * export of L's HEAD (reads through to the remote)
//   * clone F --full
//   then, without faults: clone --full V of the remote, fsck V, P, L and F clean, and every
//   branch of V, P's HEAD, L's and F's exports byte-identical to the source trees.
// And on a dataset whose objects live on S3 (init --storage s3://, commits move the branch there
// by compare-and-swap):
//   * add part2 (objects written to S3)                     [a failure stages nothing; retried]
//   * commit                                                [a failure is recovered the way a user
//     would: commit again; if "remote moved" (the first commit's ref write landed though its answer
//     was lost), pull, which must leave nothing staged]
//   then: its HEAD, the remote's branch and a fresh full clone of the location all materialize
//   part1 + part2 exactly, and fsck clean.
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import {snapshotDir} from '../../crash/cli.js'
import {describeRun, type CliResult} from '../../helpers/cli.js'
import {CHAOS_KINDS, type ChaosKind, type ChaosReport, type S3TestServer} from '../../helpers/s3.js'
import {freshUrl, Lake, s3Env, visibleState} from '../../remote/helpers.js'

/** The client's timeout under faults (LAKE_S3_TIMEOUT, seconds) and how long a slow answer is held. */
export const CLIENT_TIMEOUT_S = 1
export const SLOW_MS = 1300

export interface FaultReport {
  trials: number
  /** Commands run under faults, by command. */
  commands: Record<string, {ok: number; failed: number}>
  /** Requests the proxy saw under faults, and the faults it injected by kind. */
  requests: number
  injected: Record<ChaosKind, number>
  /** Failed commands by the error they reported (its first words, the S3 reason). */
  errors: Record<string, number>
  /** Commits on S3 storage that failed though their ref write landed, settled by a pull. */
  recoveredByPull: number
  /** Invariant violations (each a description); the test fails if any. */
  violations: string[]
  ms: number
}

export function emptyReport(): FaultReport {
  return {trials: 0, commands: {}, requests: 0, injected: Object.fromEntries(CHAOS_KINDS.map((k) => [k, 0])) as Record<ChaosKind, number>, errors: {}, recoveredByPull: 0, violations: [], ms: 0}
}

/** Files of a few KB to tens of KB, random (incompressible), under `dir`. */
function writeTree(dir: string, names: string[], rng: () => number): void {
  fs.mkdirSync(dir, {recursive: true})
  for (const name of names) fs.writeFileSync(path.join(dir, name), randomBytes(4_000 + Math.floor(rng() * 40_000)))
}

type UnderFaults = (what: string, at: Lake, args: string[]) => Promise<CliResult>
type OkAsync = (at: Lake, args: string[]) => Promise<CliResult>

export class S3FaultHarness {
  readonly report = emptyReport()
  private source!: Lake
  /** The trees each branch of the source must materialize as. */
  private expected!: {base: Map<string, string>; main: Map<string, string>}
  private trees!: string

  constructor(
    private readonly s3: S3TestServer,
    private readonly root: string,
    private readonly seed: number,
    private readonly rng: () => number,
  ) {}

  private get env(): Record<string, string> {
    return s3Env(this.s3)
  }

  /** The source dataset (no S3): c1 = part1, c2 = + part2 (branch base), c3 = + part3 (main). */
  async setup(): Promise<void> {
    const root = new Lake(this.root, this.env)
    this.trees = root.path('trees')
    writeTree(path.join(this.trees, 'part1'), Array.from({length: 10}, (_, i) => `a${i}.bin`), this.rng)
    writeTree(path.join(this.trees, 'part2'), Array.from({length: 6}, (_, i) => `b${i}.bin`), this.rng)
    writeTree(path.join(this.trees, 'part3'), Array.from({length: 6}, (_, i) => `c${i}.bin`), this.rng)
    const s = root.at('source')
    s.ok('init')
    // small chunks: many objects, so many requests for the faults to hit
    s.ok('config', 'chunk.size', '65536')
    for (const [k, part] of ['part1', 'part2', 'part3'].entries()) {
      s.ok('add', path.join(this.trees, part), '--format', 'files', '--prefix', part)
      s.ok('commit', '-m', `c${k + 1}`)
      if (part === 'part2') s.ok('branch', 'base')
    }
    this.source = s
    const tree = async (parts: string[]) => {
      const out = new Map<string, string>()
      for (const part of parts) for (const [k, v] of await snapshotDir(path.join(this.trees, part))) out.set(`${part}/${k}`, v)
      return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)))
    }
    this.expected = {base: await tree(['part1', 'part2']), main: await tree(['part1', 'part2', 'part3'])}
  }

  async trial(n: number): Promise<void> {
    const rate = [0.1, 0.2, 0.35][Math.floor(this.rng() * 3)]
    const {url, prefix} = freshUrl(this.s3, `faults${n}`)
    const remote = `t${n}`
    const dir = new Lake(path.join(this.root, `trial${n}`), this.env)
    const faulty = {...this.env, LAKE_S3_TIMEOUT: String(CLIENT_TIMEOUT_S)}
    const trialSeed = Math.floor(this.rng() * 2 ** 31)
    // A faulty step runs under its own chaos plan on one prefix, seeded from the trial and the step.
    const faultsOn = (prefix: string, seedBase: number): UnderFaults => {
      let step = 0
      return async (what, at, args) => {
        await this.s3.startChaos({seed: seedBase + step++, rate, prefix, slowMs: SLOW_MS})
        const r = await at.async([...args, '--json'], faulty)
        const chaos = await this.s3.stopChaos(prefix)
        this.account(chaos)
        this.judge(`trial ${n} (seed ${trialSeed}, rate ${rate}): ${what}`, r)
        if (r.code !== 0 && process.env.LAKE_TORTURE_VERBOSE) {
          console.log(`      trial ${n} ${what} failed: ${r.error}\n        faults: ${chaos.faults.map((f) => `${f.kind} ${f.method} ${f.key.slice(prefix.length)}${f.query}`).join('\n                ')}`)
        }
        return r
      }
    }
    const underFaults = faultsOn(prefix, trialSeed)
    const okAsync: OkAsync = async (at, args) => {
      const r = await at.async([...args, '--json'])
      if (r.code !== 0) this.violation(`trial ${n}: '${args.join(' ')}' without faults failed: ${describeRun(r)}`)
      return r
    }
    // The S3-storage scenario runs beside the remote one, on its own prefix and plans.
    const shared = this.sharedStorage(n, dir, faultsOn, trialSeed + 1000, okAsync)
    shared.catch(() => {}) // awaited (and its failure thrown) in finally
    this.source.ok('remote', 'add', remote, url)
    try {
      // push base under faults; a failure is retried without them
      if ((await underFaults('push base', this.source, ['push', remote, 'base'])).code !== 0) await this.checkRemote(n, url, 'after a failed push of base')
      if (!(await this.remoteHas(url, 'base'))) await okAsync(this.source, ['push', remote, 'base'])
      await okAsync(dir, ['clone', url, 'P'])
      const p = dir.at('P')

      // incremental push of main under faults
      if ((await underFaults('push main', this.source, ['push', remote, 'main'])).code !== 0) await this.checkRemote(n, url, 'after a failed push of main')
      if (!(await this.remoteHas(url, 'main'))) await okAsync(this.source, ['push', remote, 'main'])

      // pull (a fast-forward of P's base to main) under faults: all or nothing
      const before = await visibleState(p.cwd)
      const pulled = await underFaults('pull', p, ['pull', 'origin', 'main'])
      if (pulled.code !== 0) {
        const after = await visibleState(p.cwd)
        if (JSON.stringify(after) !== JSON.stringify(before)) this.violation(`trial ${n}: a failed pull changed P:\nbefore ${JSON.stringify(before)}\nafter ${JSON.stringify(after)}`)
        await okAsync(p, ['pull', 'origin', 'main'])
      }

      // lazy clone and a read through to the remote, under faults
      const cloned = await underFaults('clone (lazy)', dir, ['clone', url, 'L'])
      if (cloned.code !== 0 && fs.existsSync(dir.path('L'))) this.violation(`trial ${n}: a failed lazy clone left L/ behind`)
      if (cloned.code !== 0) await okAsync(dir, ['clone', url, 'L'])
      const l = dir.at('L')
      const exported = await underFaults('export (lazy reads)', l, ['export', 'HEAD', '--to', dir.path('L-out')])
      if (exported.code === 0) await this.sameTree(n, 'export of L under faults', dir.path('L-out'), this.expected.main)
      else if (fs.existsSync(dir.path('L-out'))) this.violation(`trial ${n}: a failed export left L-out/ behind`)

      // full clone under faults
      const full = await underFaults('clone --full', dir, ['clone', url, 'F', '--full'])
      if (full.code !== 0 && fs.existsSync(dir.path('F'))) this.violation(`trial ${n}: a failed full clone left F/ behind`)

      // without faults: the remote, and every dataset the trial made, whole and exact (the
      // checks are independent: run side by side)
      const exportsAs = async (at: Lake, out: string, what: string) => {
        if ((await okAsync(at, ['export', 'HEAD', '--to', dir.path(out)])).code === 0) await this.sameTree(n, what, dir.path(out), this.expected.main)
      }
      await Promise.all([
        this.checkRemote(n, url, 'at the end'),
        this.fsckClean(n, p, l, ...(full.code === 0 ? [dir.at('F')] : [])),
        exportsAs(p, 'P-out', "P's HEAD after the pull"),
        exportsAs(l, 'L-out2', "L's HEAD read again without faults"),
        full.code === 0 ? exportsAs(dir.at('F'), 'F-out', "F's HEAD") : undefined,
      ])
    } finally {
      await shared
      this.report.trials++
      this.source.run(['remote', 'remove', remote])
      fs.rmSync(dir.cwd, {recursive: true, force: true})
    }
  }

  /** add + commit on a dataset whose objects live on S3, under faults (see the top). */
  private async sharedStorage(n: number, dir: Lake, faultsOn: (prefix: string, seed: number) => UnderFaults, seed: number, okAsync: OkAsync): Promise<void> {
    const {url: sharedUrl, prefix} = freshUrl(this.s3, `faults${n}-shared`)
    const underFaults = faultsOn(prefix, seed)
    await okAsync(dir, ['init', 'S', '--storage', sharedUrl])
    const d = dir.at('S')
    await okAsync(d, ['config', 'chunk.size', '65536'])
    await okAsync(d, ['add', path.join(this.trees, 'part1'), '--format', 'files', '--prefix', 'part1'])
    await okAsync(d, ['commit', '-m', 'c1'])
    const before = await visibleState(d.cwd)
    const add = ['add', path.join(this.trees, 'part2'), '--format', 'files', '--prefix', 'part2']
    if ((await underFaults('add (objects on S3)', d, add)).code !== 0) {
      const after = await visibleState(d.cwd)
      if (JSON.stringify(after) !== JSON.stringify(before)) this.violation(`trial ${n}: a failed add on S3 storage changed the dataset`)
      await okAsync(d, add)
    }
    if ((await underFaults('commit (branch moved on S3 by CAS)', d, ['commit', '-m', 'c2'])).code !== 0) {
      const again = await d.async(['commit', '-m', 'c2', '--json'])
      if (again.code !== 0) {
        const code = (() => {
          try {
            return again.json<{error?: {code?: string}}>().error?.code
          } catch {
            return undefined
          }
        })()
        if (code !== 'REMOTE_MOVED') this.violation(`trial ${n}: commit after a failed commit: ${describeRun(again)}`)
        else {
          this.report.recoveredByPull++
          await okAsync(d, ['pull'])
          const st = await okAsync(d, ['status'])
          if (st.code === 0 && !st.json<{clean: boolean}>().clean) this.violation(`trial ${n}: after the pull something is still staged (the landed commit's changes, applied twice?): ${st.stdout}`)
        }
      }
    }
    await this.fsckClean(n, d)
    await okAsync(d, ['export', 'HEAD', '--to', dir.path('S-out')])
    await this.sameTree(n, 'the S3-storage dataset after add + commit under faults', dir.path('S-out'), this.expected.base)
    const head = (await okAsync(d, ['log', '-n', '1'])).json<{commits: {commit: string}[]}>().commits[0]?.commit
    const {S3Store} = await import('../../../src/core/storage/s3.js')
    const store = new S3Store(sharedUrl, this.s3.storeOptions())
    const there = new TextDecoder().decode(await store.get('refs/heads/main')).trim()
    await store.close()
    if (there !== head) this.violation(`trial ${n}: the S3 storage's main is ${there}, the dataset's HEAD ${head}`)
    const c = await dir.async(['clone', sharedUrl, 'S-clone', '--full', '--json'])
    if (c.code !== 0) return this.violation(`trial ${n}: clone --full of the S3 storage failed: ${describeRun(c)}`)
    await this.fsckClean(n, dir.at('S-clone'))
    await okAsync(dir.at('S-clone'), ['export', 'HEAD', '--to', dir.path('S-clone-out')])
    await this.sameTree(n, 'a full clone of the S3 storage', dir.path('S-clone-out'), this.expected.base)
  }

  /** A command under faults succeeded, or failed the way a user can act on. */
  private judge(what: string, r: CliResult): void {
    const name = r.args[0] === 'clone' && r.args.includes('--full') ? 'clone --full' : r.args[0] === 'clone' ? 'clone' : r.args[0]
    const tally = (this.report.commands[name] ??= {ok: 0, failed: 0})
    if (r.code === 0) {
      tally.ok++
      return
    }
    tally.failed++
    const problems: string[] = []
    if (r.code !== 1) problems.push(`exit ${r.code}, not 1`)
    if (r.error === undefined) problems.push('no error: line')
    else if (!/s3:\/\/|S3|remote/.test(r.error)) problems.push('the error names neither S3 nor the remote')
    if (r.hint === undefined) problems.push('no hint: line')
    if (/\n\s+at .+:\d+:\d+/.test(r.stderr)) problems.push('a stack trace on stderr')
    let code: string | undefined
    try {
      code = r.json<{error?: {code?: string}}>().error?.code
    } catch {
      problems.push('stdout is not one JSON document')
    }
    if (code === undefined || code === 'INTERNAL') problems.push(`JSON error code ${code}`)
    // grouped by what it says, not where: keys, URLs, endpoints and counts taken out
    const kind = (r.error ?? '?')
      .replace(/"[^"]*"/g, 'KEY')
      .replace(/s3:\/\/\S+/g, 's3://…')
      .replace(/https?:\/\/[\w.:]+/g, 'ENDPOINT')
      .replace(/\d+ attempts?/g, 'N attempts')
      .replace(/[0-9a-f]{12,}/g, 'H')
    this.report.errors[kind] = (this.report.errors[kind] ?? 0) + 1
    if (problems.length) this.violation(`${what}: ${problems.join('; ')}\n${describeRun(r)}`)
  }

  private account(chaos: ChaosReport): void {
    this.report.requests += chaos.requests
    for (const k of CHAOS_KINDS) this.report.injected[k] += chaos.injected[k]
  }

  private violation(text: string): void {
    this.report.violations.push(text)
    console.log(`      VIOLATION ${text}`)
  }

  private async remoteHas(url: string, branch: string): Promise<boolean> {
    const {S3Store} = await import('../../../src/core/storage/s3.js')
    const store = new S3Store(url, this.s3.storeOptions())
    try {
      return await store.exists(`refs/heads/${branch}`)
    } finally {
      await store.close()
    }
  }

  /**
   * Every ref of the remote names a whole commit: a fresh full clone (no faults) copies it, fscks
   * clean, and each branch materializes as its source tree.
   */
  private async checkRemote(n: number, url: string, when: string): Promise<void> {
    const dir = new Lake(path.join(this.root, `check${n}-${Math.floor(this.rng() * 1e9)}`), this.env)
    try {
      const heads = ['base', 'main']
      const present: string[] = []
      for (const b of heads) if (await this.remoteHas(url, b)) present.push(b)
      if (present.length === 0) return
      const r = await dir.async(['clone', url, 'V', '--full', '--json'])
      if (r.code !== 0) return this.violation(`trial ${n} ${when}: clone --full of the remote failed: ${describeRun(r)}`)
      const v = dir.at('V')
      await Promise.all([
        this.fsckClean(n, v),
        ...present.map(async (b) => {
          const rev = b === 'main' ? 'main' : `origin/${b}`
          const e = await v.async(['export', rev, '--to', dir.path(`V-${b}`), '--json'])
          if (e.code !== 0) this.violation(`trial ${n} ${when}: export ${rev} of the remote's clone failed: ${describeRun(e)}`)
          else await this.sameTree(n, `remote branch ${b} ${when}`, dir.path(`V-${b}`), this.expected[b as 'base' | 'main'])
        }),
      ])
    } finally {
      fs.rmSync(dir.cwd, {recursive: true, force: true})
    }
  }

  private async fsckClean(n: number, ...datasets: Lake[]): Promise<void> {
    const results = await Promise.all(datasets.map((d) => d.async(['fsck', '--json'])))
    results.forEach((r, i) => {
      const ok = r.code === 0 && (() => {
        try {
          const doc = r.json<{ok: boolean; problems: unknown[]}>()
          return doc.ok && doc.problems.length === 0
        } catch {
          return false
        }
      })()
      if (!ok) this.violation(`trial ${n}: fsck of ${datasets[i].cwd} not clean: ${describeRun(r)}`)
    })
  }

  private async sameTree(n: number, what: string, dir: string, expected: Map<string, string>): Promise<void> {
    const got = await snapshotDir(dir)
    if (JSON.stringify([...got]) !== JSON.stringify([...expected])) {
      const missing = [...expected.keys()].filter((k) => got.get(k) !== expected.get(k))
      const extra = [...got.keys()].filter((k) => !expected.has(k))
      this.violation(`trial ${n}: ${what} differs from the source: wrong or missing ${missing.join(', ')}; extra ${extra.join(', ')}`)
    }
  }
}

/** Prints the run's figures (the table in docs/RELIABILITY.md §5 is made from these lines). */
export function printReport(seed: number, r: FaultReport): void {
  const faults = Object.values(r.injected).reduce((a, b) => a + b, 0)
  console.log(`      s3-faults seed ${seed}: ${r.trials} trials in ${(r.ms / 1000).toFixed(0)} s; ${r.requests} requests under faults, ${faults} faults injected`)
  console.log(`      faults by kind: ${JSON.stringify(r.injected)}`)
  console.log(`      commands under faults: ${JSON.stringify(r.commands)}`)
  for (const [kind, count] of Object.entries(r.errors).sort((a, b) => b[1] - a[1])) console.log(`      ${String(count).padStart(4)} × error: ${kind}`)
  console.log(`      failed commits on S3 storage whose ref had moved, settled by pull: ${r.recoveredByPull}`)
  console.log(`      violations: ${r.violations.length}`)
}
