// Family 4, damaged objects: on a copy of a small dataset with a few commits, a branch, a tag and
// staged changes, one object (commit, version root, index node or chunk) is flipped, zeroed,
// truncated, swapped for another or deleted, seeded. Chunks are files of their own; the other
// objects lie in packs: those faults work on a file of the object's own (the object taken out of
// its pack first: test/helpers/object-files.ts looseObjectFile), and a packed object may also be
// flipped or zeroed in place, inside its pack (its index and the other objects in it intact). Then:
//  - fsck (in-process) is not ok and has a problem naming the object, with exactly the commits
//    whose version contains it (and the staged flag), as an independent walk computed them;
//  - every read of every version (scans, point reads, column reads) returns the right samples or
//    fails with a lake error: never wrong data; a damaged commit, root or node fails a read of
//    every version containing it, a damaged chunk fails some read whenever the damage touches
//    sample bytes (a raw chunk's 8-byte header is not read by ranged reads: fsck alone sees it);
//  - a sample of the cases runs `lake fsck --json` and `lake export` through the CLI.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {createHash} from 'node:crypto'
import {Repo} from '../../../src/core/repo/repo.js'
import {Version} from '../../../src/index.js'
import {fsck, type FsckResult} from '../../../src/core/ops/fsck.js'
import {readStaged} from '../../../src/core/version/source.js'
import {describeRun, runLake} from '../../helpers/cli.js'
import {FULL, prng, runs, seed} from '../knobs.js'
import {assertLakeError} from '../hostile/check.js'
import {editInPlace, looseObjectFile, readObject, storedObjects} from '../../helpers/object-files.js'
import {columnText, makeFixture, type Fixture, type Kind, type ObjectInfo} from './fixture.js'

const SEED = seed()
const KINDS: Kind[] = ['commit', 'root', 'node', 'chunk']
const FAULTS = ['flip', 'zero', 'truncate', 'swap', 'delete'] as const
/** Faults of a packed object's bytes where they lie, inside its pack. */
const IN_PACK_FAULTS = ['flip in pack', 'zero in pack'] as const
type Fault = (typeof FAULTS)[number] | (typeof IN_PACK_FAULTS)[number]

interface Damage {
  object: ObjectInfo
  fault: Fault
  /** Damaged byte range [start, end) of the object's stored bytes (all of them for swap and delete). */
  start: number
  end: number
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const pickWith = (rnd: () => number) => <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]

/** Flips one byte or zeroes a run of the object's bytes (in place), seeded: the damaged range. */
function flipOrZero(bytes: Buffer, flip: boolean, hash: string, rnd: () => number): [number, number] {
  const at = Math.floor(rnd() * bytes.length)
  const end = flip ? at + 1 : Math.min(bytes.length, at + 1 + Math.floor(rnd() * 64))
  if (flip) bytes[at] ^= 1 + Math.floor(rnd() * 255)
  else bytes.fill(0, at, end)
  if (sha(bytes) === hash) bytes[at] ^= 0xff // the range was zero already: damage it all the same
  return [at, end]
}

/** Flips or zeroes a packed object's bytes inside its pack of the copy at `dir`: nothing else of the pack changes. */
function damageInPack(dir: string, object: ObjectInfo, fault: (typeof IN_PACK_FAULTS)[number], rnd: () => number): Damage {
  const stored = storedObjects(dir).get(object.hash)
  assert.ok(stored?.packed && stored.copies === 1, `${object.kind} ${object.hash} lies in one pack`)
  let range: [number, number] = [0, 0]
  editInPlace(stored, (bytes) => (range = flipOrZero(bytes, fault === 'flip in pack', object.hash, rnd)))
  assert.equal(storedObjects(dir).get(object.hash)?.file, stored.file, 'the pack still reads (its index is intact)')
  return {object, fault, start: range[0], end: range[1]}
}

/** Applies one seeded fault to one object of the copy at `dir`. */
async function damage(dir: string, fx: Fixture, rnd: () => number): Promise<Damage> {
  const pick = pickWith(rnd)
  const kind = pick(KINDS)
  const object = pick(fx.objects.filter((o) => o.kind === kind))
  const fault = pick<Fault>(object.packed ? [...FAULTS, ...IN_PACK_FAULTS] : FAULTS)
  if (fault === 'flip in pack' || fault === 'zero in pack') return damageInPack(dir, object, fault, rnd)
  // The others damage a file of the object's own: a packed object is taken out of its pack first.
  const file = await looseObjectFile(dir, object.hash)
  const bytes = fs.readFileSync(file)
  if (fault === 'delete') {
    fs.rmSync(file)
    return {object, fault, start: 0, end: bytes.length}
  }
  if (fault === 'truncate') {
    const keep = Math.floor(rnd() * bytes.length)
    fs.truncateSync(file, keep)
    return {object, fault, start: keep, end: bytes.length}
  }
  if (fault === 'swap') {
    // A whole other object of the same kind where this one should be (a misfiled write).
    const other = pick(fx.objects.filter((o) => o.kind === kind && o.hash !== object.hash))
    fs.writeFileSync(file, readObject(dir, other.hash))
    return {object, fault, start: 0, end: bytes.length}
  }
  const [start, end] = flipOrZero(bytes, fault === 'flip', object.hash, rnd)
  fs.writeFileSync(file, bytes)
  return {object, fault, start, end}
}

