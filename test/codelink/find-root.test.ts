// findGitRoot walks up without loading isomorphic-git; it must agree with isomorphic-git's findRoot.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import git from 'isomorphic-git'
import {findGitRoot} from '../../src/core/codelink/codelink.js'

describe('codelink: findGitRoot', () => {
  let tmp: string
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-gitroot-'))
    fs.mkdirSync(path.join(tmp, 'repo', '.git'), {recursive: true})
    fs.mkdirSync(path.join(tmp, 'repo', 'data', 'deep'), {recursive: true})
    fs.mkdirSync(path.join(tmp, 'worktree', 'sub'), {recursive: true})
    fs.writeFileSync(path.join(tmp, 'worktree', '.git'), 'gitdir: ../repo/.git\n') // a linked worktree or submodule
    fs.mkdirSync(path.join(tmp, 'plain', 'sub'), {recursive: true})
  })
  after(() => fs.rmSync(tmp, {recursive: true, force: true}))

  it('finds the nearest directory holding .git (a directory or a file), as isomorphic-git does', async () => {
    for (const [from, root] of [
      ['repo', 'repo'],
      ['repo/data/deep', 'repo'],
      ['worktree/sub', 'worktree'],
    ]) {
      const dir = path.join(tmp, from)
      assert.equal(await findGitRoot(dir), path.join(tmp, root), from)
      assert.equal(await git.findRoot({fs, filepath: dir}), path.join(tmp, root), `isomorphic-git, ${from}`)
    }
  })

  it('null outside any repository (when no directory above has .git)', async () => {
    const dir = path.join(tmp, 'plain', 'sub')
    const expected = await git.findRoot({fs, filepath: dir}).catch(() => null)
    assert.equal(await findGitRoot(dir), expected)
  })
})
