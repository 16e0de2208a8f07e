// A lake session holds LevelDB for milliseconds, and each open turns the previous log into a
// level-0 table; LevelDB compacts level 0 in the background and abandons the compaction when the
// database closes. closeEventDb (events/db.ts) waits for a compaction that is due, so level 0
// stays small however many sessions a history has: before, it grew by a table a session (133
// tables at 1750 commits), every read looked in each and every write was braked.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {randomBytes} from 'node:crypto'
import {Level} from 'level'
import {Dataset} from '../../src/index.js'

describe('event log: level 0 compacted between sessions', function () {
  this.timeout(120_000)
  let dir: string
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-level0-'))))
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  const tables = () => fs.readdirSync(path.join(dir, '.lake', 'db')).filter((f) => f.endsWith('.ldb') || f.endsWith('.sst'))

  it('keeps the table count bounded over many short sessions', async () => {
    await (await Dataset.init(dir)).close()
    // A database of a long history: a compaction into level 1 then takes longer than a session.
    // Random keys in no sublevel of lake's, but sorting between them ('!commits!' < '!d…' <
    // '!leases!', '!log!' < '!m…' < '!reflog!'), so that a new table overlaps all of level 1.
    const level = new Level<string, Uint8Array>(path.join(dir, '.lake', 'db'), {valueEncoding: 'view'})
    const key = (i: number) => `!${'dm'[i % 2]}${randomBytes(16).toString('hex')}`
    for (let b = 0; b < 20; b++) await level.batch(Array.from({length: 1000}, (_, i) => ({type: 'put' as const, key: key(i), value: randomBytes(200)})))
    await level.compactRange('', '~')
    await level.close()
    const ds = await Dataset.open(dir)
    await ds.createTensor('label', {htype: 'class_label', dtype: 'i32'})
    const counts: number[] = []
    // ~4 sessions a round (append: 2, commit, tag), each its own LevelDB open and close
    for (let i = 0; i < 40; i++) {
      await ds.append('label', [i])
      await ds.commit(`c${i}`)
      await ds.tag(`t${i}`)
      counts.push(tables().length)
    }
    await ds.close()
    // LevelDB starts a level-0 compaction at 4 tables; with one level below, a settled database
    // has at most 3 tables at level 0 and a few at level 1
    assert.ok(Math.max(...counts) <= 8, `table counts over the sessions: ${counts.join(' ')}`)
    // and every commit is still there
    const again = await Dataset.open(dir)
    try {
      assert.equal((await again.log({limit: 100})).commits.length, 40)
      assert.deepEqual([...(await (await again.version('t39')).column('label'))], Array.from({length: 40}, (_, i) => i))
    } finally {
      await again.close()
    }
  })
})