/** Whether some read must notice: everything but a raw chunk's header, which ranged reads skip. */
function readsMustFail(d: Damage): boolean {
  if (d.object.kind !== 'chunk' || d.object.lz4 || d.fault === 'delete' || d.fault === 'swap') return true
  return d.end > 8
}

interface ReadReport {
  /** Versions with at least one read refused. */
  failed: Set<string>
  reads: number
}

/** Reads every version every way; asserts no read returns wrong data. */
async function readEverything(dir: string, fx: Fixture, what: string): Promise<ReadReport> {
  const repo = await Repo.open(dir)
  const failed = new Set<string>()
  let reads = 0
  const attempt = async <T>(version: string, fn: () => Promise<T>): Promise<T | undefined> => {
    reads++
    try {
      return await fn()
    } catch (err) {
      assertLakeError(err, `${what}: reading ${version}`)
      failed.add(version)
      return undefined
    }
  }
  try {
    for (const version of [...fx.commits, 'staged']) {
      const rootHash = await attempt(version, async () => (version === 'staged' ? (await repo.withDb(readStaged))!.root : (await repo.data.getCommit(version)).root))
      if (rootHash === undefined) continue
      const root = await attempt(version, () => repo.data.getRoot(rootHash))
      if (root === undefined) continue
      const v = new Version(version, root, repo.data)
      for (const [name, expected] of fx.samples.get(version)!) {
        const t = root.tensors[name]
        assert.equal(t.length, expected.length, `${what}: ${version} ${name} length`)
        await attempt(version, async () => {
          let i = 0
          for await (const {index, bytes} of repo.data.readRange(t, 0, t.length)) {
            assert.equal(index, i, `${what}: scan order`)
            assert.equal(sha(bytes), expected[i], `${what}: WRONG DATA from a scan of ${version} ${name}[${i}]`)
            i++
          }
          assert.equal(i, expected.length, `${what}: scan of ${version} ${name} ended early`)
        })
        for (const i of [0, Math.floor(expected.length / 2), expected.length - 1]) {
          const bytes = await attempt(version, async () => v.readBytes(name, i))
          if (bytes) assert.equal(sha(bytes), expected[i], `${what}: WRONG DATA from a point read of ${version} ${name}[${i}]`)
        }
        const column = await attempt(version, () => v.column(name))
        if (column !== undefined) assert.equal(columnText(column), fx.columns.get(version)!.get(name), `${what}: WRONG DATA from a column read of ${version} ${name}`)
      }
    }
  } finally {
    await repo.close()
  }
  return {failed, reads}
}

function checkFsck(result: FsckResult, d: Damage, what: string): void {
  assert.equal(result.ok, false, `${what}: fsck said ok`)
  const mine = result.problems.filter((p) => p.object === d.object.hash)
  assert.ok(mine.length > 0, `${what}: no fsck problem names ${d.object.hash}: ${JSON.stringify(result.problems)}`)
  for (const p of mine) {
    assert.deepEqual(p.commits, d.object.commits, `${what}: fsck names the wrong commits for ${d.object.kind} ${d.object.hash}`)
    assert.equal(p.staged, d.object.staged, `${what}: fsck staged flag`)
  }
}

