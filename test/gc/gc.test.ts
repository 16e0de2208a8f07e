// `lake gc`: garbage from staged-then-replaced changes, staged state discarded by `checkout
// --force` and a deleted branch; `--dry-run` reports counts and bytes and deletes nothing;
// `--prune=now` deletes exactly the unreachable objects (fsck: ok, 0 dangling) and every commit a
// branch, tag or reflog entry reaches still materializes the same values; the default grace period
// keeps young objects; a deduplicated write touches the object it finds, so gc keeps it.
// Objects are counted wherever they lie (files and packs: ../helpers/object-files.ts); ageing one
// packed object ages its whole pack.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import {Dataset} from '../../src/index.js'
import {assertErrorJson, assertRefused, okJson, Sandbox} from '../helpers/cli.js'
import {datasetState} from '../helpers/state.js'
import {backdate, isChunk, looseObjectFiles, objectFile, objectSizes, storedObjects} from '../helpers/object-files.js'
import {HOUR, reachableVersions} from './helpers.js'

const sum = (xs: Iterable<number>) => [...xs].reduce((a, b) => a + b, 0)

describe('lake gc', function () {
  this.timeout(120_000)
  let box: Sandbox
  beforeEach(() => {
    box = new Sandbox('lake-gc-')
  })
  afterEach(() => box.remove())

  it('--dry-run reports and deletes nothing; --prune=now deletes exactly the unreachable objects; every reachable version survives', async () => {
    const ds = await Dataset.init(box.dir)
    try {
      // Staged, then replaced by later staging (the earlier staged roots and index pages).
      await ds.createTensor('x', {htype: 'generic', dtype: 'i32'})
      await ds.append('x', Array.from({length: 50}, (_, i) => i))
      await ds.update('x', 0, 100)
      await ds.update('x', 0, 101)
      await ds.commit('c1')
      await ds.tag('v1')
      // Staged, then discarded by checkout --force (a chunk, index pages, roots).
      await ds.append('x', Array.from({length: 300}, (_, i) => 1000 + i))
      await ds.createTensor('tmp', {htype: 'text'})
      await ds.append('tmp', ['never committed'])
      await ds.checkout('main', {force: true})
      // A branch with two commits, deleted: its commits stay in HEAD's reflog.
      await ds.checkout('HEAD', {newBranch: 'feature'})
      await ds.append('x', [7])
      await ds.commit('f1')
      await ds.update('x', 1, 8)
      await ds.commit('f2')
      await ds.checkout('main')
      await ds.deleteBranch('feature')
      // Detached at the tag and back; one more commit.
      await ds.checkout('v1')
      await ds.checkout('main')
      await ds.update('x', 2, 9)
      await ds.commit('c2')
      // Staged at gc time: kept.
      await ds.append('x', [42])
    } finally {
      await ds.close()
    }
    const ds2 = await Dataset.open(box.dir)
    const versions = await reachableVersions(ds2)
    const staged = await ds2.tensors()
    const fsckBefore = await ds2.fsck()
    await ds2.close()
    assert.equal(versions.size, 4, 'c1, f1, f2, c2')
    assert.ok(fsckBefore.ok && fsckBefore.dangling > 0, JSON.stringify(fsckBefore))
    const before = objectSizes(box.dir)

    // Young garbage: the default grace period (1h) keeps all of it.
    const young = box.json('gc')
    assert.deepEqual([young.deleted, young.freedBytes, young.keptYoung.objects], [0, 0, fsckBefore.dangling])
    assert.deepEqual(objectSizes(box.dir), before)

    backdate(box.dir, 2 * HOUR)
    const dry = box.json('gc', '--dry-run', '--prune=now')
    assert.equal(dry.dryRun, true)
    assert.equal(dry.deleted, fsckBefore.dangling)
    assert.deepEqual(objectSizes(box.dir), before, 'a dry run deletes nothing')
    assert.ok(dry.byKind.chunk?.objects >= 1 && dry.byKind['index node']?.objects >= 1 && dry.byKind.root?.objects >= 1, JSON.stringify(dry.byKind))
    assert.equal(dry.byKind.commit, undefined, "no commit is garbage: the deleted branch's commits are in the reflog")
    assert.equal(sum(Object.values(dry.byKind as Record<string, {objects: number}>).map((k) => k.objects)), dry.deleted)
    assert.equal(sum(Object.values(dry.byKind as Record<string, {bytes: number}>).map((k) => k.bytes)), dry.freedBytes)
    const human = box.ok('gc', '--dry-run', '--prune=now')
    assert.match(human.stdout, new RegExp(`would delete ${dry.deleted} objects`))

    const real = box.json('gc', '--prune=now')
    assert.deepEqual([real.dryRun, real.deleted, real.freedBytes, real.byKind], [false, dry.deleted, dry.freedBytes, dry.byKind])
    const after = objectSizes(box.dir)
    const deleted = [...before.keys()].filter((h) => !after.has(h))
    assert.equal(deleted.length, real.deleted)
    assert.equal(sum(deleted.map((h) => before.get(h)!)), real.freedBytes, 'freedBytes: the sizes of the deleted objects')
    assert.ok([...after.keys()].every((h) => before.has(h)))

    const fsck = okJson(box.run(['fsck', '--json']))
    assert.deepEqual([fsck.ok, fsck.dangling, fsck.problems], [true, 0, []])
    const ds3 = await Dataset.open(box.dir)
    try {
      assert.deepEqual(await reachableVersions(ds3), versions, 'every reachable version materializes as before')
      assert.deepEqual(await ds3.tensors(), staged, 'the staged state is kept')
      assert.deepEqual((await ds3.gc({graceMs: 0})).deleted, 0, 'nothing left to collect')
    } finally {
      await ds3.close()
    }
  })

  it('keeps unreachable objects younger than --prune; older ones go', async () => {
    const ds = await Dataset.init(box.dir)
    try {
      await ds.createTensor('x', {htype: 'text'})
      await ds.append('x', ['a'])
      await ds.commit('c')
      await ds.append('x', ['discarded'])
      await ds.checkout('main', {force: true})
      const {dangling} = await ds.fsck()
      assert.ok(dangling > 0)
      const before = objectSizes(box.dir)
      backdate(box.dir, 20 * 60_000)
      const kept = box.json('gc', '--prune=30m')
      assert.deepEqual([kept.deleted, kept.keptYoung.objects], [0, dangling])
      assert.deepEqual(objectSizes(box.dir), before)
      const gone = box.json('gc', '--prune=10m')
      assert.equal(gone.deleted, dangling)
      assert.equal((await ds.fsck()).dangling, 0)
    } finally {
      await ds.close()
    }
  })

  it('a deduplicated write touches the object it finds: an old unreachable chunk written again survives gc', async () => {
    let ds = await Dataset.init(box.dir)
    try {
      await ds.createTensor('x', {htype: 'generic', dtype: 'i32'})
      await ds.append('x', [1, 2, 3])
      await ds.commit('base')
      const values = Array.from({length: 200}, (_, i) => 5000 + i)
      const before = objectSizes(box.dir)
      await ds.append('x', values)
      const stored = storedObjects(box.dir)
      const chunks = [...stored.values()].filter((o) => !before.has(o.hash) && isChunk(o)).map((o) => o.hash)
      assert.equal(chunks.length, 1, 'the append wrote one chunk')
      const [chunk] = chunks
      assert.equal(stored.get(chunk)!.packed, false, 'a chunk is a file of its own')
      await ds.checkout('main', {force: true})
      await ds.close()
      // Every object made a file of its own before it is aged, as all were before packs: the next
      // append's flush folds the small packs into its new one (mtime now), which would make the
      // old garbage in them young again and leave this gc nothing old to delete.
      await looseObjectFiles(box.dir, [...storedObjects(box.dir).values()].filter((o) => o.packed).map((o) => o.hash))
      backdate(box.dir, 2 * HOUR)

      // Another writer stages the same samples: the chunk is found (not written again) and touched.
      ds = await Dataset.open(box.dir)
      const mid = objectSizes(box.dir)
      await ds.append('x', values)
      const fresh = [...storedObjects(box.dir).values()].filter((o) => !mid.has(o.hash))
      assert.ok(fresh.every((o) => !isChunk(o)), 'no new chunk: deduplicated')
      assert.ok(fs.statSync(objectFile(box.dir, chunk)).mtimeMs > Date.now() - 10 * 60_000, 'touched')
      // Unreachable again before its writer commits (here: discarded), but young: gc keeps it.
      await ds.checkout('main', {force: true})
      const r = await ds.gc({graceMs: 30 * 60_000})
      assert.ok(r.deleted > 0, 'the old garbage goes')
      assert.ok(fs.existsSync(objectFile(box.dir, chunk)), 'the touched chunk stays')
      assert.ok(r.keptYoung.objects >= 1)
      // Once old, it goes (with the rest of the second append's pages).
      backdate(box.dir, 2 * HOUR)
      await ds.gc({graceMs: 30 * 60_000})
      assert.ok(!fs.existsSync(objectFile(box.dir, chunk)))
      const fsck = await ds.fsck()
      assert.deepEqual([fsck.ok, fsck.dangling], [true, 0])
    } finally {
      await ds.close()
    }
  })

  it('refuses --prune=banana (usage, exit 2) naming the value, and changes nothing', async () => {
    const ds = await Dataset.init(box.dir)
    await ds.createTensor('x', {htype: 'text'})
    await ds.append('x', ['a'])
    await ds.commit('c')
    await ds.append('x', ['staged'])
    await ds.close()
    const state = await datasetState(box.dir)
    const objects = objectSizes(box.dir)
    const [human, json, empty] = await box.all([['gc', '--prune=banana'], ['gc', '--prune', 'banana', '--json'], ['gc', '--prune=', '--json']])
    assertRefused(human, 2, ["'banana'"], {hint: 'now'})
    assertRefused(json, 2, ["'banana'"])
    assert.equal(assertErrorJson(json, 'USAGE').code, 'USAGE')
    assert.equal(empty.code, 2, empty.stderr)
    assert.deepEqual(await datasetState(box.dir), state)
    assert.deepEqual(objectSizes(box.dir), objects)
  })
})
