// Bugs the hostile-input campaign found, one test each (they fail on the code before the fix).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Dataset} from '../../../src/index.js'
import {encode} from '../../../src/core/codec.js'
import {decodeCommit} from '../../../src/core/version/commit.js'
import {decodeRoot} from '../../../src/core/dataset/version-root.js'
import {decodeNode} from '../../../src/core/index/decode.js'
import {decodeRecord} from '../../../src/core/events/log.js'
import {createTensorMeta} from '../../../src/core/format/tensor-meta.js'
import {assertLakeError, fakeHash} from './check.js'

function refuses(fn: () => unknown, code: string): void {
  try {
    fn()
  } catch (err) {
    assertLakeError(err, 'decoder')
    assert.equal(err.code, code, err.message)
    return
  }
  assert.fail('accepted')
}

describe('torture 3: regressions', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-hostile-reg-'))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  it("tensor names that Object.prototype holds ('constructor', 'valueOf') are ordinary names", async () => {
    const ds = await Dataset.init(dir)
    try {
      // Was: "tensor 'constructor' already exists" on an empty dataset.
      await ds.createTensor('constructor', {htype: 'text'})
      await ds.append('constructor', ['a'])
      await ds.commit('one')
      const v = await ds.version()
      assert.equal(await v.read('constructor', 0), 'a')
      // Was: "index 0 is out of range for tensor 'valueOf' (length 0)".
      await assert.rejects(v.read('valueOf', 0), (e: {code?: string}) => e.code === 'UNKNOWN_TENSOR')
      await assert.rejects(v.read('toString', 0), (e: {code?: string}) => e.code === 'UNKNOWN_TENSOR')
    } finally {
      await ds.close()
    }
  })

  const commit = {kind: 'commit', v: 1, parents: [], root: fakeHash(2), message: 'm', author: {name: 'a', email: 'e'}, time: 1, branch: 'main', code: null}

  it('a commit object without an author, or with a time no Date holds, is corrupt (was: TypeError/RangeError in log)', () => {
    const {author: _author, ...noAuthor} = commit
    refuses(() => decodeCommit(encode(noAuthor), fakeHash(1)), 'CORRUPT_OBJECT')
    refuses(() => decodeCommit(encode({...commit, time: 1e300}), fakeHash(1)), 'CORRUPT_OBJECT')
    refuses(() => decodeCommit(encode({...commit, parents: [7]}), fakeHash(1)), 'CORRUPT_OBJECT')
    assert.equal(decodeCommit(encode(commit), fakeHash(1)).message, 'm')
  })

  it('a version root with an invalid meta, index or length is corrupt (was: accepted, crashing readers)', () => {
    const meta = createTensorMeta('t', {htype: 'text'})
    const root = (entry: unknown[]) => encode({kind: 'root', v: 1, tensors: [entry]})
    assert.ok(decodeRoot(root(['t', meta, fakeHash(3), 2]), fakeHash(1)).tensors.t)
    const {dtype: _dtype, ...noDtype} = meta
    refuses(() => decodeRoot(root(['t', noDtype, fakeHash(3), 2]), fakeHash(1)), 'CORRUPT_OBJECT')
    refuses(() => decodeRoot(root(['t', meta, 'zz', 2]), fakeHash(1)), 'CORRUPT_OBJECT')
    refuses(() => decodeRoot(root(['t', meta, fakeHash(3), -1]), fakeHash(1)), 'CORRUPT_OBJECT')
    refuses(() => decodeRoot(root([5n, meta, fakeHash(3), 2]), fakeHash(1)), 'CORRUPT_OBJECT')
    refuses(() => decodeRoot(root(['t', {...meta, htype: 5n}, fakeHash(3), 2]), fakeHash(1)), 'CORRUPT_OBJECT')
  })

  it('an index node whose kind is a bigint is corrupt (was: TypeError from JSON.stringify)', () => {
    refuses(() => decodeNode(fakeHash(1), encode({kind: 5n, v: 1})), 'CORRUPT_OBJECT')
  })

  it('an event record missing a field its projection reads is corrupt (was: TypeError in applyRecord)', () => {
    const record = {v: 1, seq: 1, time: 1, prev: '', type: 'commit', commit: fakeHash(1), parents: [], root: fakeHash(2), branch: 'main', commitTime: 1, message: 'm'}
    assert.equal(decodeRecord(encode(record), '#1').type, 'commit')
    const {parents: _parents, ...noParents} = record
    refuses(() => decodeRecord(encode(noParents), '#1'), 'CORRUPT_OBJECT')
    refuses(() => decodeRecord(encode({...record, type: 'nonsense'}), '#1'), 'CORRUPT_OBJECT')
  })
})
