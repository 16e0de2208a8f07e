// The ref snapshot (.lake/cache/refs, events/ref-snapshot.ts): branch and tag names resolve
// without a LevelDB open while the event database's files are exactly those the snapshot was made
// from; any change to them (another session, a write behind lake's back, damage) and anything but
// HEAD and refs goes to LevelDB, so answers are always those of the database as it is.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Level} from 'level'
import {Dataset} from '../../src/index.js'
import {Repo} from '../../src/core/repo/repo.js'
import {resolve} from '../../src/core/ops/state.js'
import {diff} from '../../src/core/ops/diff.js'
import {eventDbOpens} from '../../src/core/events/db.js'
import {encode} from '../../src/core/codec.js'
import {MAX_SNAPSHOT_REFS, refSnapshotFile} from '../../src/core/events/ref-snapshot.js'

describe('ref snapshot: resolving names without opening the event log', function () {
  let dir: string
  let commits: string[]
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-refsnap-'))
    const ds = await Dataset.init(dir)
    await ds.createTensor('label', {htype: 'class_label', dtype: 'i32'})
    commits = []
    for (const n of [1, 2, 3]) {
      await ds.append('label', [n])
      commits.push((await ds.commit(`c${n}`)).commit)
      await ds.tag(`v${n}`)
    }
    await ds.close()
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  /** resolve(rev) on a fresh Repo, and whether it opened LevelDB. */
  async function resolved(rev: string): Promise<{id?: string; code?: string; opened: boolean}> {
    const repo = await Repo.open(dir)
    const before = eventDbOpens
    try {
      return {id: await resolve(repo, rev), opened: eventDbOpens > before}
    } catch (e) {
      return {code: (e as {code?: string}).code, opened: eventDbOpens > before}
    } finally {
      await repo.close()
    }
  }

  /** The snapshot a fresh Repo finds usable now, if any. */
  async function usableSnapshot() {
    const repo = await Repo.open(dir)
    try {
      return repo.refSnapshot()
    } finally {
      await repo.close()
    }
  }

  it('HEAD, branch and tag names, and unknown names, need no LevelDB open; the rest opens it and agrees', async () => {
    assert.deepEqual(await resolved('v1'), {id: commits[0], opened: false})
    assert.deepEqual(await resolved('v3'), {id: commits[2], opened: false})
    assert.deepEqual(await resolved('main'), {id: commits[2], opened: false})
    assert.deepEqual(await resolved('HEAD'), {id: commits[2], opened: false})
    assert.deepEqual(await resolved('no-such-name'), {code: 'UNKNOWN_REVISION', opened: false})
    assert.deepEqual(await resolved('v3~2'), {id: commits[0], opened: true})
    assert.deepEqual(await resolved(commits[1].slice(0, 10)), {id: commits[1], opened: true})
    assert.deepEqual(await resolved('@{1}'), {id: commits[1], opened: true})
  })

  it('a version opened by tag reads the same through the snapshot as through LevelDB', async () => {
    const ds = await Dataset.open(dir)
    const before = eventDbOpens
    const v = await ds.version('v2')
    assert.equal(eventDbOpens, before)
    assert.deepEqual([...((await v.column('label')) as Int32Array)], [1, 2])
    await ds.close()
    fs.rmSync(refSnapshotFile(path.join(dir, '.lake', 'db')))
    const again = await Dataset.open(dir)
    assert.deepEqual([...((await (await again.version('v2')).column('label')) as Int32Array)], [1, 2])
    await again.close()
  })

  it('diff of two names needs no LevelDB open; when one end needs the log, both ends resolve there and the answer is the same', async () => {
    const repo = await Repo.open(dir)
    try {
      const before = eventDbOpens
      const byNames = await diff(repo, 'v1', 'v3')
      assert.equal(eventDbOpens, before)
      assert.deepEqual(byNames.tensors.map((t) => [t.name, t.added]), [['label', [[1, 3]]]])
      const viaLog = await diff(repo, 'v3~2', 'v3')
      assert.ok(eventDbOpens > before)
      assert.deepEqual(viaLog, byNames)
    } finally {
      await repo.close()
    }
  })

  it('a change by any session shows at once: lake sessions rewrite it, other writers make it stale', async () => {
    const other = await Dataset.open(dir)
    await other.tag('moved', 'v1')
    await other.close()
    assert.deepEqual(await resolved('moved'), {id: commits[0], opened: false})
    // a write to the database that does not go through lake: the snapshot no longer matches
    const level = new Level<string, Uint8Array>(path.join(dir, '.lake', 'db'), {valueEncoding: 'view'})
    await level.open()
    await level.sublevel<string, Uint8Array>('refs', {valueEncoding: 'view'}).put('tags/moved', encode(commits[1]))
    await level.close()
    assert.deepEqual(await resolved('moved'), {id: commits[1], opened: true})
  })

  it('a database file changed in place (same size, mtime put back) or a damaged snapshot is not trusted', async () => {
    const db = path.join(dir, '.lake', 'db')
    const table = fs.readdirSync(db).find((n) => n.startsWith('MANIFEST-'))!
    const file = path.join(db, table)
    const st = fs.statSync(file)
    fs.writeFileSync(file, fs.readFileSync(file))
    fs.utimesSync(file, st.atime, st.mtime)
    assert.equal(await usableSnapshot(), undefined)
    assert.equal((await resolved('v1')).opened, true) // and that session wrote a new one
    assert.notEqual(await usableSnapshot(), undefined)
    const snap = refSnapshotFile(db)
    const text = fs.readFileSync(snap, 'utf8')
    fs.writeFileSync(snap, text.replace(commits[0], commits[1]))
    assert.equal(await usableSnapshot(), undefined)
    assert.deepEqual(await resolved('v1'), {id: commits[0], opened: true})
  })

  it(`a database with more than ${MAX_SNAPSHOT_REFS} refs gets no snapshot (each session would rewrite them all), and resolves through LevelDB`, async () => {
    const level = new Level<string, Uint8Array>(path.join(dir, '.lake', 'db'), {valueEncoding: 'view'})
    await level.open()
    const refs = level.sublevel<string, Uint8Array>('refs', {valueEncoding: 'view'})
    await refs.batch(Array.from({length: MAX_SNAPSHOT_REFS}, (_, i) => ({type: 'put' as const, key: `tags/ci-${i}`, value: encode(commits[i % 3])})))
    await level.close()
    assert.deepEqual(await resolved('ci-7'), {id: commits[1], opened: true})
    assert.equal(fs.existsSync(refSnapshotFile(path.join(dir, '.lake', 'db'))), false, 'no snapshot left behind')
    assert.deepEqual(await resolved('v2'), {id: commits[1], opened: true})
  })
})
