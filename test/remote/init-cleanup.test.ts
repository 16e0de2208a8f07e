// A failed `lake init --storage URL` leaves nothing behind: not the dataset directory it made, not
// a .lake (or .lake.init-*), not a file:// storage directory it made, not the remote marker it
// wrote before failing. Proven by a snapshot of the whole sandbox (directories included) and a
// listing of the S3 prefix, before and after; and a retry then works.
import assert from 'node:assert/strict'
import {pathToFileURL} from 'node:url'
import {assertRefused, useSandbox} from '../helpers/cli.js'
import {snapshotDir} from '../crash/cli.js'
import {freshUrl, Lake, listKeys, s3Env, s3Server, closedPort} from './helpers.js'


describe('remote: a failed init --storage leaves nothing behind', function () {
  this.timeout(120_000)
  const box = useSandbox('lake-init-cleanup-')

  it('missing bucket, closed port, a file in the way, a location that holds a dataset, a bare path: refused, the sandbox unchanged', async () => {
    const s3 = await s3Server()
    const root = new Lake(box().dir, s3Env(s3))
    const {url} = freshUrl(s3, 'init-dead')
    root.write('afile', 'not a directory\n')
    root.at('empty') // an existing empty directory: init there must leave it empty
    const heldStore = pathToFileURL(root.path('held-store')).href
    root.ok('init', 'held', '--storage', heldStore)
    const before = await snapshotDir(root.cwd, {dirs: true})

    const dead = `http://127.0.0.1:${await closedPort()}`
    const [noBucket, noBucketHere, closed, fileInTheWay, held, plainPath] = await Promise.all([
      root.async(['init', 'fresh/deeper', '--storage', 's3://no-such-bucket-lake/x']),
      root.at('empty').async(['init', '--storage', 's3://no-such-bucket-lake/x']),
      root.async(['init', 'fresh2', '--storage', url], {LAKE_S3_ENDPOINT: dead}),
      root.async(['init', 'fresh3', '--storage', pathToFileURL(root.path('afile', 'store')).href]),
      root.async(['init', 'fresh4', '--storage', heldStore]),
      root.async(['init', 'fresh5', '--storage', root.path('plain-dir')]),
    ])
    for (const r of [noBucket, noBucketHere]) assertRefused(r, 1, ['"no-such-bucket-lake"', 'does not exist'], {hint: 'bucket'})
    assertRefused(closed, 1, [dead, 'cannot reach'], {hint: 'LAKE_S3_ENDPOINT'})
    assertRefused(fileInTheWay, 1, ['afile/store'], {hint: 'a file is in the way'})
    assertRefused(held, 1, ['already holds a lake dataset'], {hint: 'lake clone'})
    assertRefused(plainPath, 2, ['plain-dir'], {hint: 'file:///'})

    assert.deepEqual([...(await snapshotDir(root.cwd, {dirs: true}))], [...before], 'a failed init changed the sandbox')
    assert.deepEqual(await listKeys(s3, url.slice(`s3://${s3.bucket}/`.length) + '/'), [], 'nothing written to the unreachable location')
  })

  it('an S3 init that fails after writing the remote marker takes it back; a retry works', async () => {
    const s3 = await s3Server()
    const root = new Lake(box().dir, s3Env(s3))
    const {url, prefix} = freshUrl(s3, 'init-half')
    const before = await snapshotDir(root.cwd, {dirs: true})
    // The marker is written first; the empty root object's write (a touch: CopyObject, then a
    // PutObject) is refused after it, and 403 is not retried.
    await s3.injectFault({method: 'PUT', query: 'CopyObject', keyEndsWith: ''}, {status: 403, code: 'AccessDenied'})
    const failed = await root.async(['init', 'half', '--storage', url])
    assertRefused(failed, 1, ['refused the credentials'], {hint: true})
    const puts = (await s3.requests(prefix)).filter((r) => r.method === 'PUT').map((r) => r.key)
    assert.ok(puts.includes(`${prefix}lake.json`), `the marker was written before the failure (PUTs: ${puts.join(', ')})`)
    assert.deepEqual(await listKeys(s3, prefix), [], 'the marker (and nothing else) is left on the remote')
    assert.deepEqual([...(await snapshotDir(root.cwd, {dirs: true}))], [...before], 'no local leftovers')

    assert.equal(root.json('init', 'half', '--storage', url).storage, url)
    const after = await listKeys(s3, prefix)
    assert.ok(after.includes(`${prefix}lake.json`), after.join(' '))
  })
})
