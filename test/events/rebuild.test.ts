// The projections (refs, HEAD, staged state, reflog, commit graph index) are a pure function of the
// event log: after random histories, replaying the log with rebuildProjections gives back the very
// same bytes. And the hash chain catches a tampered record and a gap.
//   LAKE_TEST_SEED=123 npx mocha test/events/rebuild.test.ts
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import fc from 'fast-check'
import {Dataset} from '../../src/index.js'
import {decode, encode} from '../../src/core/codec.js'
import {openEventDb, rebuildProjections, seqKey, verifyChain, type EventDb, type EventRecord, type Sub} from '../../src/core/events/index.js'
import {sequenceArb} from '../model/model.js'
import {FAST_TMP, newStats, runSequence} from '../model/runner.js'

const SEED = process.env.LAKE_TEST_SEED ? Number(process.env.LAKE_TEST_SEED) : Math.floor(Math.random() * 2 ** 31)
const RUNS = 8
const PROJECTIONS = ['state', 'refs', 'reflog', 'commits'] as const

type Dump = Record<(typeof PROJECTIONS)[number], [string, string][]>

/** Every projection entry, raw: key and the hex of the stored bytes. */
async function dump(db: EventDb): Promise<Dump> {
  const out = {} as Dump
  for (const name of PROJECTIONS) {
    out[name] = []
    for await (const [key, value] of (db[name] as Sub).iterator()) out[name].push([key, Buffer.from(value).toString('hex')])
  }
  return out
}

const dbPath = (dir: string) => path.join(dir, '.lake', 'db')

async function withDb<T>(dir: string, fn: (db: EventDb) => Promise<T>): Promise<T> {
  const db = await openEventDb(dbPath(dir))
  try {
    return await fn(db)
  } finally {
    await db.level.close()
  }
}

async function putLog(db: EventDb, seq: number, bytes: Uint8Array | null): Promise<void> {
  const op = bytes === null ? {type: 'del', sublevel: db.log, key: seqKey(seq)} : {type: 'put', sublevel: db.log, key: seqKey(seq), value: bytes}
  await db.level.batch([op] as never)
}

/** Events that the model's ops do not make: ref deletions and a staged reset, then a dirty staged state. */
async function moreEvents(ds: Dataset): Promise<void> {
  const head = (await ds.status()).head
  if (head) {
    await ds.createBranch('gone')
    await ds.deleteBranch('gone')
    await ds.tag('gone-tag')
    await ds.deleteTag('gone-tag')
  }
  if ((await ds.status()).branch !== null) {
    await ds.createTensor('extra', {htype: 'text'})
    await ds.append('extra', ['discarded'])
    await ds.reset()
    await ds.createTensor('extra', {htype: 'text'})
    await ds.append('extra', ['kept staged'])
  }
}

