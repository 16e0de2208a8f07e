// A dataset whose objects live on S3 (`lake init --storage s3://bucket/prefix`), through the real
// CLI against the local S3 server: tensors, add (csv, imagefolder), commit, log, checkout of an
// older commit, show, export; a second init at the same location is refused (clone it instead).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import {assertRefused, describeRun, okJson, readTree, useSandbox, type CliResult} from '../helpers/cli.js'
import {csv, png} from '../helpers/fixtures.js'
import {assertFsckClean, freshUrl, Lake, listKeys, remoteBranch, s3Env, s3Server} from './helpers.js'

describe('remote: a dataset on S3 (init --storage)', function () {
  this.timeout(180_000)
  const box = useSandbox('lake-remote-s3ds-')
  let shared: {ds: Lake; url: string; prefix: string; head: string} | undefined

  it('init, tensor create, add csv + imagefolder, commit, log, checkout, show, export; a second init is refused', async () => {
    const s3 = await s3Server()
    const {url, prefix} = freshUrl(s3, 's3ds')
    const ds = new Lake(box().path('ds'), s3Env(s3))
    ds.write('rows.csv', csv(['id', 'name'], [[1, 'ann'], [2, 'bob'], [3, 'cy']]))
    const images = {'imgs/cat/0.png': await png(4, 4, 'red'), 'imgs/cat/1.png': await png(5, 4, 'orange'), 'imgs/dog/0.png': await png(6, 3, 'blue')}
    for (const [rel, bytes] of Object.entries(images)) ds.write(rel, bytes)

    const init = ds.json('init', '--storage', url)
    assert.deepEqual(init, {path: ds.cwd, storage: url, branch: 'main'})
    // The location is marked as a dataset.
    assert.ok((await listKeys(s3, prefix)).includes(`${prefix}lake.json`))

    assert.equal(ds.json('tensor', 'create', 'score', '--htype', 'generic', '--dtype', 'f32').tensor.name, 'score')
    assert.deepEqual(ds.json('add', 'rows.csv'), {added: 3, updated: 0, deleted: 0, tensors: ['id', 'name']})
    const c1 = ds.json('commit', '-m', 'rows')
    assert.deepEqual(ds.json('add', 'imgs', '--format', 'imagefolder'), {added: 3, updated: 0, deleted: 0, tensors: ['images', 'labels', 'path']})
    const c2 = ds.json('commit', '-m', 'images')
    assert.deepEqual(c2.parents, [c1.commit])

    // The objects are on S3 and the branch there moved with each commit (compare-and-swap).
    const keys = await listKeys(s3, prefix)
    assert.ok(keys.filter((k) => k.startsWith(`${prefix}objects/`)).length >= 10, keys.join('\n'))
    assert.equal(await remoteBranch(s3, prefix), c2.commit)
    assert.ok(!fs.existsSync(ds.path('.lake', 'objects')) || fs.readdirSync(ds.path('.lake', 'objects')).length === 0, 'no local object store')

    const [log, remotes, showHead, labels] = await Promise.all([
      ds.jsonAsync('log'),
      ds.jsonAsync('remote', 'list'),
      ds.async(['show', 'HEAD']),
      ds.jsonAsync('show', 'HEAD:labels[0:3]'),
    ])
    assert.deepEqual(log.commits.map((c: {commit: string}) => c.commit), [c2.commit, c1.commit])
    assert.deepEqual(log.commits.map((c: {message: string}) => c.message), ['images', 'rows'])
    // The location is also remote origin.
    assert.deepEqual(remotes.remotes, [{name: 'origin', url}])
    assert.equal(showHead.code, 0, showHead.stderr)
    for (const tensor of ['id', 'name', 'images', 'labels', 'path', 'score']) assert.match(showHead.stdout, new RegExp(`\\b${tensor}\\b`))
    assert.deepEqual(labels.values, [0, 0, 1])

    // An older commit, read back as it was.
    assert.deepEqual(ds.json('checkout', c1.commit), {head: c1.commit, branch: null, detached: true})
    const [names, oldShow, oldExport] = await Promise.all([
      ds.jsonAsync('show', 'HEAD:name[0:]'),
      ds.async(['show', 'HEAD', '--json']),
      ds.jsonAsync('export', '--to', 'out-c1', '--format', 'csv'),
    ])
    assert.deepEqual(names.values, ['ann', 'bob', 'cy'])
    assert.ok(!JSON.stringify(okJson(oldShow)).includes('"images"'), 'c1 has no images tensor')
    assert.equal(oldExport.written, 3)
    const c1Csv = fs.readdirSync(ds.path('out-c1')).map((f) => fs.readFileSync(ds.path('out-c1', f), 'utf8')).join('')
    for (const name of ['ann', 'bob', 'cy']) assert.ok(c1Csv.includes(name), c1Csv)

    ds.ok('checkout', 'main')
    // Export of HEAD, a second init at the same location and fsck, at once.
    const other = new Lake(box().path('other'), s3Env(s3))
    const [exported, second] = await Promise.all([ds.jsonAsync('export', '--to', 'out', '--format', 'imagefolder'), other.async(['init', '--storage', url]), assertFsckClean(ds)])
    assert.equal(exported.commit, c2.commit)
    const tree = readTree(ds.path('out'))
    assert.deepEqual(Object.keys(tree).sort(), Object.keys(images).map((k) => k.slice('imgs/'.length)).sort())
    for (const [rel, bytes] of Object.entries(images)) assert.ok(tree[rel.slice('imgs/'.length)].equals(bytes), `${rel} exported byte-identically`)

    // The second dataset at the same location is refused, and nothing is left behind.
    assertRefused(second as CliResult, 1, [url, 'already holds a lake dataset'], {hint: `lake clone ${url}`})
    assert.deepEqual(fs.readdirSync(other.cwd).filter((f) => f.startsWith('.lake')), [], 'no .lake made by the refused init')
    shared = {ds, url, prefix, head: c2.commit}
  })

  it('a commit on a new branch moves that branch on S3', async () => {
    assert.ok(shared, 'runs after the first test')
    const s3 = await s3Server()
    const {ds, prefix, head} = shared
    ds.ok('checkout', '-b', 'exp')
    ds.ok('update', '--tensor', 'name', '--index', '0', '--value', '"ANN"')
    const r = ds.run(['commit', '-m', 'on exp', '--json'])
    assert.equal(r.code, 0, describeRun(r))
    assert.deepEqual(r.json().parents, [head])
    assert.equal(await remoteBranch(s3, prefix, 'exp'), r.json().commit)
    assert.equal(await remoteBranch(s3, prefix, 'main'), head)
  })

  it('on shared storage, merge moves main on S3 too, and the next commit lands', async () => {
    assert.ok(shared, 'runs after the first tests')
    const s3 = await s3Server()
    const {ds, prefix} = shared
    ds.ok('checkout', 'main')
    const merged = ds.json('merge', 'exp')
    // Every move of a branch (commit, merge, fast-forward) moves it on the storage too.
    assert.equal(await remoteBranch(s3, prefix, 'main'), merged.commit, 'S3 main names the merge result')
    ds.ok('update', '--tensor', 'name', '--index', '1', '--value', '"BOB"')
    const next = ds.run(['commit', '-m', 'after the merge', '--json'])
    assert.equal(next.code, 0, describeRun(next))
    assert.equal(await remoteBranch(s3, prefix, 'main'), next.json().commit)
  })
})
