// A dataset whose objects live on S3 (`lake init --storage s3://bucket/prefix`), through the real
// CLI against the local S3 server: tensors, add (csv, imagefolder), commit, log, checkout of an
// older commit, show, export; a second init at the same location is refused (clone it instead).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import {assertRefused, okJson, readTree, useSandbox} from '../helpers/cli.js'
import {csv, png} from '../helpers/fixtures.js'
import {assertFsckClean, freshUrl, Lake, listKeys, s3Env, s3Server} from './helpers.js'

describe('remote: a dataset on S3 (init --storage)', function () {
  this.timeout(180_000)
  const box = useSandbox('lake-remote-s3ds-')

  it('init, tensor create, add csv + imagefolder, commit, log, checkout, show, export; a second init is refused', async () => {
    const s3 = await s3Server()
    const {url, prefix} = freshUrl(s3, 's3ds')
    const ds = new Lake(box().path('ds'), s3Env(s3))
    ds.write('rows.csv', csv(['id', 'name'], [[1, 'ann'], [2, 'bob'], [3, 'cy']]))
    ds.write('more.csv', csv(['id', 'name'], [[4, 'dee']]))
    const images = {'imgs/cat/0.png': await png(4, 4, 'red'), 'imgs/cat/1.png': await png(5, 4, 'orange'), 'imgs/dog/0.png': await png(6, 3, 'blue')}
    for (const [rel, bytes] of Object.entries(images)) ds.write(rel, bytes)

    const init = ds.json('init', '--storage', url)
    assert.deepEqual(init, {path: ds.cwd, storage: url, branch: 'main'})
    // The location is also remote origin, and it is marked as a dataset.
    assert.deepEqual(ds.json('remote', 'list').remotes, [{name: 'origin', url}])
    assert.ok((await listKeys(s3, prefix)).includes(`${prefix}lake.json`))

    assert.equal(ds.json('tensor', 'create', 'score', '--htype', 'generic', '--dtype', 'f32').tensor.name, 'score')
    assert.deepEqual(ds.json('add', 'rows.csv'), {added: 3, updated: 0, deleted: 0, tensors: ['id', 'name']})
    const c1 = ds.json('commit', '-m', 'rows')
    assert.deepEqual(ds.json('add', 'imgs', '--format', 'imagefolder'), {added: 3, updated: 0, deleted: 0, tensors: ['images', 'labels', 'path']})
    assert.deepEqual(ds.json('add', 'more.csv').added, 1)
    const c2 = ds.json('commit', '-m', 'images and a row')
    assert.deepEqual(c2.parents, [c1.commit])

    // The objects are on S3 and the branch there moved with each commit (compare-and-swap).
    const keys = await listKeys(s3, prefix)
    assert.ok(keys.filter((k) => k.startsWith(`${prefix}objects/`)).length >= 10, keys.join('\n'))
    assert.ok(keys.includes(`${prefix}refs/heads/main`))
    assert.ok(!fs.existsSync(ds.path('.lake', 'objects')) || fs.readdirSync(ds.path('.lake', 'objects')).length === 0, 'no local object store')

    const [log, oneline, showHead, labels] = await Promise.all([
      ds.jsonAsync('log'),
      ds.async(['log', '--oneline']),
      ds.async(['show', 'HEAD']),
      ds.jsonAsync('show', 'HEAD:labels[0:3]'),
    ])
    assert.deepEqual(log.commits.map((c: {commit: string}) => c.commit), [c2.commit, c1.commit])
    assert.deepEqual(oneline.stdout.trimEnd().split('\n'), [`${c2.commit.slice(0, 12)} images and a row`, `${c1.commit.slice(0, 12)} rows`])
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
    assert.ok(!c1Csv.includes('dee'), 'the row added after c1 is not in its export')

    ds.ok('checkout', 'main')
    const exported = ds.json('export', '--to', 'out', '--format', 'imagefolder')
    assert.equal(exported.commit, c2.commit)
    const tree = readTree(ds.path('out'))
    assert.deepEqual(Object.keys(tree).sort(), Object.keys(images).map((k) => k.slice('imgs/'.length)).sort())
    for (const [rel, bytes] of Object.entries(images)) assert.ok(tree[rel.slice('imgs/'.length)].equals(bytes), `${rel} exported byte-identically`)
    const raw = ds.ok('show', 'HEAD:images[2]', '--out', ds.path('one.png'))
    assert.match(raw.stdout, /wrote/)
    assert.ok(fs.readFileSync(ds.path('one.png')).equals(images['imgs/dog/0.png']))

    // A second dataset at the same location is refused, and nothing is left behind.
    const other = new Lake(box().path('other'), s3Env(s3))
    const second = other.run(['init', '--storage', url])
    assertRefused(second, 1, [url, 'already holds a lake dataset'], {hint: `lake clone ${url}`})
    assert.ok(!fs.existsSync(other.path('.lake')), 'no .lake made by the refused init')
    assert.deepEqual(fs.readdirSync(other.cwd).filter((f) => f.startsWith('.lake')), [])

    await assertFsckClean(ds)
  })
})
