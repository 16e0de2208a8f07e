// Packs of the file store (storage/fs-pack.ts): the format round-trips, the folding rule keeps a
// store at few packs, and a store reads, lists, touches and deletes packed objects — also when
// another instance (another process) writes, folds or rewrites packs under it.
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import fc from 'fast-check'
import {FsStore} from '../../src/core/storage/fs.js'
import {buildPack, PACK_DIR, packsToMerge, readPackIndex} from '../../src/core/storage/fs-pack.js'
import {ObjectDb} from '../../src/core/storage/objects.js'
import {collect, rejectsWithCode} from './contract.js'

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (b: Uint8Array) => new TextDecoder().decode(b)

describe('pack format', () => {
  let dir: string
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'lake-pack-'))))
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('every key of a pack is found at its bytes, and no other key is (fast-check)', () => {
    const keyArb = fc.stringMatching(/^[a-z0-9/._-]{1,40}$/)
    fc.assert(
      fc.property(fc.uniqueArray(fc.record({key: keyArb, bytes: fc.uint8Array({maxLength: 300})}), {selector: (o) => o.key, maxLength: 60}), fc.array(keyArb, {maxLength: 20}), (objects, probes) => {
        const built = buildPack(objects)
        const file = join(dir, built.name)
        writeFileSync(file, Buffer.concat(built.parts))
        assert.equal(statSync(file).size, built.size)
        const {index} = readPackIndex(file)
        const whole = readFileSync(file)
        for (const {key, bytes: b} of objects) {
          const at = index.lookup(key)
          assert.ok(at, key)
          assert.deepEqual(new Uint8Array(whole.subarray(at.offset, at.offset + at.length)), b)
        }
        const present = new Set(objects.map((o) => o.key))
        for (const probe of probes) assert.equal(index.lookup(probe) !== undefined, present.has(probe))
        assert.deepEqual(new Set([...index.entries()].map(([k]) => k)), present)
        rmSync(file)
      }),
      {numRuns: 150},
    )
  })

  it('a damaged index or a truncated pack is refused, naming the file', () => {
    const built = buildPack([{key: 'objects/aa/x', bytes: bytes('hello')}])
    const whole = Buffer.concat(built.parts)
    const file = join(dir, built.name)
    const flipped = Buffer.from(whole)
    flipped[whole.length - 40] ^= 1 // inside the index
    writeFileSync(file, flipped)
    assert.throws(() => readPackIndex(file), (e: Error) => e.message.includes(file) && /checksum/.test(e.message))
    writeFileSync(file, whole.subarray(0, whole.length - 5))
    assert.throws(() => readPackIndex(file), (e: Error) => e.message.includes(file) && /trailer|short/.test(e.message))
  })

  it('an index read once is not read again for the same file (a touch keeps it); another file at the path, or `fresh`, is read', () => {
    const built = buildPack([{key: 'objects/aa/x', bytes: bytes('hello')}, {key: 'objects/bb/y', bytes: bytes('world')}])
    const whole = Buffer.concat(built.parts)
    const file = join(dir, built.name)
    writeFileSync(file, whole)
    const first = readPackIndex(file).index
    assert.equal(readPackIndex(file).index, first, 'the same file: the index read before')
    const later = new Date(Date.now() + 5000)
    utimesSync(file, later, later) // gc's touch
    const touched = readPackIndex(file)
    assert.equal(touched.index, first, 'a touch changes nothing the index depends on')
    assert.equal(touched.mtimeMs, statSync(file).mtimeMs, "the mtime is the file's now")
    const flipped = Buffer.from(whole)
    flipped[whole.length - 40] ^= 1 // damage inside the index, after it was read and checked here
    writeFileSync(file, flipped)
    assert.equal(readPackIndex(file).index, first, 'the checked index is kept (every object read is checked anyway)')
    assert.throws(() => readPackIndex(file, {fresh: true}), /checksum/, 'fresh (fsck): read from disk, and refused')
    const other = buildPack([{key: 'objects/cc/z', bytes: bytes('another pack')}])
    writeFileSync(`${file}.tmp`, Buffer.concat(other.parts))
    renameSync(`${file}.tmp`, file) // another file under the same name
    const replaced = readPackIndex(file).index
    assert.ok(replaced.lookup('objects/cc/z') && !replaced.lookup('objects/bb/y'), 'the file there now')
    rmSync(file)
    assert.throws(() => readPackIndex(file), (e: NodeJS.ErrnoException) => e.code === 'ENOENT', 'gone: not answered from memory')
  })

  it('folding leaves packs each at least twice the size of all smaller ones together (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({min: 1, max: 1e6}), {maxLength: 30}), (sizes) => {
        const packs = sizes.map((size, id) => ({id, size}))
        const fold = packsToMerge(packs)
        assert.ok(fold.length === 0 || fold.length >= 2)
        const folded = new Set(fold.map((p) => p.id))
        const left = [...packs.filter((p) => !folded.has(p.id)).map((p) => p.size), ...(fold.length ? [fold.reduce((n, p) => n + p.size, 0)] : [])].sort((a, b) => a - b)
        let smaller = 0
        for (const size of left) {
          assert.ok(smaller === 0 || size >= 2 * smaller, `${size} after ${smaller} (left ${left})`)
          smaller += size
        }
      }),
      {numRuns: 300},
    )
  })
})