describe('events: projections are rebuilt from the log', function () {
  this.timeout(120_000)
  before(() => console.log(`      events seed ${SEED} (reproduce: LAKE_TEST_SEED=${SEED})`))

  it('after random histories, rebuildProjections gives byte-identical refs, HEAD, staged, reflog and commit index', async () => {
    const stats = newStats()
    let rebuilt = 0
    await fc.assert(fc.asyncProperty(sequenceArb({big: false}, 25), (seq) => runSequence(seq, {
      big: false,
      skipVerify: true, // test/model verifies histories; here only the projections matter
      after: async (ds, m, dir) => {
        await moreEvents(ds)
        const logBefore = await ds.log({all: true})
        const statusBefore = await ds.status()
        await withDb(dir, async (db) => {
          const before = await dump(db)
          assert.ok(before.state.some(([k]) => k === 'tip') && before.state.some(([k]) => k === 'staged'))
          assert.equal(before.reflog.length, m.reflog.length, 'one reflog entry per HEAD position')
          assert.equal(before.commits.length, m.commits.length, 'one commit graph entry per commit')
          const seq = await rebuildProjections(db)
          assert.equal(seq, (decode<{seq: number}>(Buffer.from(before.state.find(([k]) => k === 'tip')![1], 'hex'))).seq)
          assert.deepEqual(await dump(db), before, 'rebuilt projections equal the live ones, byte for byte')
          // From nothing at all: wipe every projection, rebuild, same bytes again.
          for (const name of PROJECTIONS) await (db[name] as Sub).clear()
          await rebuildProjections(db)
          assert.deepEqual(await dump(db), before, 'rebuilt from wiped projections')
          assert.deepEqual((await verifyChain(db)).problems, [])
        })
        // The dataset goes on from the rebuilt state: same answers, and new events chain on.
        assert.deepEqual(await ds.status(), statusBefore)
        assert.deepEqual(await ds.log({all: true}), logBefore)
        if (statusBefore.branch !== null) {
          await ds.append('extra', ['after rebuild'])
          await ds.commit('after rebuild')
          await withDb(dir, async (db) => assert.deepEqual((await verifyChain(db)).problems, []))
        }
        assert.ok((await ds.fsck()).ok)
        rebuilt++
      },
    }, stats)), {seed: SEED, numRuns: RUNS, endOnFailure: true})
    assert.equal(rebuilt, RUNS)
    console.log(`      ${JSON.stringify({runs: stats.runs, ops: stats.ops, commits: stats.commits})}`)
  })

  it('a rebuild interrupted before its final batch leaves the old projections (atomic)', async () => {
    // rebuildProjections clears state/refs/reflog/commits one by one, then writes the replay in
    // one batch: a crash in between leaves no tip, HEAD or staged state ("event log is incomplete"
    // on every command) until a rebuild runs again. The clears belong in the final batch.
    const dir = await fs.mkdtemp(path.join(FAST_TMP, 'lake-rebuild-'))
    try {
      const ds = await Dataset.init(dir)
      await ds.createTensor('n', {htype: 'generic', dtype: 'i32'})
      await ds.append('n', [1])
      await ds.commit('one')
      await ds.close()
      await withDb(dir, async (db) => {
        const before = await dump(db)
        const batch = db.level.batch
        db.level.batch = (async () => {
          throw new Error('simulated crash before the final batch')
        }) as never
        await assert.rejects(rebuildProjections(db), /simulated crash/)
        db.level.batch = batch
        assert.deepEqual(await dump(db), before, 'an interrupted rebuild changes nothing')
      })
    } finally {
      await fs.rm(dir, {recursive: true, force: true})
    }
  })

  describe('verifyChain', () => {
    let dir: string
    let total: number

    beforeEach(async () => {
      dir = await fs.mkdtemp(path.join(FAST_TMP, 'lake-chain-'))
      const ds = await Dataset.init(dir)
      await ds.createTensor('n', {htype: 'generic', dtype: 'i32'})
      for (let i = 0; i < 4; i++) {
        await ds.append('n', [i])
        await ds.commit(`c${i}`)
      }
      await ds.close()
      total = await withDb(dir, async (db) => {
        const {checked, problems} = await verifyChain(db)
        assert.deepEqual(problems, [])
        return checked
      })
      assert.ok(total >= 10, `a log of ${total} records`)
    })
    afterEach(() => fs.rm(dir, {recursive: true, force: true}))

    const middle = () => Math.floor(total / 2)

    it('detects a record whose content was changed (still decodable), naming the next record', async () => {
      await withDb(dir, async (db) => {
        const seq = middle()
        const record = decode<EventRecord>((await db.log.get(seqKey(seq)))!)
        await putLog(db, seq, encode({...record, time: record.time + 1}))
        const {problems} = await verifyChain(db)
        assert.ok(problems.some((p) => p.object === `event#${seq + 1}` && /hash chain broken/.test(p.problem)), JSON.stringify(problems))
      })
    })

    it('detects one flipped byte in a record', async () => {
      await withDb(dir, async (db) => {
        const seq = middle()
        const bytes = Buffer.from((await db.log.get(seqKey(seq)))!)
        bytes[bytes.length - 1] ^= 0x01
        await putLog(db, seq, bytes)
        assert.notDeepEqual((await verifyChain(db)).problems, [])
      })
    })

    it('detects a change to the last record (against the tip)', async () => {
      await withDb(dir, async (db) => {
        const record = decode<EventRecord>((await db.log.get(seqKey(total)))!)
        await putLog(db, total, encode({...record, time: record.time + 1}))
        const {problems} = await verifyChain(db)
        assert.ok(problems.some((p) => p.object === 'event-log' && /tip/.test(p.problem)), JSON.stringify(problems))
      })
    })

    it('detects a gap (a record removed from the middle)', async () => {
      await withDb(dir, async (db) => {
        const seq = middle()
        await putLog(db, seq, null)
        const {problems} = await verifyChain(db)
        assert.ok(problems.some((p) => p.object === `event#${seq + 1}` && /expected sequence/.test(p.problem)), JSON.stringify(problems))
      })
    })

    it('detects a truncated log (the last record removed)', async () => {
      await withDb(dir, async (db) => {
        await putLog(db, total, null)
        const {problems} = await verifyChain(db)
        assert.ok(problems.some((p) => p.object === 'event-log'), JSON.stringify(problems))
      })
    })

    it('fsck reports a tampered log as not ok', async () => {
      await withDb(dir, async (db) => {
        const record = decode<EventRecord>((await db.log.get(seqKey(2)))!)
        await putLog(db, 2, encode({...record, time: record.time + 1}))
      })
      const ds = await Dataset.open(dir)
      try {
        const result = await ds.fsck()
        assert.equal(result.ok, false)
        assert.ok(result.problems.some((p) => p.object === 'event#3'), JSON.stringify(result.problems))
      } finally {
        await ds.close()
      }
    })
  })
})
