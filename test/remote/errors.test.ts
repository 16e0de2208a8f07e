// Remote failures through the CLI: an unreachable endpoint (a closed port), a bucket that does not
// exist, refused credentials, and a clone that fails half-way. Each exits 1 quickly with an
// `error:` line naming the endpoint or bucket and a `hint:`, changes nothing (no dataset directory
// left by a clone, status and log unchanged by a push), and never prints the credentials.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import {assertRefused, describeRun, useSandbox, type CliResult} from '../helpers/cli.js'
import {csv} from '../helpers/fixtures.js'
import {datasetState} from '../helpers/state.js'
import {freshUrl, Lake, remoteBranch, s3Env, s3Server, closedPort} from './helpers.js'


// Distinctive credentials, to look for in the output.
const SECRET_ENV = {AWS_ACCESS_KEY_ID: 'AKIALAKETESTKEY12345', AWS_SECRET_ACCESS_KEY: 'lake+test/secret+value+0123456789abcdef'}

function assertNoSecrets(r: CliResult, secrets: string[]): void {
  for (const secret of secrets) {
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), `'lake ${r.args.join(' ')}' printed a credential:\n${r.stdout}\n${r.stderr}`)
  }
}

/** Runs a command and times it. */
async function timed(run: () => Promise<CliResult>): Promise<CliResult & {ms: number}> {
  const start = Date.now()
  const r = await run()
  return {...r, ms: Date.now() - start}
}

describe('remote: errors (unreachable endpoint, wrong bucket, refused credentials)', function () {
  this.timeout(180_000)
  const box = useSandbox('lake-remote-errors-')
  // The first test's remote, cloned by the second.
  let remote: {url: string; prefix: string; head: string; root: Lake} | undefined

  it('exit 1, an error naming the endpoint or bucket, a hint, quickly; nothing changed; no credentials printed', async () => {
    const s3 = await s3Server()
    const {url, prefix} = freshUrl(s3, 'errors')
    const good = s3Env(s3)
    const dead = `http://127.0.0.1:${await closedPort()}`
    const root = new Lake(box().dir, good)
    const a = root.at('a')
    a.ok('init')
    a.write('d.csv', csv(['id', 'label'], [[1, 'a'], [2, 'b']]))
    a.ok('add', 'd.csv')
    const v1 = a.json('commit', '-m', 'v1').commit
    a.ok('remote', 'add', 'origin', url)
    a.ok('remote', 'add', 'nobucket', 's3://no-such-bucket-lake/x')
    a.ok('push')
    a.write('e.csv', csv(['id', 'label'], [[3, 'c']]))
    a.ok('add', 'e.csv') // staged, not committed: a failed push must leave it staged
    const before = await datasetState(a.cwd)

    const unreachable = {...good, ...SECRET_ENV, LAKE_S3_ENDPOINT: dead}
    const wrongCreds = {...good, ...SECRET_ENV}
    const [cloneDead, pushDead, cloneNoBucket, pushNoBucket, initDead, cloneDenied, pushDeniedJson] = await Promise.all([
      timed(() => root.async(['clone', url, 'c-dead'], unreachable)),
      timed(() => a.async(['push'], unreachable)),
      timed(() => root.async(['clone', 's3://no-such-bucket-lake/x', 'c-nobucket'])),
      timed(() => a.async(['push', 'nobucket'])),
      timed(() => root.at('i-dead').async(['init', '--storage', url], unreachable)),
      timed(() => root.async(['clone', url, 'c-denied'], wrongCreds)),
      timed(() => a.async(['push', '--json'], wrongCreds)),
    ])

    for (const r of [cloneDead, pushDead, initDead]) {
      assertRefused(r, 1, [dead, 'cannot reach'], {hint: 'LAKE_S3_ENDPOINT'})
      assert.ok(r.ms < 30_000, `'lake ${r.args.join(' ')}' took ${r.ms} ms against a closed port`)
    }
    for (const r of [cloneNoBucket, pushNoBucket]) {
      assertRefused(r, 1, ['"no-such-bucket-lake"', 'does not exist', s3.endpoint], {hint: 'bucket'})
      assert.ok(r.ms < 30_000, `'lake ${r.args.join(' ')}' took ${r.ms} ms`)
    }
    assertRefused(cloneDenied, 1, [s3.endpoint, 'refused the credentials'], {hint: 'AWS_ACCESS_KEY_ID'})
    assert.equal(pushDeniedJson.code, 1, describeRun(pushDeniedJson))
    assert.equal(pushDeniedJson.json().error.code, 'STORAGE_ERROR')
    assert.match(pushDeniedJson.json().error.message, /refused the credentials/)

    // Credentials never appear, in text or JSON output.
    for (const r of [cloneDead, pushDead, cloneNoBucket, pushNoBucket, initDead, cloneDenied, pushDeniedJson]) {
      assertNoSecrets(r, [SECRET_ENV.AWS_ACCESS_KEY_ID, SECRET_ENV.AWS_SECRET_ACCESS_KEY, good.AWS_SECRET_ACCESS_KEY])
      assert.equal(r.stderr.includes('Warning'), false, `no runtime warnings:\n${r.stderr}`)
    }

    // Nothing changed: no dataset directories, the dataset exactly as it was (still staged).
    for (const dir of ['c-dead', 'c-nobucket', 'c-denied']) assert.ok(!fs.existsSync(root.path(dir)), `clone left ${dir}/ behind`)
    assert.ok(!fs.existsSync(root.path('i-dead', '.lake')), 'init left .lake behind')
    assert.deepEqual(await datasetState(a.cwd), before)
    // ... and the remote is as the last good push left it.
    assert.equal(await remoteBranch(s3, prefix), v1)
    remote = {url, prefix, head: v1, root}
  })

  it('a clone that fails half-way (access lost while copying commits) leaves no half-made dataset', async () => {
    const s3 = await s3Server()
    assert.ok(remote, 'runs after the first test')
    const {url, prefix, head, root} = remote
    // The commit object's GET is refused once (403 is not retried): the clone fails after it began.
    await s3.injectFault({method: 'GET', keyEndsWith: `${prefix}objects/${head.slice(0, 2)}/${head.slice(2)}`}, {status: 403, code: 'AccessDenied'})
    const failed = root.run(['clone', url, 'half'])
    assertRefused(failed, 1, ['refused the credentials'], {hint: true})
    assert.ok(!fs.existsSync(root.path('half')), 'a failed clone leaves no .lake behind (a retry would say a dataset exists)')
    // Retrying the same clone works.
    assert.equal(root.json('clone', url, 'half').head, head)
  })
})