describe('FsStore packs', () => {
  let root: string
  let store: FsStore
  const packs = () => (existsSync(join(root, PACK_DIR)) ? readdirSync(join(root, PACK_DIR)) : [])
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'lake-fs-pack-'))
    store = new FsStore(root)
  })
  afterEach(async () => {
    await store.close().catch(() => {})
    rmSync(root, {recursive: true, force: true})
  })

  it('a flush after each of 64 commands keeps a handful of packs, every object readable from a new instance', async () => {
    const keys: string[] = []
    for (let c = 0; c < 64; c++) {
      for (let i = 0; i < 10; i++) {
        const key = `objects/${(c * 10 + i) % 256}/c${c}-${i}`
        keys.push(key)
        await store.put(key, bytes(key.repeat(1 + (i % 3))), {deferSync: true})
      }
      await store.flush()
      assert.ok(packs().length <= 8, `${packs().length} packs after ${c + 1} flushes`)
    }
    assert.ok(packs().every((n) => /^pack-[0-9a-f]{32}\.pack$/.test(n)), 'only packs, no temp file')
    const other = new FsStore(root)
    try {
      for (const [i, key] of keys.entries()) assert.equal(text(await other.get(key)), key.repeat(1 + (i % 10 % 3)))
      assert.deepEqual((await collect(other.list('objects/'))).map((o) => o.key), [...keys].sort())
    } finally {
      await other.close()
    }
  })

  it('a pack of large and small objects, and an index over 256 KiB, is written in order: every object reads back (found by the 1M-row benchmark)', async () => {
    const objects: [string, Uint8Array][] = []
    for (let i = 0; i < 3000; i++) {
      const size = i === 10 ? 300 * 1024 : i === 2000 ? 2 * 1024 * 1024 : 1 + (i % 50)
      objects.push([`objects/${(i % 256).toString(16).padStart(2, '0')}/object-${i}`, new Uint8Array(size).fill(i % 251)])
    }
    for (const [key, b] of objects) await store.put(key, b, {deferSync: true})
    await store.flush()
    const other = new FsStore(root)
    try {
      for (const [key, b] of objects) assert.deepEqual(await other.get(key), b, key)
      assert.deepEqual([...other.damagedPacks.keys()], [])
    } finally {
      await other.close()
    }
  })

  it('any mix of object sizes packs and reads back exactly, across flushes and folds (fast-check)', async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.constantFrom(0, 1, 40, 3000, 70_000, 300_000, 1_200_000), {minLength: 1, maxLength: 12}), {minLength: 1, maxLength: 4}), async (flushes) => {
        const dir = join(root, `run-${run++}`)
        const writer = new FsStore(dir)
        const written: [string, Uint8Array][] = []
        try {
          for (const [f, sizes] of flushes.entries()) {
            for (const [i, size] of sizes.entries()) {
              const key = `objects/${(f * 16 + i).toString(16).padStart(2, '0')}/f${f}-${i}`
              const b = new Uint8Array(size).fill((f * 31 + i) % 251)
              written.push([key, b])
              await writer.put(key, b, {deferSync: true})
            }
            await writer.flush()
          }
        } finally {
          await writer.close()
        }
        const reader = new FsStore(dir)
        try {
          for (const [key, b] of written) assert.deepEqual(await reader.get(key), b, key)
        } finally {
          await reader.close()
        }
      }),
      {numRuns: 25},
    )
  })

  it('an object put while a flush runs waits for the next flush: it may name a chunk put after the flush began', async () => {
    await store.put('objects/aa/c1', bytes('chunk one'), {deferSync: true, standalone: true})
    const flushing = store.flush()
    // (the flush is now fsyncing c1; these land meanwhile)
    await store.put('objects/bb/c2', bytes('chunk two'), {deferSync: true, standalone: true})
    await store.put('objects/cc/names-c2', bytes('an index page naming c2'), {deferSync: true})
    await flushing
    const other = new FsStore(root)
    try {
      if (await other.exists('objects/cc/names-c2')) assert.equal(await other.exists('objects/bb/c2'), true, 'a page visible before the chunk it names')
      await store.flush()
      assert.equal(await other.exists('objects/cc/names-c2'), true)
      assert.equal(await other.exists('objects/bb/c2'), true)
    } finally {
      await other.close()
    }
  })

  it('another instance finds objects packed after it first looked, and follows a pack folded away under it', async () => {
    const other = new FsStore(root)
    try {
      await store.put('objects/aa/first', bytes('first'), {deferSync: true})
      await store.flush()
      assert.equal(await other.exists('objects/aa/first'), true) // other has now read the pack's index (no descriptor open)
      await store.put('objects/bb/second', bytes('second'.repeat(20)), {deferSync: true})
      await store.flush() // as large as the first pack: folds it into a new one, so the pack other knows is gone
      assert.equal(packs().length, 1)
      assert.equal(text(await other.get('objects/aa/first')), 'first')
      assert.equal(text(await other.get('objects/bb/second')), 'second'.repeat(20))
      assert.equal(text(await other.getRange('objects/bb/second', 1, 3)), 'eco')
    } finally {
      await other.close()
    }
  })

  it('a store does not trust packs it read for a write: an object another instance deleted (gc) is written again, not skipped', async () => {
    const db = new ObjectDb(store)
    const hash = await db.put(bytes('collected, then wanted again'))
    await db.flush()
    assert.equal(await store.touch(db.keyOf(hash)), true) // found in its pack (and the pack touched)
    assert.equal(await store.exists(db.keyOf(hash)), true)
    const gc = new FsStore(root)
    await gc.delete(db.keyOf(hash)) // its pack is rewritten without it
    await gc.close()
    assert.equal(await db.put(bytes('collected, then wanted again')), hash)
    await db.flush()
    const fresh = new ObjectDb(new FsStore(root))
    try {
      assert.equal(await fresh.verify(hash), 'ok')
    } finally {
      await fresh.store.close()
    }
  })

  it('concurrent reads in one store of objects in a pack it has not read yet all succeed (review finding)', async () => {
    const reader = new FsStore(root)
    try {
      assert.equal(await reader.exists('objects/00/none'), false) // (its pack list is now read: empty)
      await store.put('objects/aa/a', bytes('node a'), {deferSync: true})
      await store.put('objects/bb/b', bytes('node b'), {deferSync: true})
      await store.flush()
      const [a, b] = await Promise.all([reader.get('objects/aa/a'), reader.getRange('objects/bb/b', 0, 4)])
      assert.deepEqual([text(a), text(b)], ['node a', 'node'])
      const other = new FsStore(root)
      await other.exists('objects/00/none')
      await store.put('objects/cc/c', bytes('node c'), {deferSync: true})
      await store.put('objects/dd/d', bytes('node d'), {deferSync: true})
      await store.flush()
      assert.deepEqual(await Promise.all([other.exists('objects/cc/c'), other.exists('objects/dd/d')]), [true, true])
      await other.close()
    } finally {
      await reader.close()
    }
  })

  it("gc's rewrite drops an object only from the packs that held it when deleted, and not from one a writer touched since (review finding)", async () => {
    const writer = new FsStore(root)
    try {
      await store.put('objects/aa/reused', bytes('old, unreachable, reused'), {deferSync: true})
      await store.put('objects/bb/other', bytes('other'), {deferSync: true})
      await store.flush()
      const gc = new FsStore(root)
      await gc.delete('objects/aa/reused') // gc decided: old and unreachable
      await new Promise((resolve) => setTimeout(resolve, 5)) // (a touch in a later millisecond)
      // meanwhile a writer needs it again, finds it in its pack and touches the pack
      await writer.putUnlessPresent('objects/aa/reused', bytes('old, unreachable, reused'), {deferSync: true})
      await writer.flush()
      await gc.close() // gc's rewrite: the touched pack keeps it
      const fresh = new FsStore(root)
      try {
        assert.equal(text(await fresh.get('objects/aa/reused')), 'old, unreachable, reused')
      } finally {
        await fresh.close()
      }
      // untouched: dropped
      const gc2 = new FsStore(root)
      await gc2.delete('objects/bb/other')
      await gc2.close()
      const fresh2 = new FsStore(root)
      try {
        assert.equal(await fresh2.exists('objects/bb/other'), false)
        assert.equal(await fresh2.exists('objects/aa/reused'), true)
      } finally {
        await fresh2.close()
      }
    } finally {
      await writer.close()
    }
  })

  it("exists does not answer from a pack another instance's gc has since replaced; an ifNoneMatch put refuses a packed key on every path (review findings)", async () => {
    await store.put('objects/aa/k', bytes('k'), {deferSync: true})
    await store.put('objects/bb/keep', bytes('keep'), {deferSync: true})
    await store.flush()
    assert.equal(await store.exists('objects/aa/k'), true)
    await rejectsWithCode(store.put('objects/bb/keep', bytes('keep'), {ifNoneMatch: '*'}), 'PRECONDITION_FAILED')
    const gc = new FsStore(root)
    await gc.delete('objects/aa/k')
    await gc.close()
    assert.equal(await store.exists('objects/aa/k'), false)
    assert.equal(await store.exists('objects/bb/keep'), true)
  })

  it('a deleted packed object is gone at once here, from disk at the flush; others keep theirs', async () => {
    for (let i = 0; i < 5; i++) await store.put(`objects/0${i}/k`, bytes(`v${i}`), {deferSync: true})
    await store.flush()
    const [before] = packs()
    await store.delete('objects/02/k')
    assert.equal(await store.exists('objects/02/k'), false)
    await rejectsWithCode(store.get('objects/02/k'), 'OBJECT_NOT_FOUND')
    assert.deepEqual((await collect(store.list('objects/'))).map((o) => o.key), ['objects/00/k', 'objects/01/k', 'objects/03/k', 'objects/04/k'])
    assert.notDeepEqual(packs(), [before], 'the pack was rewritten')
    const other = new FsStore(root)
    try {
      assert.equal(await other.exists('objects/02/k'), false)
      assert.equal(text(await other.get('objects/04/k')), 'v4')
      // put again after the delete: it is back
      await store.put('objects/02/k', bytes('v2'), {deferSync: true})
      await store.flush()
      assert.equal(text(await other.get('objects/02/k')), 'v2')
    } finally {
      await other.close()
    }
  })

  it("touch ages a packed object by its pack's mtime, which list reports (gc's grace period)", async () => {
    await store.put('objects/aa/old', bytes('old'), {deferSync: true})
    await store.flush()
    const [pack] = packs()
    const longAgo = new Date(Date.now() - 3 * 3600_000)
    utimesSync(join(root, PACK_DIR, pack), longAgo, longAgo)
    const other = new FsStore(root)
    try {
      const [listed] = await collect(other.list('objects/'))
      assert.ok(Math.abs(listed.mtimeMs - longAgo.getTime()) < 1000, 'listed with its pack’s mtime')
      assert.equal(await other.touch('objects/aa/old'), true)
      const [again] = await collect(other.list('objects/'))
      assert.ok(again.mtimeMs > Date.now() - 60_000, 'touched: young again')
      assert.equal(await other.touch('objects/aa/none'), false)
    } finally {
      await other.close()
    }
  })

  it('a flipped byte in a packed object is refused by ObjectDb; a damaged pack index is reported and its objects read as missing', async () => {
    const db = new ObjectDb(store)
    const hash = await db.put(bytes('packed object bytes'))
    await db.flush()
    const [pack] = packs()
    const file = join(root, PACK_DIR, pack)
    const whole = readFileSync(file)
    const at = whole.indexOf('packed object bytes')
    whole[at] ^= 0x20
    writeFileSync(file, whole)
    const reader = new ObjectDb(new FsStore(root))
    try {
      await rejectsWithCode(reader.get(hash), 'CORRUPT_OBJECT')
      assert.equal(await reader.verify(hash), 'corrupt')
    } finally {
      await reader.store.close()
    }
    whole[whole.length - 40] ^= 1 // inside the index
    writeFileSync(file, whole)
    const third = new FsStore(root)
    try {
      // (this process keeps the index it read above; a check reads it afresh, as another process would)
      third.refresh()
      const db3 = new ObjectDb(third)
      assert.equal(await db3.verify(hash), 'missing')
      assert.match([...third.damagedPacks.values()].join('\n'), /checksum/)
    } finally {
      await third.close()
    }
  })

  it('refresh (fsck) checks the indexes of packs a store loaded before: one damaged since is reported, its objects missing', async () => {
    const db = new ObjectDb(store)
    const hash = await db.put(bytes('an object in a pack'))
    await db.flush()
    const [pack] = packs()
    const reader = new FsStore(root)
    try {
      const rdb = new ObjectDb(reader)
      assert.equal(await rdb.verify(hash), 'ok', 'loaded (and its index kept for the process)')
      const file = join(root, PACK_DIR, pack)
      const whole = readFileSync(file)
      whole[whole.length - 40] ^= 1 // inside the index
      writeFileSync(file, whole)
      reader.refresh()
      assert.match(reader.damaged().map((d) => `${d.object}: ${d.problem}`).join('\n'), new RegExp(`pack ${pack}: .*checksum`))
      assert.equal(await rdb.verify(hash), 'missing')
    } finally {
      await reader.close()
    }
  })

  it("a crashed pack write's temp file is never read or listed, and cleanupTemp removes it when old", async () => {
    await store.put('objects/aa/x', bytes('x'), {deferSync: true})
    await store.flush()
    const stray = join(root, PACK_DIR, '.lake-tmp-deadbeef')
    writeFileSync(stray, 'half a pack')
    const other = new FsStore(root)
    try {
      assert.deepEqual((await collect(other.list(''))).map((o) => o.key), ['objects/aa/x'])
      const old = new Date(Date.now() - 2 * 3600_000)
      utimesSync(stray, old, old)
      assert.deepEqual(await other.cleanupTemp(60_000), {files: 1, bytes: 11})
      assert.equal(existsSync(stray), false)
      assert.equal(text(await other.get('objects/aa/x')), 'x')
    } finally {
      await other.close()
    }
  })
})

