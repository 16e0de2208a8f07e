// Two local datasets sharing history through S3: A (local storage) pushes to s3://, B clones it
// (lazy), reads and exports; B pushes, A pulls (fast-forward); both diverge on different samples and
// pull merges by sample identity; a conflicting divergence makes pull exit 1 and change nothing.
import assert from 'node:assert/strict'
import {assertErrorJson, describeRun, readTree, useSandbox} from '../helpers/cli.js'
import {csv} from '../helpers/fixtures.js'
import {assertFsckClean, freshUrl, Lake, s3Env, s3Server, visibleState} from './helpers.js'

describe('remote: push, clone, pull through S3', function () {
  this.timeout(180_000)
  const box = useSandbox('lake-remote-pushpull-')

  it('push --tags, lazy clone, fast-forward pull, merge by sample identity, conflict refused', async () => {
    const s3 = await s3Server()
    const {url} = freshUrl(s3, 'pushpull')
    const env = s3Env(s3)
    const a = new Lake(box().path('a'), env)
    const b = new Lake(box().path('b'), env)
    const labels = (d: Lake) => d.jsonAsync('show', 'HEAD:label[0:]').then((r) => r.values as string[])

    // A: a local dataset with two commits and a tag, pushed with its tags.
    a.ok('init')
    a.write('d.csv', csv(['id', 'label'], [[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd']]))
    a.write('e.csv', csv(['id', 'label'], [[5, 'e']]))
    a.ok('add', 'd.csv')
    const v1 = a.json('commit', '-m', 'v1').commit
    a.ok('tag', 'v1')
    a.ok('add', 'e.csv')
    const v2 = a.json('commit', '-m', 'v2').commit
    assert.deepEqual(a.json('remote', 'add', 'origin', url), {name: 'origin', url})
    const pushed = a.json('push', '--tags')
    assert.deepEqual({...pushed, objects: 0, bytes: 0}, {remote: 'origin', branch: 'main', commit: v2, old: null, forced: false, upToDate: false, objects: 0, bytes: 0, tags: ['v1']})
    assert.ok(pushed.objects > 2)

    // B: a lazy clone (meanwhile A's second push finds nothing to upload) ...
    const [again, cloned] = await Promise.all([a.async(['push']), new Lake(box().dir, env).jsonAsync('clone', url, 'b')])
    assert.match(again.stdout, /Everything up to date/)
    assert.deepEqual({...cloned, commits: 0, objects: 0, bytes: 0}, {path: b.cwd, remote: 'origin', url, branch: 'main', head: v2, lazy: true, commits: 0, objects: 0, bytes: 0})
    assert.equal(cloned.commits, 2)
    assert.equal(cloned.objects, 2, 'a lazy clone copies the commit objects only')
    // ... reads a sample, and exports v1 byte-identically to A's export of it.
    const [sample, tags, exportA, exportB] = await Promise.all([
      b.jsonAsync('show', 'HEAD:label[1]'),
      b.jsonAsync('tag'),
      a.jsonAsync('export', 'v1', '--to', 'out-v1', '--format', 'csv'),
      b.jsonAsync('export', 'v1', '--to', 'out-v1', '--format', 'csv'),
    ])
    assert.deepEqual(sample, {tensor: 'label', index: 1, value: 'b'})
    assert.deepEqual(tags.tags, [{name: 'v1', commit: v1}])
    assert.equal(exportB.commit, v1)
    assert.deepEqual(exportB, exportA)
    assert.deepEqual(readTree(b.path('out-v1')), readTree(a.path('out-v1')))

    // B commits and pushes; A pulls: a fast-forward.
    b.ok('update', '--tensor', 'label', '--index', '0', '--value', '"A"')
    const b1 = b.json('commit', '-m', 'b1').commit
    assert.deepEqual(b.json('push').old, v2)
    const ff = a.json('pull')
    assert.equal(ff.fastForward, true)
    assert.equal(ff.commit, b1)
    assert.equal(ff.fetched.commits, 1)
    assert.deepEqual(await labels(a), ['A', 'b', 'c', 'd', 'e'])

    // Both diverge on different samples: A's push wins, B's is refused, B's pull merges.
    await Promise.all([a.jsonAsync('update', '--tensor', 'label', '--index', '3', '--value', '"D"'), b.jsonAsync('update', '--tensor', 'label', '--index', '1', '--value', '"B"')])
    const [a2, b2] = await Promise.all([a.jsonAsync('commit', '-m', 'a2'), b.jsonAsync('commit', '-m', 'b2')])
    a.ok('push')
    const refused = b.run(['push', '--json'])
    assert.equal(refused.code, 1, describeRun(refused))
    assert.match(assertErrorJson(refused, 'REMOTE_MOVED').hint ?? '', /pull/)
    const merged = b.json('pull')
    assert.equal(merged.fastForward, false)
    assert.deepEqual(merged.conflicts, [])
    const [mergedLabels, mergeLog] = await Promise.all([labels(b), b.jsonAsync('log', '-n', '1')])
    assert.deepEqual(mergedLabels, ['A', 'B', 'c', 'D', 'e'])
    assert.deepEqual(mergeLog.commits[0].parents, [b2.commit, a2.commit])
    b.ok('push')
    assert.equal(a.json('pull').commit, merged.commit)
    assert.deepEqual(await labels(a), ['A', 'B', 'c', 'D', 'e'])

    // A conflicting divergence (the same sample on both sides): pull exits 1 and changes nothing.
    await Promise.all([a.jsonAsync('update', '--tensor', 'label', '--index', '2', '--value', '"X"'), b.jsonAsync('update', '--tensor', 'label', '--index', '2', '--value', '"Y"')])
    await Promise.all([a.jsonAsync('commit', '-m', 'ax'), b.jsonAsync('commit', '-m', 'by')])
    a.ok('push')
    const before = await visibleState(b.cwd)
    const conflict = b.run(['pull', '--json'])
    assert.equal(conflict.code, 1, describeRun(conflict))
    const error = assertErrorJson({...conflict, json: () => ({error: conflict.json().error})} as typeof conflict, 'MERGE_CONFLICT')
    assert.match(error.message, /nothing was changed/)
    assert.deepEqual(conflict.json().conflicts, [{tensor: 'label', index: 2, kind: 'both-changed', ours: 'Y', theirs: 'X'}])
    assert.deepEqual(await visibleState(b.cwd), before, 'status, log, refs and config unchanged')
    const [afterConflict] = await Promise.all([labels(b), assertFsckClean(a, b)])
    assert.deepEqual(afterConflict, ['A', 'B', 'Y', 'D', 'e'])
  })
})
