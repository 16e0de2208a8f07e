// The gc/writer race made deterministic: a writer (`add`/`append`) is paused right after it wrote a
// chunk and before it appends the event that references it, a gc runs in between (another Repo
// on the same dataset, as another process would), then the writer goes on and commits.
//
// Formerly a bug (both cases below): gc deleted the paused writer's chunk and the commit that
// followed referenced a missing object: committed data lost, fsck failing. `--prune=now` waives the
// grace period outright; with the default 1h grace the same happened to an add that takes longer
// than the grace period between writing its first chunk and staging (simulated by ageing the
// chunk). Fixed by write leases (ops/lease.ts): a writer holds one until its event is appended, and
// gc, which runs under the dataset lock, deletes nothing while a live lease exists.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {Repo} from '../../src/core/repo/repo.js'
import {appendValues, createTensor} from '../../src/core/ops/edit.js'
import {commit} from '../../src/core/ops/commit.js'
import {fsck} from '../../src/core/ops/fsck.js'
import {gc} from '../../src/core/ops/gc.js'
import {CHUNK_MAGIC} from '../../src/core/format/chunk.js'
import {sha256hex} from '../../src/core/hash.js'
import {Dataset} from '../../src/index.js'
import {FAST_TMP} from '../model/runner.js'
import {materialize} from '../merge/helpers.js'
import {backdate, objectSizes, storedObjects} from '../helpers/object-files.js'
import {HOUR} from './helpers.js'

/** Runs `append` with the writer paused after its first chunk write while `between` runs. */
async function appendAcross(dir: string, values: number[], between: (chunkKey: string, flush: () => Promise<void>) => Promise<void>): Promise<void> {
  const repo = await Repo.open(dir)
  try {
    const store = repo.store as {put(key: string, bytes: Uint8Array, opts?: unknown): Promise<{etag: string}>}
    const put = store.put.bind(store)
    let paused = false
    store.put = async (key, bytes, opts) => {
      const r = await put(key, bytes, opts)
      if (!paused && Buffer.from(bytes.subarray(0, 4)).toString('latin1') === CHUNK_MAGIC) {
        paused = true
        await between(key, () => repo.store.flush())
      }
      return r
    }
    await appendValues(repo, 'x', values)
    assert.ok(paused, 'the writer wrote a chunk')
    await commit(repo, {message: 'after the race'})
  } finally {
    await repo.close()
  }
}

async function otherProcessGc(dir: string, graceMs?: number) {
  const repo = await Repo.open(dir)
  try {
    return await gc(repo, graceMs === undefined ? {} : {graceMs})
  } finally {
    await repo.close()
  }
}

describe('gc against a writer paused between writing a chunk and staging it', function () {
  this.timeout(60_000)
  let dir: string
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(FAST_TMP, 'lake-gc-pause-'))
    const repo = await Repo.init(dir)
    await createTensor(repo, 'x', {htype: 'generic', dtype: 'i32'})
    await appendValues(repo, 'x', [1, 2])
    await commit(repo, {message: 'base'})
    await repo.close()
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  async function committedDataSurvives(): Promise<void> {
    const repo = await Repo.open(dir)
    const report = await fsck(repo)
    await repo.close()
    assert.deepEqual(report.problems, [], 'fsck after the race')
    const ds = await Dataset.open(dir)
    try {
      assert.deepEqual(await materialize(ds), {x: [1, 2, 10, 11, 12]})
    } finally {
      await ds.close()
    }
  }

  it('a chunk written but not flushed yet is a temp file that gc --prune=now leaves alone while the writer holds its lease', async () => {
    await appendAcross(dir, [10, 11, 12], async (key) => {
      const [fan, rest] = key.split('/').slice(-2)
      const fanDir = path.join(dir, '.lake', 'objects', fan)
      const temps = fs.readdirSync(fanDir).filter((f) => f.startsWith('.lake-tmp-') && sha256hex(fs.readFileSync(path.join(fanDir, f))) === fan + rest)
      assert.ok(!fs.existsSync(path.join(fanDir, rest)) && temps.length === 1, 'the chunk waits in a temp file')
      const old = new Date(Date.now() - 2 * HOUR)
      fs.utimesSync(path.join(fanDir, temps[0]), old, old)
      assert.equal((await otherProcessGc(dir, 0)).dryRun, true)
      assert.ok(fs.existsSync(path.join(fanDir, temps[0])), 'the temp file is still there')
    })
    await committedDataSurvives()
  })

  it('a gc with the default grace period in between keeps the young chunk', async () => {
    let deleted = -1
    await appendAcross(dir, [10, 11, 12], async () => {
      deleted = (await otherProcessGc(dir)).deleted
    })
    assert.equal(deleted, 0)
    await committedDataSurvives()
  })

  it('gc --prune=now in between deletes nothing while the writer holds its lease', async () => {
    let result: Awaited<ReturnType<typeof otherProcessGc>> | undefined
    let before = new Map<string, number>()
    await appendAcross(dir, [10, 11, 12], async () => {
      before = objectSizes(dir)
      result = await otherProcessGc(dir, 0)
      assert.deepEqual(objectSizes(dir), before, 'nothing deleted')
    })
    assert.equal(result?.dryRun, true, 'reported as a dry run')
    assert.ok(result?.deferredBy?.some((w) => w.includes('append') && w.includes(`pid ${process.pid}`)), JSON.stringify(result?.deferredBy))
    await committedDataSurvives()
    // Once the writer is done, the same gc collects (the first append's staged pages are garbage).
    const after = await otherProcessGc(dir, 0)
    assert.deepEqual([after.dryRun, after.deferredBy], [false, undefined])
  })

  it('an add that takes longer than the grace period keeps its first chunk (lease)', async () => {
    await appendAcross(dir, [10, 11, 12], async (key, flush) => {
      // The import has been running for 2 hours: its first chunk is that old (and was flushed
      // long ago: a writer flushes what it has written at least every 20 s).
      await flush()
      const hash = key.split('/').slice(-2).join('')
      assert.equal(storedObjects(dir).get(hash)?.packed, false, 'the chunk is a file of its own: only it is aged')
      backdate(dir, 2 * HOUR, [hash])
      await otherProcessGc(dir)
    })
    await committedDataSurvives()
  })
})
