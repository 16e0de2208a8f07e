// The README's CI recipe ("Versioning data in CI"), end to end against the local S3 server, run
// from inside a git repository as a CI job's checkout is: clone, add --json, commit --json, push
// --json. The commit records the code sha (log --json: code.sha = the repository's HEAD), and with
// no TTY the output has no progress bars (nor any other noise) on stderr.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {describeRun, useSandbox, type CliResult} from '../helpers/cli.js'
import {csv, png} from '../helpers/fixtures.js'
import {freshUrl, Lake, remoteBranch, s3Env, s3Server} from './helpers.js'

describe('remote: the CI recipe from README', function () {
  this.timeout(180_000)
  const box = useSandbox('lake-remote-ci-')

  it('clone, add, commit --json, push --json inside a git checkout: code sha recorded, plain output', async () => {
    const s3 = await s3Server()
    const {url, prefix} = freshUrl(s3, 'ci')
    // The job's environment: credentials and endpoint, a CI author; nothing else (no TTY: pipes).
    const env = {...s3Env(s3), LAKE_AUTHOR_NAME: 'ci', LAKE_AUTHOR_EMAIL: 'ci@example.com'}

    // The dataset, made earlier on shared storage by someone else.
    const seed = new Lake(box().path('seed'), env)
    seed.write('d.csv', csv(['id', 'label'], [[1, 'a']]))
    seed.ok('init', '--storage', url)
    seed.ok('add', 'd.csv')
    const first = seed.json('commit', '-m', 'first').commit

    // The job's checkout: a git repository with the new data in it.
    const job = new Lake(box().path('checkout'), env)
    const git = (...args: string[]) =>
      execFileSync('git', args, {cwd: job.cwd, encoding: 'utf8', env: {...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1'}}).trim()
    job.write('train.py', 'print("train")\n')
    job.write('new-images/cat/0.png', await png(4, 4, 'red'))
    job.write('new-images/dog/0.png', await png(4, 5, 'blue'))
    git('init', '-q')
    git('-c', 'user.name=dev', '-c', 'user.email=dev@example.com', 'add', '.')
    git('-c', 'user.name=dev', '-c', 'user.email=dev@example.com', 'commit', '-q', '-m', 'code')
    const sha = git('rev-parse', 'HEAD')

    const steps: CliResult[] = []
    const step = (...args: string[]) => {
      const r = job.run(args)
      assert.equal(r.code, 0, describeRun(r))
      steps.push(r)
      return r
    }
    const clone = step('clone', url, 'data')
    assert.match(clone.stdout, /^Cloned .* into .*data \(branch main at [0-9a-f]{12}\); sample data is read on demand\n$/)
    const added = step('-C', 'data', 'add', 'new-images/', '--format', 'imagefolder', '--json').json()
    assert.equal(added.added, 2)
    const committed = step('-C', 'data', 'commit', '-m', `data for ${sha}`, '--json').json()
    assert.deepEqual(committed.parents, [first])
    const pushed = step('-C', 'data', 'push', '--json').json()
    assert.deepEqual([pushed.commit, pushed.old, pushed.upToDate], [committed.commit, first, false])
    assert.equal(await remoteBranch(s3, prefix), committed.commit)

    // Plain output: nothing on stderr (no progress bar, no warning), no control characters anywhere.
    for (const r of steps) {
      assert.equal(r.stderr, '', `stderr of 'lake ${r.args.join(' ')}'`)
      assert.ok(!/[\r\x1b]/.test(r.stdout), `control characters in the output of 'lake ${r.args.join(' ')}'`)
    }

    // The commit records the code: log --json shows the checkout's sha.
    const [entry] = job.json('-C', 'data', 'log', '-n', '1').commits
    assert.equal(entry.commit, committed.commit)
    assert.equal(entry.message, `data for ${sha}`)
    assert.equal(entry.author, 'ci <ci@example.com>')
    assert.equal(entry.code?.sha, sha)
  })
})
