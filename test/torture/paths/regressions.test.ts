// Bugs the paths-and-secrets campaign found, one test each (they fail on the code before the fix).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Repo} from '../../../src/core/repo/repo.js'
import {add} from '../../../src/core/ops/add.js'
import {commit} from '../../../src/core/ops/commit.js'
import {exportVersion} from '../../../src/core/ops/export.js'
import {checkRelPath} from '../../../src/core/io/paths.js'
import {openStore} from '../../../src/core/storage/open.js'
import {parseS3Url} from '../../../src/core/storage/s3-config.js'
import {LakeError} from '../../../src/core/errors.js'

function refusal(fn: () => unknown): LakeError {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof LakeError, String(err))
    return err
  }
  assert.fail('accepted')
}

describe('torture 6: regressions', () => {
  let box: string
  beforeEach(() => {
    box = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'lake-paths-reg-')))
  })
  afterEach(() => fs.rmSync(box, {recursive: true, force: true}))

  it('export --force over a symlink in the target: refused before anything moves (was: raw ENOTDIR, half the files moved in)', async () => {
    fs.mkdirSync(path.join(box, 'src', 'sub'), {recursive: true})
    fs.writeFileSync(path.join(box, 'src', 'a'), 'a')
    fs.writeFileSync(path.join(box, 'src', 'sub', 'x'), 'x')
    fs.mkdirSync(path.join(box, 'outside'))
    const repo = await Repo.init(path.join(box, 'ds'))
    try {
      await add(repo, [path.join(box, 'src')], {format: 'files'})
      await commit(repo, {message: 'files'})
      const target = path.join(box, 't')
      fs.mkdirSync(target)
      fs.symlinkSync(path.join(box, 'outside'), path.join(target, 'sub'))
      await assert.rejects(exportVersion(repo, 'HEAD', {to: target, format: 'files', force: true}), (e: LakeError) => e.code === 'UNSAFE_PATH' && /symlink/.test(e.message))
      assert.deepEqual(fs.readdirSync(target), ['sub'], "the target is as it was ('a' was moved in before the failure)")
      assert.deepEqual(fs.readdirSync(path.join(box, 'outside')), [])
    } finally {
      await repo.close()
    }
  })

  it('a refused export removes the target directory it made (was: an empty directory left behind)', async () => {
    const repo = await Repo.init(path.join(box, 'ds'))
    try {
      const {appendValues, createTensor} = await import('../../../src/core/ops/edit.js')
      await createTensor(repo, 'path', {htype: 'text'})
      await createTensor(repo, 'content', {htype: 'binary'})
      await appendValues(repo, 'path', ['../escape'])
      await appendValues(repo, 'content', [Buffer.from('x')])
      await commit(repo, {message: 'hostile'})
      const target = path.join(box, 'made-by-export')
      await assert.rejects(exportVersion(repo, 'HEAD', {to: target, format: 'files'}), (e: LakeError) => e.code === 'UNSAFE_PATH')
      assert.equal(fs.existsSync(target), false)
    } finally {
      await repo.close()
    }
  })

  it('export of two rows holding the same path is refused (was: the later silently overwrote the earlier)', async () => {
    const repo = await Repo.init(path.join(box, 'ds'))
    try {
      const {appendValues, createTensor} = await import('../../../src/core/ops/edit.js')
      await createTensor(repo, 'path', {htype: 'text'})
      await createTensor(repo, 'content', {htype: 'binary'})
      await appendValues(repo, 'path', ['x', 'y', 'x'])
      await appendValues(repo, 'content', [Buffer.from('first'), Buffer.from('y'), Buffer.from('second')])
      await commit(repo, {message: 'twice'})
      const target = path.join(box, 'out')
      await assert.rejects(exportVersion(repo, 'HEAD', {to: target, format: 'files'}), (e: LakeError) => /rows 0 and 2/.test(e.message))
      assert.equal(fs.existsSync(target), false)
    } finally {
      await repo.close()
    }
  })

  it('imagefolder export of two images whose paths share a base name is refused (was: one overwrote the other)', async () => {
    const {png} = await import('../../helpers/fixtures.js')
    // Two image folders with the same class and file name, added one after the other.
    for (const [dir, color] of [['one', 'red'], ['two', 'blue']]) {
      fs.mkdirSync(path.join(box, dir, 'cat'), {recursive: true})
      fs.writeFileSync(path.join(box, dir, 'cat', '1.png'), await png(2, 2, color))
    }
    const repo = await Repo.init(path.join(box, 'ds'))
    try {
      await add(repo, [path.join(box, 'one')], {format: 'imagefolder'})
      await add(repo, [path.join(box, 'two')], {format: 'imagefolder'})
      await commit(repo, {message: 'two 1.png'})
      await assert.rejects(exportVersion(repo, 'HEAD', {to: path.join(box, 'out'), format: 'imagefolder'}), (e: LakeError) => /both be exported as "cat\/1.png"/.test(e.message))
    } finally {
      await repo.close()
    }
  })

  it("a single file whose name holds a backslash is refused when added (was: stored, refused only at export)", async () => {
    const file = path.join(box, 'a\\b')
    fs.writeFileSync(file, 'x')
    const repo = await Repo.init(path.join(box, 'ds'))
    try {
      await assert.rejects(add(repo, [file], {format: 'files'}), (e: LakeError) => e.code === 'UNSAFE_PATH')
    } finally {
      await repo.close()
    }
  })

  it('names of only dots and spaces are unsafe (Windows reads "..." and ".. " as "..")', () => {
    for (const p of ['...', 'a/. ./b', '.. ', 'x/....']) assert.equal(refusal(() => checkRelPath(p)).code, 'UNSAFE_PATH', p)
    assert.deepEqual(checkRelPath('a./.b/x..y'), ['a.', '.b', 'x..y'])
  })

  it('storage URLs with credentials are refused without echoing them (was: the secret in the error line)', () => {
    for (const url of ['s3://AKIAXXXX:topsecret@bucket/p', 's3://user:topsecret@Bad_Bucket/p', 'file://u:topsecret@/tmp/x', 'memory://u:topsecret@m']) {
      const err = refusal(() => openStore(url))
      assert.doesNotMatch(err.message + (err.hint ?? '') + JSON.stringify(err.data ?? {}), /topsecret|AKIAXXXX/, url)
    }
    const err = refusal(() => parseS3Url('s3://user:topsecret@Bad_Bucket/p'))
    assert.doesNotMatch(err.message + JSON.stringify(err.data ?? {}), /topsecret/)
  })
})
