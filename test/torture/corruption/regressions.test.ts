// Bugs the corruption campaign found, one test each (they fail on the code before the fix).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Repo} from '../../../src/core/repo/repo.js'
import {appendValues, createTensor} from '../../../src/core/ops/edit.js'
import {commit} from '../../../src/core/ops/commit.js'
import {createTag} from '../../../src/core/ops/refs.js'
import {fsck, repairEventDb} from '../../../src/core/ops/fsck.js'
import {status} from '../../../src/core/ops/status.js'
import {withEventDb} from '../../../src/core/events/db.js'
import {encode} from '../../../src/core/codec.js'
import {LakeError} from '../../../src/core/errors.js'
import {datasetState} from '../../helpers/state.js'
import {removeObject} from '../../helpers/object-files.js'

describe('torture 4: regressions', () => {
  let dir: string
  let first: string
  beforeEach(async () => {
    dir = path.join(fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'lake-corrupt-reg-'))), 'ds')
    const repo = await Repo.init(dir)
    try {
      await createTensor(repo, 'name', {htype: 'text'})
      await appendValues(repo, 'name', ['a', 'b'])
      first = (await commit(repo, {message: 'one'})).commit
      await createTag(repo, 'v1')
      await appendValues(repo, 'name', ['c'])
      await commit(repo, {message: 'two'})
    } finally {
      await repo.close()
    }
  })
  afterEach(() => fs.rmSync(path.dirname(dir), {recursive: true, force: true}))
  const db = () => path.join(dir, '.lake', 'db')

  it('a zeroed LevelDB table block: fsck names the table (was: LevelDB aborted the process on an assertion)', async () => {
    const table = fs.readdirSync(db()).filter((f) => f.endsWith('.ldb')).sort()[0]
    const bytes = fs.readFileSync(path.join(db(), table))
    bytes.fill(0, 0, Math.min(64, bytes.length - 48))
    fs.writeFileSync(path.join(db(), table), bytes)
    const repo = await Repo.open(dir)
    try {
      const report = await fsck(repo)
      assert.equal(report.ok, false)
      assert.deepEqual(report.problems.map((p) => p.object), [`leveldb table ${table}`])
    } finally {
      await repo.close()
    }
  })

  it("an empty .ldb file (LevelDB's repair can leave one) is not a damaged table (was: fsck failed after a good repair)", async () => {
    fs.writeFileSync(path.join(db(), '999999.ldb'), '')
    const repo = await Repo.open(dir)
    try {
      assert.equal((await fsck(repo)).ok, true)
    } finally {
      await repo.close()
    }
  })

  it("a table another process's compaction is still writing (not yet in the MANIFEST) is not read; a listed one cut short is", async () => {
    const {checkLevelTables} = await import('../../../src/core/events/level-files.js')
    fs.writeFileSync(path.join(db(), '999998.ldb'), 'half a table')
    assert.deepEqual(await checkLevelTables(db()), [])
    assert.deepEqual((await checkLevelTables(db(), {all: true})).map((p) => p.object), ['leveldb table 999998.ldb'])
    fs.rmSync(path.join(db(), '999998.ldb'))
    const listed = fs.readdirSync(db()).filter((f) => f.endsWith('.ldb')).sort()
    assert.ok(listed.length > 0)
    const file = path.join(db(), listed[0])
    fs.truncateSync(file, fs.statSync(file).size - 1)
    const problems = await checkLevelTables(db())
    assert.deepEqual(problems.map((p) => p.object), [`leveldb table ${listed[0]}`])
    assert.match(problems[0].problem, /lists it with/)
  })

  it('a missing MANIFEST: a lake error with a hint (was: none), and fsck --repair brings the dataset back', async () => {
    const before = await datasetState(dir)
    for (const f of fs.readdirSync(db())) if (f.startsWith('MANIFEST-')) fs.rmSync(path.join(db(), f))
    const repo = await Repo.open(dir)
    try {
      await assert.rejects(status(repo), (e: LakeError) => e.code === 'STORAGE_ERROR' && /fsck --repair/.test(e.hint ?? ''))
      const repaired = await repairEventDb(repo)
      assert.equal(repaired.levelRepaired, true)
      assert.equal((await fsck(repo)).ok, true)
    } finally {
      await repo.close()
    }
    assert.deepEqual(await datasetState(dir), before)
  })

  it('a ref that differs from the event log is an fsck problem (was: fsck ok), and --repair restores it', async () => {
    await withEventDb(db(), async (d) => d.refs.put('heads/main', encode(first)))
    const repo = await Repo.open(dir)
    try {
      const report = await fsck(repo)
      assert.deepEqual(report.problems.map((p) => p.object), ['projection refs/heads/main'])
      await repairEventDb(repo)
      assert.equal((await fsck(repo)).ok, true)
    } finally {
      await repo.close()
    }
  })

  it('fsck names the commits a damaged object affects', async () => {
    let repo = await Repo.open(dir)
    let root: string
    try {
      root = (await repo.data.getCommit(first)).root
    } finally {
      await repo.close()
    }
    // The version root removed: it lies in a pack, which is rewritten without it. fsck runs in a
    // session opened after that (as a command's would be): a session that read from the old pack
    // before still reads the root through the descriptor it holds open on it.
    await removeObject(dir, root)
    repo = await Repo.open(dir)
    let report
    try {
      report = await fsck(repo)
    } finally {
      await repo.close()
    }
    const problem = report.problems.find((p) => p.problem.includes('missing'))
    assert.deepEqual(problem?.commits, [first])
    assert.equal(problem?.staged, false)
  })
})