/** Flips a bit inside a pack's index (its checksum then fails). */
function damagePackIndex(file: string): void {
  const whole = readFileSync(file)
  whole[whole.length - 40] ^= 1
  writeFileSync(file, whole)
}

/** fsck's report names the pack itself, as damaged (its index fails its checksum). */
function assertNamesDamagedPack(report: {problems: {object: string; problem: string}[]}, pack: string): void {
  const named = report.problems.find((p) => p.object === `pack ${pack}`)
  assert.ok(named, JSON.stringify(report.problems))
  assert.match(named.problem, /checksum/)
}

describe('packs in a dataset', () => {
  let dir: string
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'lake-pack-ds-'))))
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('a dataset keeps its small objects in packs; fsck names a pack whose index is damaged, and the commits its objects belong to', async () => {
    const {Dataset} = await import('../../src/index.js')
    const ds = await Dataset.init(join(dir, 'ds'))
    await ds.createTensor('x', {htype: 'generic', dtype: 'i32'})
    await ds.append('x', [1, 2, 3])
    const c1 = (await ds.commit('one')).commit
    await ds.close()
    const packDir = join(dir, 'ds', '.lake', PACK_DIR)
    const [pack] = readdirSync(packDir)
    assert.match(pack, /^pack-[0-9a-f]{32}\.pack$/)
    assert.deepEqual(readdirSync(join(dir, 'ds', '.lake', 'objects')).length > 0, true, 'the chunk is a file of its own')
    damagePackIndex(join(packDir, pack))
    const again = await Dataset.open(join(dir, 'ds'))
    try {
      const report = await again.fsck()
      assert.equal(report.ok, false)
      assertNamesDamagedPack(report, pack)
      assert.ok(report.problems.some((p) => p.commits.includes(c1)), 'the commit whose objects were in it is named')
    } finally {
      await again.close()
    }
  })
})

