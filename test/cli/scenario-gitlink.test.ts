// The dataset inside a git repository: a commit records the code commit (sha, dirty flag), and the
// author falls back from LAKE_AUTHOR_* to `lake config user.*` to the repository's git user.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {AUTHOR, useSandbox} from '../helpers/cli.js'

const NO_AUTHOR_ENV = {LAKE_AUTHOR_NAME: undefined, LAKE_AUTHOR_EMAIL: undefined}

describe('cli scenario: code link and author identity', function () {
  this.timeout(300_000)
  const box = useSandbox('lake-cli-git-')
  const git = (...args: string[]) =>
    execFileSync('git', args, {cwd: box().dir, encoding: 'utf8', env: {...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1'}}).trim()

  it('records the git commit and its dirty flag; author: env, then lake config, then git user', () => {
    git('init', '-q')
    git('config', 'user.name', 'Git User')
    git('config', 'user.email', 'git@example.com')
    box().write('train.py', 'print(1)\n')
    git('add', 'train.py')
    git('commit', '-q', '-m', 'code')
    const sha = git('rev-parse', 'HEAD')
    box().ok('init')
    const run = (env: Record<string, string | undefined>, ...args: string[]) => {
      const r = box().run([...args, '--json'], {env})
      assert.equal(r.code, 0, r.stderr)
      return r.json()
    }
    run(NO_AUTHOR_ENV, 'commit', '-m', 'clean, git user', '--allow-empty')
    box().write('train.py', 'print(2)\n')
    box().ok('config', 'user.name', 'Config User')
    box().ok('config', 'user.email', 'config@example.com')
    run(NO_AUTHOR_ENV, 'commit', '-m', 'dirty, config user', '--allow-empty')
    run({}, 'commit', '-m', 'dirty, env user', '--allow-empty')
    const commits = box().json('log').commits as {message: string; author: string; code: {sha: string; dirty: boolean} | null}[]
    assert.deepEqual(commits.map((c) => [c.message, c.author, c.code]), [
      ['dirty, env user', `${AUTHOR.name} <${AUTHOR.email}>`, {sha, dirty: true}],
      ['dirty, config user', 'Config User <config@example.com>', {sha, dirty: true}],
      ['clean, git user', 'Git User <git@example.com>', {sha, dirty: false}],
    ])
  })
})
