// lingerEventDbs (events/db.ts), which the resident process of LAKE_DAEMON=1 turns on: a session
// that ends cleanly leaves LevelDB open for a moment, and the next session on the same database
// takes it instead of opening it again. It must never answer for other files than those it left,
// never keep a failed session's database, and never keep another process out for longer than the
// moment it lingers.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {closeLingeringEventDb, eventDbOpens, lingerEventDbs, openEventDb, closeEventDb, withEventDb} from '../../src/core/events/db.js'

const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : Buffer.from(bytes).toString())

/** A new event database at `dir` (made elsewhere and moved in, as `lake init` makes one). */
async function makeDb(dir: string, value: string): Promise<void> {
  const tmp = `${dir}.new`
  const db = await openEventDb(tmp, {create: true})
  await db.state.put('mark', Buffer.from(value))
  await closeEventDb(db)
  fs.renameSync(tmp, dir)
}

describe('event log: lingering between sessions (the resident process)', function () {
  this.timeout(60_000)
  let root: string
  let dbDir: string
  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-linger-'))
    dbDir = path.join(root, 'db')
    await makeDb(dbDir, 'first')
    lingerEventDbs(300)
  })
  afterEach(async () => {
    lingerEventDbs(0)
    await closeLingeringEventDb()
    fs.rmSync(root, {recursive: true, force: true})
  })

  it('the next session on the same database takes the open one; after the moment passes, it is closed', async () => {
    await withEventDb(dbDir, async (db) => db.state.put('k', Buffer.from('v1')))
    const before = eventDbOpens
    assert.equal(await withEventDb(dbDir, async (db) => text(await db.state.get('k'))), 'v1')
    assert.equal(eventDbOpens, before, 'the second session opened LevelDB again')
    // closed once the moment has passed: LevelDB's lock is free again for a process of our own
    await new Promise((resolve) => setTimeout(resolve, 600))
    assert.equal(await withEventDb(dbDir, async (db) => text(await db.state.get('k'))), 'v1')
    assert.equal(eventDbOpens, before + 1)
  })

  it('a session that failed leaves its database closed', async () => {
    await assert.rejects(withEventDb(dbDir, async () => Promise.reject(new Error('boom'))), /boom/)
    const before = eventDbOpens
    await withEventDb(dbDir, async () => undefined)
    assert.equal(eventDbOpens, before + 1)
  })

  it('a command run with LAKE_LOCK_TIMEOUT=0 (fail at once on a held dataset) does not linger', async () => {
    const saved = process.env.LAKE_LOCK_TIMEOUT
    process.env.LAKE_LOCK_TIMEOUT = '0'
    try {
      await withEventDb(dbDir, async () => undefined)
      const before = eventDbOpens
      await withEventDb(dbDir, async () => undefined)
      assert.equal(eventDbOpens, before + 1)
    } finally {
      if (saved === undefined) delete process.env.LAKE_LOCK_TIMEOUT
      else process.env.LAKE_LOCK_TIMEOUT = saved
    }
  })

  it('a session of this process waiting for the lock its other session holds takes the database when that one lingers', async () => {
    let release!: () => void
    const first = withEventDb(dbDir, async (db) => {
      await new Promise<void>((resolve) => (release = resolve))
      await db.state.put('k', Buffer.from('first'))
    })
    await new Promise((resolve) => setTimeout(resolve, 20))
    const opensBefore = eventDbOpens
    const second = withEventDb(dbDir, async (db) => text(await db.state.get('k')))
    await new Promise((resolve) => setTimeout(resolve, 20))
    release()
    await first
    const started = Date.now()
    assert.equal(await second, 'first')
    // taken as soon as it was parked, not after the 300 ms it would have lingered
    assert.ok(Date.now() - started < 250, `the second session waited ${Date.now() - started} ms`)
    assert.equal(eventDbOpens, opensBefore + 1) // (counted once, when it began to try)
  })

  it('a database made anew at the same path (`rm -rf` and `lake init`) is read, not the one left open', async () => {
    await withEventDb(dbDir, async (db) => db.state.put('k', Buffer.from('old')))
    fs.renameSync(dbDir, path.join(root, 'db-old'))
    await makeDb(dbDir, 'second')
    const seen = await withEventDb(dbDir, async (db) => [text(await db.state.get('mark')), text(await db.state.get('k'))])
    assert.deepEqual(seen, ['second', undefined])
  })

  it('another session on another database closes the one left open', async () => {
    const other = path.join(root, 'other')
    await makeDb(other, 'other')
    await withEventDb(dbDir, async () => undefined)
    const {Level} = await import('level')
    const seen = await withEventDb(other, async (db) => {
      // the first is closed by now, as this one opened: a fresh Level instance in this process
      // may open it (a lingering one would hold LevelDB's in-process lock: LEVEL_LOCKED)
      const level = new Level(dbDir)
      await level.open()
      await level.close()
      return text(await db.state.get('mark'))
    })
    assert.equal(seen, 'other')
  })

  it('another process waiting for the database gets it within the moment, and sees the last write', async () => {
    await withEventDb(dbDir, async (db) => db.state.put('k', Buffer.from('written')))
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
      const {withEventDb} = await import(${JSON.stringify(new URL('../../src/core/events/db.ts', import.meta.url).href)})
      const v = await withEventDb(${JSON.stringify(dbDir)}, async (db) => Buffer.from(await db.state.get('k')).toString())
      process.stdout.write(v)`], {env: {...process.env, LAKE_LOCK_TIMEOUT: '5'}, stdio: ['ignore', 'pipe', 'inherit']})
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    const code = await new Promise((resolve) => child.on('close', resolve))
    // exit 0: it got the lock within its LAKE_LOCK_TIMEOUT of 5 s (a database held for good fails it)
    assert.equal(code, 0)
    assert.equal(out, 'written')
  })
})