describe('packs in a lazy clone', () => {
  let dir: string
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'lake-pack-lazy-'))))
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  // A lazy clone's store reads through to its remote (storage/fallback.ts); what it writes is its
  // local store's, packs included: fsck must see a damaged one there, and gc sweep its leftovers.
  it('fsck names a damaged pack of a lazy clone; gc sweeps the leftovers of its interrupted writes', async () => {
    const {Dataset} = await import('../../src/index.js')
    const {Repo} = await import('../../src/core/repo/repo.js')
    const {remoteAdd} = await import('../../src/core/ops/remote.js')
    const {push} = await import('../../src/core/ops/push.js')
    const {clone} = await import('../../src/core/ops/clone.js')
    const {TEMP_PREFIX} = await import('../../src/core/storage/fs-walk.js')
    const src = await Dataset.init(join(dir, 'src'))
    await src.createTensor('x', {htype: 'generic', dtype: 'i32'})
    await src.append('x', [1, 2, 3])
    await src.commit('one')
    await src.close()
    const repo = await Repo.open(join(dir, 'src'))
    try {
      await remoteAdd(repo, 'origin', pathToFileURL(join(dir, 'remote')).href)
      await push(repo)
    } finally {
      await repo.close()
    }
    assert.equal((await clone(pathToFileURL(join(dir, 'remote')).href, join(dir, 'lazy'))).lazy, true)
    const lazy = await Dataset.open(join(dir, 'lazy'))
    await lazy.append('x', [4])
    const c2 = (await lazy.commit('two')).commit
    await lazy.close()
    const packDir = join(dir, 'lazy', '.lake', PACK_DIR)
    const packs = readdirSync(packDir)
    assert.ok(packs.length >= 1, 'the commit in the clone wrote a pack')
    const leftover = join(dir, 'lazy', '.lake', 'objects', `${TEMP_PREFIX}left-by-a-crash`)
    writeFileSync(leftover, 'partial')
    utimesSync(leftover, new Date(Date.now() - 3 * 3600_000), new Date(Date.now() - 3 * 3600_000))
    const {gc} = await import('../../src/core/ops/gc.js')
    const r2 = await Repo.open(join(dir, 'lazy'))
    try {
      await gc(r2, {})
    } finally {
      await r2.close()
    }
    assert.equal(existsSync(leftover), false, 'gc swept the temp file')
    for (const pack of packs) damagePackIndex(join(packDir, pack))
    const again = await Dataset.open(join(dir, 'lazy'))
    try {
      const report = await again.fsck()
      for (const pack of packs) assertNamesDamagedPack(report, pack)
      assert.ok(report.problems.some((p) => p.commits.includes(c2)), 'the commit whose objects were in it is named')
    } finally {
      await again.close()
    }
  })
})

