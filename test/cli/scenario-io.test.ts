// Data in and out through the real CLI: `lake add` in every format (files with re-add sync,
// imagefolder, csv, jsonl, npy, --key upserts) and `lake export` back out (byte-identical file
// trees and images, csv/jsonl text, .npy headers), plus show --out. One dataset per format.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import {assertErrorJson, assertRefused, okJson, readTree, useSandbox, type Sandbox} from '../helpers/cli.js'
import {csv, jsonl, npy, png, readNpyHeader} from '../helpers/fixtures.js'

describe('cli scenario: add and export', function () {
  this.timeout(300_000)
  const box = useSandbox('lake-cli-io-')

  describe('files: a directory tree, mirrored by path', () => {
    let ds: Sandbox
    const binary = Buffer.from(Array.from({length: 256}, (_, i) => i))

    before(async () => {
      ds = box().sub('files')
      ds.write('tree/top.txt', 'top\n')
      ds.write('tree/z.txt', 'last\n')
      ds.write('tree/a/b/deep.bin', binary)
      ds.write('tree/a/empty', '')
      ds.write('tree/a/c.png', await png(3, 2, '#336699'))
      ds.ok('init')
    })

    it('add --format files, commit, export: a byte-identical tree (nested dirs, binary, empty file)', () => {
      assert.deepEqual(ds.json('add', 'tree', '--format', 'files'), {added: 5, updated: 0, deleted: 0, tensors: ['content', 'path']})
      ds.ok('commit', '-m', 'tree v1')
      const exported = ds.json('export', '--to', 'out1')
      const tree = readTree(ds.path('tree'))
      assert.equal(exported.written, 5)
      assert.equal(exported.bytes, Object.values(tree).reduce((n, b) => n + b.length, 0))
      assert.deepEqual(readTree(ds.path('out1')), tree)
    })

    it('re-add: changed file updated, new added, removed deleted, unchanged untouched; again: nothing', async () => {
      ds.write('tree/top.txt', 'top, changed\n')
      ds.write('tree/a/new.txt', 'new\n')
      ds.rm('tree/z.txt')
      assert.deepEqual(ds.json('add', 'tree'), {added: 1, updated: 1, deleted: 1, tensors: ['content', 'path']})
      const staged = ds.json('status').changes
      assert.deepEqual(ds.json('add', 'tree'), {added: 0, updated: 0, deleted: 0, tensors: ['content', 'path']})
      assert.deepEqual(ds.json('status').changes, staged, 'a second add of the same tree stages nothing more')
      ds.ok('commit', '-m', 'tree v2')
      const [v2, v1, deep] = await ds.all([
        ['export', '--to', 'out2', '--json'],
        ['export', 'HEAD~1', '--to', 'out-v1', '--json'],
        ['show', 'HEAD:content[0]', '--out', 'deep.out', '--json'],
      ])
      assert.equal(okJson(v2).written, 5)
      assert.deepEqual(readTree(ds.path('out2')), readTree(ds.path('tree')))
      assert.deepEqual(readTree(ds.path('out-v1')), readTree(ds.path('out1')), 'the old version still exports as it was')
      assert.equal(deep.code, 0, deep.stderr)
      assert.deepEqual(ds.read('deep.out'), binary, 'show --out writes the raw bytes of a/b/deep.bin (the first path)')
      assert.equal(okJson(deep).value, binary.toString('base64'))
    })

    it('export refuses a non-empty directory unless --force', () => {
      const refused = ds.run(['export', '--to', 'out2', '--json'])
      assertRefused(refused, 1, ['out2'], {hint: '--force'})
      assertErrorJson(refused, 'TARGET_NOT_EMPTY')
      ds.write('out2/extra.txt', 'stays')
      assert.equal(ds.json('export', '--to', 'out2', '--force').written, 5)
      assert.equal(ds.read('out2/extra.txt').toString(), 'stays')
    })
  })

  describe('imagefolder: DIR/<class>/<image>', () => {
    let ds: Sandbox

    before(async () => {
      ds = box().sub('images')
      ds.write('imgs/cat/a.png', await png(4, 4, 'red'))
      ds.write('imgs/cat/b.png', await png(5, 4, 'orange'))
      ds.write('imgs/dog/c.png', await png(4, 6, 'blue'))
      ds.ok('init')
    })

    it('add (auto-detected), class names kept, export gives the same folder back', async () => {
      assert.deepEqual(ds.json('add', 'imgs'), {added: 3, updated: 0, deleted: 0, tensors: ['images', 'labels', 'path']})
      ds.ok('commit', '-m', 'images')
      const [list, label, exported] = await ds.all([['tensor', 'list', '--json'], ['show', 'HEAD:labels[0:3]'], ['export', '--to', 'out', '--json']])
      const tensors = okJson(list).tensors
      assert.deepEqual(tensors.map((t: {name: string; htype: string; length: number}) => [t.name, t.htype, t.length]), [['images', 'image', 3], ['labels', 'class_label', 3], ['path', 'text', 3]])
      assert.deepEqual(tensors[1].classNames, ['cat', 'dog'])
      assert.deepEqual(label.stdout.trimEnd().split('\n'), ['[0] 0 (cat)', '[1] 0 (cat)', '[2] 1 (dog)'])
      assert.deepEqual(okJson(exported), {written: 3, bytes: okJson(exported).bytes, format: 'imagefolder', commit: okJson(exported).commit})
      assert.deepEqual(readTree(ds.path('out')), readTree(ds.path('imgs')))
    })
  })

  describe('csv and jsonl: a tensor per column, --key upserts', () => {
    let ds: Sandbox

    before(() => {
      ds = box().sub('table')
      ds.write('a.csv', csv(['id', 'name', 'score'], [[1, 'ann', 0.5], [2, 'bob', 1.5], [3, '"c, d"', 2]]))
      // 2 unchanged, 3 renamed, 4 new
      ds.write('b.csv', csv(['id', 'name', 'score'], [[2, 'bob', 1.5], [3, 'carl', 2], [4, 'dan', 3]]))
      // 4 unchanged, 1 rescored, 5 new
      ds.write('c.jsonl', jsonl([{id: 4, name: 'dan', score: 3}, {id: 1, name: 'ann', score: 0.25}, {id: 5, name: 'eve, jr', score: 4.5}]))
      ds.write('d.jsonl', jsonl([{id: 6, name: 'fay', score: 5}]))
      ds.ok('init')
    })

    it('add csv: one tensor per column, typed', () => {
      assert.deepEqual(ds.json('add', 'a.csv'), {added: 3, updated: 0, deleted: 0, tensors: ['id', 'name', 'score']})
      assert.deepEqual(ds.json('tensor', 'list').tensors.map((t: {name: string; htype: string; dtype: string}) => [t.name, t.htype, t.dtype]), [
        ['id', 'generic', 'i32'],
        ['name', 'text', 'str'],
        ['score', 'generic', 'f64'],
      ])
      ds.ok('commit', '-m', 'a')
    })

    it('add --key: existing key updated, new key appended, unchanged rows not counted (csv and jsonl)', async () => {
      assert.deepEqual(ds.json('add', 'b.csv', '--key', 'id'), {added: 1, updated: 1, deleted: 0, tensors: ['id', 'name', 'score']})
      assert.deepEqual(ds.json('add', 'c.jsonl', '--key', 'id'), {added: 1, updated: 1, deleted: 0, tensors: ['id', 'name', 'score']})
      assert.deepEqual(ds.json('add', 'd.jsonl'), {added: 1, updated: 0, deleted: 0, tensors: ['id', 'name', 'score']})
      ds.ok('commit', '-m', 'upserts')
      const [asCsv, asJsonl] = await ds.all([['export', '--to', 'out-csv', '--format', 'csv', '--json'], ['export', '--to', 'out-jsonl', '--format', 'jsonl', '--json']])
      assert.equal(okJson(asCsv).written, 6)
      assert.equal(ds.read('out-csv/data.csv').toString(), 'id,name,score\n1,ann,0.25\n2,bob,1.5\n3,carl,2\n4,dan,3\n5,"eve, jr",4.5\n6,fay,5\n')
      assert.equal(okJson(asJsonl).written, 6)
      assert.equal(ds.read('out-jsonl/data.jsonl').toString(), jsonl([
        {id: 1, name: 'ann', score: 0.25},
        {id: 2, name: 'bob', score: 1.5},
        {id: 3, name: 'carl', score: 2},
        {id: 4, name: 'dan', score: 3},
        {id: 5, name: 'eve, jr', score: 4.5},
        {id: 6, name: 'fay', score: 5},
      ]))
    })
  })

  describe('one add: a keyed csv update, a files directory and a keyed csv append in one change', () => {
    let ds: Sandbox

    before(() => {
      ds = box().sub('one-add')
      ds.write('v1/images/0.bin', 'zero')
      ds.write('v1/images/1.bin', 'one')
      ds.write('v1/meta.csv', csv(['id', 'label'], [[0, 10], [1, 11]]))
      ds.write('v2/images/2.bin', 'two')
      ds.write('upd.csv', csv(['id', 'label'], [[1, 21], [0, 10]]))
      ds.write('app.csv', csv(['id', 'label'], [[2, 12]]))
      ds.ok('init')
      ds.ok('add', 'v1/images', '--format', 'files', '--prefix', 'v1')
      ds.ok('add', 'v1/meta.csv')
      ds.ok('commit', '-m', 'v1')
    })

    it('--key keys the tables, the directory is matched by path, one stage event for all', () => {
      // 1 updated (id 1), id 0 unchanged, 1 file and 1 row appended
      assert.deepEqual(ds.json('add', 'upd.csv', 'v2/images', 'app.csv', '--key', 'id', '--prefix', 'v2'), {added: 2, updated: 1, deleted: 0, tensors: ['content', 'id', 'label', 'path']})
      ds.ok('commit', '-m', 'v2')
      assert.deepEqual(ds.json('show', 'HEAD:label[0:3]').values, [10, 21, 12])
      assert.deepEqual(ds.json('show', 'HEAD:path[0:3]').values, ['v1/0.bin', 'v1/1.bin', 'v2/2.bin'])
      assert.deepEqual(ds.json('show', 'HEAD~1:label[0:2]').values, [10, 11])
    })

    it('re-adding a directory under its --prefix syncs only that prefix: a same-named file elsewhere is not matched', () => {
      // v2/images now holds 0.bin, whose stored path would be v2/0.bin (v1/0.bin is another file),
      // and 2.bin changed; under v1 nothing is touched
      ds.write('v2/images/0.bin', 'zero again')
      ds.write('v2/images/2.bin', 'TWO')
      assert.deepEqual(ds.json('add', 'v2/images', '--format', 'files', '--prefix', 'v2'), {added: 1, updated: 1, deleted: 0, tensors: ['content', 'path']})
      ds.rm('v2/images/2.bin')
      assert.deepEqual(ds.json('add', 'v2/images', '--format', 'files', '--prefix', 'v2'), {added: 0, updated: 0, deleted: 1, tensors: ['content', 'path']})
      ds.ok('commit', '-m', 'v3')
      assert.deepEqual(ds.json('show', 'HEAD:path[0:3]').values, ['v1/0.bin', 'v1/1.bin', 'v2/0.bin'])
    })
  })

  describe('npy: first axis = samples (objects stored elsewhere with --storage)', () => {
    let ds: Sandbox
    const embValues = [0, 0.5, 1, 1.5, 2, 2.5]

    before(() => {
      ds = box().sub('arrays')
      ds.write('emb.npy', npy('<f4', [3, 2], embValues))
      ds.write('ints.npy', npy('<i4', [4], [7, -1, 0, 2 ** 31 - 1]))
      // objects in another directory (init --storage file:///abs)
      assert.equal(ds.json('init', '--storage', `file://${box().path('npy-objects')}`).storage, `file://${box().path('npy-objects')}`)
    })

    it('add, show, export --format npy (header and data read back)', async () => {
      assert.deepEqual(ds.json('add', 'emb.npy', 'ints.npy'), {added: 7, updated: 0, deleted: 0, tensors: ['emb', 'ints']})
      ds.ok('commit', '-m', 'arrays')
      assert.ok(fs.readdirSync(box().path('npy-objects'), {recursive: true}).length > 0, 'objects are written under --storage')
      const [row, exported] = await ds.all([['show', 'HEAD:emb[1]', '--json'], ['export', '--to', 'out', '--format', 'npy', '--json']])
      assert.deepEqual(okJson(row), {tensor: 'emb', index: 1, value: [1, 1.5]})
      assert.equal(okJson(exported).written, 2)
      assert.deepEqual(fs.readdirSync(ds.path('out')).sort(), ['emb.npy', 'ints.npy'])
      const emb = ds.read('out/emb.npy')
      const header = readNpyHeader(emb)
      assert.deepEqual(header, {descr: '<f4', fortranOrder: false, shape: [3, 2], dataOffset: header.dataOffset})
      assert.equal(header.dataOffset % 64, 0, 'data aligned to 64 bytes, as numpy writes it')
      assert.deepEqual(Array.from(new Float32Array(emb.buffer.slice(emb.byteOffset + header.dataOffset, emb.byteOffset + emb.length))), embValues)
      const ints = ds.read('out/ints.npy')
      const intsHeader = readNpyHeader(ints)
      assert.deepEqual([intsHeader.descr, intsHeader.shape], ['<i4', [4]])
      assert.deepEqual(Array.from(new Int32Array(ints.buffer.slice(ints.byteOffset + intsHeader.dataOffset, ints.byteOffset + ints.length))), [7, -1, 0, 2 ** 31 - 1])
    })
  })
})
