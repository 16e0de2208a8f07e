// fsck checks LevelDB's table files without the database's lock, so another lake process may
// compact a table away between the listing and the read: a table that is gone by then is no damage
// (found by torture/s3-faults, where fsck ran beside an export of the same dataset).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {checkLevelTables} from '../../src/core/events/level-files.js'

describe('checkLevelTables', () => {
  it('a table listed but gone when read (compacted away meanwhile) is not reported; an unreadable one is', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-level-tables-'))
    try {
      // listed by readdir, ENOENT on open: what a table deleted right after the listing looks like
      fs.symlinkSync(path.join(dir, 'nowhere'), path.join(dir, '000011.ldb'))
      assert.deepEqual(await checkLevelTables(dir), [])
      // a table that cannot be read for another reason still is a problem
      fs.mkdirSync(path.join(dir, '000012.ldb'))
      const problems = await checkLevelTables(dir)
      assert.deepEqual(problems.map((p) => p.object), ['leveldb table 000012.ldb'])
    } finally {
      fs.rmSync(dir, {recursive: true, force: true})
    }
  })
})