describe('torture 4: damaged objects', function () {
  this.timeout(FULL ? 0 : 60_000)
  let fx: Fixture
  const work = () => fs.mkdtempSync(path.join(path.dirname(fx.dir), 'case-'))
  const figures = {cases: 0, fsckDetected: 0, readDetected: 0, headerOnly: 0, reads: 0, cli: 0, byKind: {} as Record<string, number>, byFault: {} as Record<string, number>}

  before(async () => {
    fx = await makeFixture()
  })
  after(() => {
    fs.rmSync(path.dirname(fx.dir), {recursive: true, force: true})
    console.log(`damaged objects (seed ${SEED}): ${JSON.stringify(figures)}`)
  })

  /** fsck and every read of the damaged copy at `dir`, checked against what the damage affects. */
  async function checkCase(dir: string, d: Damage, what: string): Promise<void> {
    const repo = await Repo.open(dir)
    let result: FsckResult
    try {
      result = await fsck(repo)
    } finally {
      await repo.close()
    }
    checkFsck(result, d, what)
    const {failed, reads} = await readEverything(dir, fx, what)
    const affected = [...d.object.commits, ...(d.object.staged ? ['staged'] : [])]
    if (d.object.kind !== 'chunk') {
      for (const v of affected) assert.ok(failed.has(v), `${what}: no read of ${v} noticed the damage`)
    } else if (readsMustFail(d)) {
      assert.ok(affected.some((v) => failed.has(v)), `${what}: no read noticed the damaged chunk`)
    } else {
      figures.headerOnly++
    }
    // (for damage inside a pack: the other objects of the pack read as before)
    for (const v of failed) assert.ok(affected.includes(v), `${what}: a read of ${v} failed, which does not contain the object`)
    figures.cases++
    figures.fsckDetected++
    if (failed.size > 0) figures.readDetected++
    figures.reads += reads
    figures.byKind[d.object.kind] = (figures.byKind[d.object.kind] ?? 0) + 1
    figures.byFault[d.fault] = (figures.byFault[d.fault] ?? 0) + 1
  }

  it('every damaged object: fsck names it and the commits it affects; reads never return wrong data', async () => {
    const rnd = prng(SEED)
    const n = runs('CORRUPTION', 10, 600)
    for (let c = 0; c < n; c++) {
      const dir = path.join(work(), 'ds')
      fs.cpSync(fx.dir, dir, {recursive: true})
      const d = await damage(dir, fx, rnd)
      await checkCase(dir, d, `case ${c} (seed ${SEED}): ${d.fault} ${d.object.kind} ${d.object.hash} [${d.start}, ${d.end})`)
      fs.rmSync(path.dirname(dir), {recursive: true, force: true})
    }
  })

  it('every packed kind damaged in place, inside its pack: fsck names the object and the commits it affects; reads never return wrong data', async () => {
    // (the random faults above reach inside packs too, but a quick run of 10 cases may not)
    const rnd = prng(SEED + 2)
    const pick = pickWith(rnd)
    const packed = fx.objects.filter((o) => o.packed)
    const kinds = KINDS.filter((k) => packed.some((o) => o.kind === k))
    assert.deepEqual(kinds, ['commit', 'root', 'node'], 'commits, roots and index nodes lie in packs')
    assert.ok(fx.objects.filter((o) => o.kind === 'chunk').every((o) => !o.packed), 'chunks are files of their own')
    const n = runs('CORRUPTION_PACK', 2 * kinds.length, 300)
    for (let c = 0; c < n; c++) {
      const dir = path.join(work(), 'ds')
      fs.cpSync(fx.dir, dir, {recursive: true})
      const object = pick(packed.filter((o) => o.kind === kinds[c % kinds.length]))
      const d = damageInPack(dir, object, pick(IN_PACK_FAULTS), rnd)
      await checkCase(dir, d, `in-pack case ${c} (seed ${SEED + 2}): ${d.fault} ${d.object.kind} ${d.object.hash} [${d.start}, ${d.end})`)
      fs.rmSync(path.dirname(dir), {recursive: true, force: true})
    }
  })

  it('through the CLI: fsck --json names the object and commits; reading an affected commit fails with a lake error', async () => {
    const rnd = prng(SEED + 1)
    const n = runs('CORRUPTION_CLI', 1, 40)
    for (let c = 0; c < n; c++) {
      const dir = path.join(work(), 'ds')
      fs.cpSync(fx.dir, dir, {recursive: true})
      let d = await damage(dir, fx, rnd)
      while (d.object.kind === 'chunk' && !readsMustFail(d)) {
        fs.rmSync(dir, {recursive: true})
        fs.cpSync(fx.dir, dir, {recursive: true})
        d = await damage(dir, fx, rnd)
      }
      const what = `CLI case ${c} (seed ${SEED + 1}): ${d.fault} ${d.object.kind} ${d.object.hash}`
      const r = runLake(['fsck', '--json'], {cwd: dir})
      assert.equal(r.code, 1, describeRun(r))
      checkFsck(r.json<FsckResult>(), d, what)
      if (c === 0) {
        // The human report names the affected versions too.
        const human = runLake(['fsck'], {cwd: dir})
        assert.equal(human.code, 1, describeRun(human))
        assert.match(human.stderr, new RegExp(`problem: ${d.object.hash}: .*\\(affects `), describeRun(human))
      }
      // Export every version containing it: each must refuse (a chunk: at least one).
      const targets = d.object.commits.length > 0 ? d.object.commits : []
      let refused = 0
      for (const commit of targets) {
        const e = runLake(['export', commit, '--to', 'out', '--format', 'jsonl', '--json'], {cwd: dir})
        assert.ok(e.code === 0 || e.code === 1, describeRun(e))
        assert.doesNotMatch(e.stderr, /^\s+at |TypeError|RangeError/m, describeRun(e))
        if (e.code === 1) {
          refused++
          assert.notEqual(e.json<{error: {code: string}}>().error.code, 'INTERNAL', describeRun(e))
          assert.ok(!fs.existsSync(path.join(dir, 'out')), `${what}: a refused export left files`)
        }
        fs.rmSync(path.join(dir, 'out'), {recursive: true, force: true})
      }
      if (targets.length > 0) assert.ok(d.object.kind === 'chunk' ? refused > 0 : refused === targets.length, `${what}: export of damaged versions succeeded`)
      figures.cli++
      fs.rmSync(path.dirname(dir), {recursive: true, force: true})
    }
  })
})