describe('where packs are not written', () => {
  let dir: string
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'lake-nopack-'))))
  afterEach(() => rmSync(dir, {recursive: true, force: true}))
  const packsIn = (lakeDir: string) => (existsSync(join(lakeDir, PACK_DIR)) ? readdirSync(join(lakeDir, PACK_DIR)) : [])

  it('a dataset of format 1 is written without packs (the lake that made it reads it), and still reads', async () => {
    const {Dataset} = await import('../../src/index.js')
    const ds = await Dataset.init(join(dir, 'ds'))
    await ds.close()
    const configFile = join(dir, 'ds', '.lake', 'config.json')
    writeFileSync(configFile, JSON.stringify({...JSON.parse(readFileSync(configFile, 'utf8')), formatVersion: 1}))
    const before = packsIn(join(dir, 'ds', '.lake'))
    const old = await Dataset.open(join(dir, 'ds'))
    try {
      await old.createTensor('x', {htype: 'generic', dtype: 'i32'})
      await old.append('x', [4, 5, 6])
      await old.commit('format 1')
      assert.deepEqual(packsIn(join(dir, 'ds', '.lake')), before, 'no pack written')
      assert.deepEqual(Array.from(await (await old.version('HEAD')).column('x')), [4, 5, 6])
      assert.equal((await old.fsck()).ok, true)
    } finally {
      await old.close()
    }
  })

  it('a file:// remote keeps every object a file of its own', async () => {
    const {Remote} = await import('../../src/core/remote/remote.js')
    const remote = Remote.open('origin', pathToFileURL(join(dir, 'remote')).href)
    try {
      const hash = await remote.objects.put(bytes('an index page pushed to a directory'))
      await remote.objects.flush()
      assert.deepEqual(packsIn(join(dir, 'remote')), [])
      assert.equal(existsSync(join(dir, 'remote', 'objects', hash.slice(0, 2), hash.slice(2))), true)
    } finally {
      await remote.store.close()
    }
  })
})
