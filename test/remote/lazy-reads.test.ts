// A lazy clone reads on demand, counted at the S3 proxy: the clone GETs the commit objects and no
// sample data; reading one sample GETs a handful of objects (far fewer than the dataset has) and
// keeps them, so reading it again costs nothing; `clone --full` GETs every object.
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import fs from 'node:fs'
import {useSandbox} from '../helpers/cli.js'
import {csv} from '../helpers/fixtures.js'
import {freshUrl, Lake, listKeys, objectGets, s3Env, s3Server} from './helpers.js'

const COMMITS = 3

describe('remote: a lazy clone reads on demand', function () {
  this.timeout(180_000)
  const box = useSandbox('lake-remote-lazy-')

  it('clone GETs commit objects only; one sample costs a handful of GETs; --full GETs everything', async () => {
    const s3 = await s3Server()
    const {url, prefix} = freshUrl(s3, 'lazy')
    const root = new Lake(box().dir, s3Env(s3))
    const seed = root.at('seed')

    seed.ok('init')
    for (let c = 0; c < COMMITS; c++) {
      seed.write(`d${c}.csv`, csv(['id', 'label', 'score', 'note'], [0, 1, 2].map((i) => [10 * c + i, `label-${c}-${i}`, c + i / 10, `note ${c} ${i}`])))
      seed.ok('add', `d${c}.csv`)
      seed.ok('commit', '-m', `c${c}`)
    }
    seed.ok('remote', 'add', 'origin', url)
    const pushed = seed.json('push')
    const commits = seed.json('log').commits.map((c: {commit: string}) => c.commit) as string[]
    assert.equal(commits.length, COMMITS)
    const objectKeys = (await listKeys(s3, `${prefix}objects/`)).sort()
    assert.equal(objectKeys.length, pushed.objects)
    assert.ok(objectKeys.length >= 8 * COMMITS, `a dataset of ${objectKeys.length} objects`)
    const keyOf = (hash: string) => `${prefix}objects/${hash.slice(0, 2)}/${hash.slice(2)}`

    // The lazy clone: exactly the commit objects, each once.
    await s3.clearRequests()
    const cloned = root.json('clone', url, 'lazy')
    assert.equal(cloned.lazy, true)
    const cloneGets = await objectGets(s3, prefix)
    assert.deepEqual(cloneGets.map((r) => r.key).sort(), commits.map(keyOf).sort(), 'the clone read commit objects, no chunks or index pages')

    // One sample of the newest commit: a handful of objects, far fewer than the dataset holds.
    const lazy = root.at('lazy')
    await s3.clearRequests()
    const index = 3 * (COMMITS - 1) + 1
    const value = `label-${COMMITS - 1}-1`
    assert.deepEqual(lazy.json('show', `HEAD:label[${index}]`), {tensor: 'label', index, value})
    const oneSample = await objectGets(s3, prefix)
    assert.ok(oneSample.length >= 1 && oneSample.length <= 6, `one sample read ${oneSample.length} objects:\n${oneSample.map((r) => r.key).join('\n')}`)
    assert.ok(oneSample.length * 5 < objectKeys.length)
    assert.ok(oneSample.every((r) => r.status === 200 || r.status === 206))

    // ... kept locally: the same sample again reads nothing from S3.
    await s3.clearRequests()
    assert.deepEqual(lazy.json('show', `HEAD:label[${index}]`).value, value)
    assert.deepEqual((await objectGets(s3, prefix)).map((r) => r.key), [])

    // A full clone reads every object (each at least once, nothing else under objects/).
    await s3.clearRequests()
    const full = root.json('clone', url, 'full', '--full')
    assert.equal(full.lazy, false)
    assert.equal(full.objects, objectKeys.length)
    const fullGets = await objectGets(s3, prefix)
    assert.deepEqual([...new Set(fullGets.map((r) => r.key))].sort(), objectKeys)
    // ... and then needs the remote no more: reading works with the endpoint gone.
    const offline = root.at('full').run(['show', `HEAD~${COMMITS - 1}:note[1]`, '--json'], {LAKE_S3_ENDPOINT: 'http://127.0.0.1:9'})
    assert.equal(offline.code, 0, offline.stderr)
    assert.equal(offline.json().value, 'note 0 1')
  })
  it('a ranged read (one image of a raw chunk) keeps the whole chunk: the same or another sample of it again makes 0 GETs', async () => {
    const s3 = await s3Server()
    const {url, prefix} = freshUrl(s3, 'lazy-range')
    const root = new Lake(box().dir, s3Env(s3))
    const seed = root.at('seed-range')
    const files = Array.from({length: 24}, (_, i) => randomBytes(20_000 + i))
    files.forEach((bytes, i) => seed.write(`tree/f${String(i).padStart(2, '0')}.bin`, bytes))
    seed.ok('init')
    seed.ok('add', 'tree', '--format', 'files')
    seed.ok('commit', '-m', 'files')
    seed.ok('remote', 'add', 'origin', url)
    seed.ok('push')
    root.ok('clone', url, 'lazy-range')
    const lazy = root.at('lazy-range')
    const read = (i: number) => {
      lazy.ok('show', `HEAD:content[${i}]`, '--out', `out${i}.bin`)
      assert.ok(fs.readFileSync(lazy.path(`out${i}.bin`)).equals(files[i]), `sample ${i} read back exactly`)
    }

    await s3.clearRequests()
    read(7)
    const first = await objectGets(s3, prefix)
    assert.ok(first.length >= 1, 'the first read fetched from S3')
    // the chunk came whole (no Range), once
    const chunkGets = first.filter((r) => r.range === undefined)
    assert.equal(new Set(chunkGets.map((r) => r.key)).size, chunkGets.length, 'each object fetched once')

    await s3.clearRequests()
    read(7)
    read(8)
    assert.deepEqual((await objectGets(s3, prefix)).map((r) => `${r.key} ${r.range ?? ''}`), [], 'a second read of the chunk fetched nothing')
  })
})
