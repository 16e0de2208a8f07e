import assert from 'node:assert/strict'
import {mkdir, readFile, readdir, symlink, writeFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'
import {ensureEmptyTarget, walkFiles, writeFileUnder} from '../../src/core/io/files.js'
import {checkRelPath, safeJoin} from '../../src/core/io/paths.js'
import {collect, rejectsLake, useTempDir} from './helpers.js'

async function tree(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(join(root, rel, '..'), {recursive: true})
    await writeFile(join(root, rel), content)
  }
}

describe('io/files', () => {
  const tmp = useTempDir()

  describe('walkFiles', () => {
    it('lists every file sorted by relPath, skipping .lake and .git', async () => {
      const root = join(tmp(), 'data')
      await tree(root, {
        'b.txt': 'bb', 'a/z.txt': 'z', 'a-c.txt': 'ac', 'a/b/c.bin': 'abc', '.hidden': 'h',
        '.lake/objects/x': 'no', '.git/HEAD': 'no', 'sub/.git': 'gitfile, no', 'sub/.lake/y': 'no', 'sub/ok': 'ok',
      })
      await mkdir(join(root, 'empty'))
      const files = await collect(walkFiles(root))
      assert.deepEqual(files.map((f) => f.relPath), ['.hidden', 'a-c.txt', 'a/b/c.bin', 'a/z.txt', 'b.txt', 'sub/ok'])
      const rel = files.map((f) => f.relPath)
      assert.deepEqual(rel, [...rel].sort())
      // (a regular file's size is not asked of the file system during the walk: readers fstat it)
      assert.deepEqual(files.find((f) => f.relPath === 'a/b/c.bin'), {relPath: 'a/b/c.bin', absPath: resolve(root, 'a/b/c.bin')})
    })

    it('follows symlinks that stay inside root', async () => {
      const root = join(tmp(), 'data')
      await tree(root, {'real/f.txt': 'hello'})
      await symlink('real/f.txt', join(root, 'link.txt'))
      await symlink('real', join(root, 'linkdir'))
      const files = await collect(walkFiles(root))
      assert.deepEqual(files.map((f) => [f.relPath, f.size]), [['link.txt', 5], ['linkdir/f.txt', undefined], ['real/f.txt', undefined]])
    })

    it('refuses a symlink that leaves root, naming it', async () => {
      const root = join(tmp(), 'data')
      await tree(root, {'ok.txt': 'x'})
      await tree(tmp(), {'secret.txt': 's'})
      await symlink(join(tmp(), 'secret.txt'), join(root, 'escape.txt'))
      await rejectsLake(collect(walkFiles(root)), 'UNSAFE_PATH', join(root, 'escape.txt'), 'outside')
    })

    it('refuses a directory symlink to outside root, and a loop', async () => {
      const root = join(tmp(), 'data')
      await tree(root, {'d/x': 'x'})
      await symlink('/etc', join(root, 'd', 'etc'))
      await rejectsLake(collect(walkFiles(root)), 'UNSAFE_PATH', 'etc', 'outside')
      const loopRoot = join(tmp(), 'loop')
      await tree(loopRoot, {'a/x': 'x'})
      await symlink('..', join(loopRoot, 'a', 'up'))
      await rejectsLake(collect(walkFiles(loopRoot)), 'BAD_INPUT_FILE', 'up', 'loop')
    })

    it('refuses a broken symlink and a name that could not be exported', async () => {
      const root = join(tmp(), 'data')
      await tree(root, {'ok': 'x'})
      await symlink('nowhere', join(root, 'dangling'))
      await rejectsLake(collect(walkFiles(root)), 'BAD_INPUT_FILE', 'dangling', 'broken symlink')
      const root2 = join(tmp(), 'data2')
      await tree(root2, {'back\\slash': 'x'})
      await rejectsLake(collect(walkFiles(root2)), 'UNSAFE_PATH', 'backslash')
    })

    it('missing root and a file as root', async () => {
      await rejectsLake(collect(walkFiles(join(tmp(), 'nope'))), 'FILE_NOT_FOUND', 'nope')
      await tree(tmp(), {'f': 'x'})
      await rejectsLake(collect(walkFiles(join(tmp(), 'f'))), 'BAD_INPUT_FILE', 'not a directory')
    })
  })

  describe('safeJoin', () => {
    it('joins canonical relative paths', () => {
      assert.equal(safeJoin('/data/out', 'a/b.txt'), '/data/out/a/b.txt')
      assert.equal(safeJoin('/data/out', '..a/b..'), '/data/out/..a/b..')
      assert.deepEqual(checkRelPath('x/y'), ['x', 'y'])
    })

    for (const bad of ['../x', 'a/../../b', 'a/..', '..', '/etc/passwd', 'C:\\x', 'C:x', 'c:/x', 'a\\..\\b', '\\\\server\\share', 'a\0b', '', 'a//b', './a', 'a/', 'a/./b']) {
      it(`refuses ${JSON.stringify(bad)}`, async () => {
        await rejectsLake(async () => safeJoin('/data/out', bad), 'UNSAFE_PATH', JSON.stringify(bad))
      })
    }
  })

  describe('writeFileUnder', () => {
    it('creates parents and writes atomically, leaving no temp files', async () => {
      const root = tmp()
      assert.equal(await writeFileUnder(root, 'a/b/c.txt', new TextEncoder().encode('hi')), 2)
      assert.equal(await readFile(join(root, 'a/b/c.txt'), 'utf8'), 'hi')
      await writeFileUnder(root, 'a/b/c.txt', [Buffer.from('one '), Buffer.from('two')])
      assert.equal(await readFile(join(root, 'a/b/c.txt'), 'utf8'), 'one two')
      assert.deepEqual(await readdir(join(root, 'a/b')), ['c.txt'])
    })

    it('leaves the old file and no temp file when the bytes fail half way', async () => {
      const root = tmp()
      await writeFileUnder(root, 'f.txt', Buffer.from('old'))
      const failing = (async function* () {
        yield Buffer.from('partial')
        throw new Error('source broke')
      })()
      await assert.rejects(writeFileUnder(root, 'f.txt', failing), /source broke/)
      assert.equal(await readFile(join(root, 'f.txt'), 'utf8'), 'old')
      assert.deepEqual(await readdir(root), ['f.txt'])
    })

    it('refuses escaping names', async () => {
      for (const bad of ['../x', '/etc/passwd', 'C:\\x', 'a/../../b']) {
        await rejectsLake(writeFileUnder(tmp(), bad, Buffer.from('x')), 'UNSAFE_PATH')
      }
    })

    it('refuses to write through a symlinked directory that leaves root, creating nothing outside', async () => {
      const root = join(tmp(), 'out')
      const outside = join(tmp(), 'outside')
      await mkdir(root)
      await mkdir(outside)
      await symlink(outside, join(root, 'link'))
      await rejectsLake(writeFileUnder(root, 'link/new/x.txt', Buffer.from('x')), 'UNSAFE_PATH', 'outside the target')
      await rejectsLake(writeFileUnder(root, 'link/x.txt', Buffer.from('x')), 'UNSAFE_PATH')
      assert.deepEqual(await readdir(outside), [])
    })

    it('follows a symlinked directory that stays inside root', async () => {
      const root = tmp()
      await mkdir(join(root, 'real'))
      await symlink('real', join(root, 'alias'))
      await writeFileUnder(root, 'alias/x.txt', Buffer.from('x'))
      assert.equal(await readFile(join(root, 'real/x.txt'), 'utf8'), 'x')
    })

    it('replaces a symlink at the target itself instead of writing through it', async () => {
      const root = join(tmp(), 'out')
      await mkdir(root)
      await writeFile(join(tmp(), 'victim'), 'safe')
      await symlink(join(tmp(), 'victim'), join(root, 'f.txt'))
      await writeFileUnder(root, 'f.txt', Buffer.from('new'))
      assert.equal(await readFile(join(tmp(), 'victim'), 'utf8'), 'safe')
      assert.equal(await readFile(join(root, 'f.txt'), 'utf8'), 'new')
    })

    it('a file in the way of a directory is an error naming it', async () => {
      const root = tmp()
      await writeFileUnder(root, 'a', Buffer.from('file'))
      await rejectsLake(writeFileUnder(root, 'a/b', Buffer.from('x')), 'STORAGE_ERROR', 'a/b')
    })
  })

  describe('ensureEmptyTarget', () => {
    it('creates a missing directory (with parents) and accepts an empty one', async () => {
      const dir = join(tmp(), 'x', 'y')
      await ensureEmptyTarget(dir, false)
      assert.deepEqual(await readdir(dir), [])
      await ensureEmptyTarget(dir, false)
    })

    it('refuses a non-empty directory unless forced, and a file', async () => {
      await writeFile(join(tmp(), 'f'), 'x')
      const err = await rejectsLake(ensureEmptyTarget(tmp(), false), 'TARGET_NOT_EMPTY', tmp())
      assert.ok(err.hint?.includes('--force'))
      await ensureEmptyTarget(tmp(), true)
      assert.deepEqual(await readdir(tmp()), ['f'])
      await rejectsLake(ensureEmptyTarget(join(tmp(), 'f'), true), 'TARGET_NOT_EMPTY', 'not a directory')
    })
  })
})
