// Diff cases outside the random histories of diff-model.test.ts: a dataset with no commit yet
// (HEAD unborn: the diff starts from the empty dataset), and a meta change (class names learned
// by an import) flagged as metaChanged.
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {png} from '../helpers/fixtures.js'
import {withDataset} from '../merge/helpers.js'

describe('diff: unborn HEAD, meta changes', function () {
  this.timeout(60_000)

  it('before the first commit: from null (the empty dataset) to the staged state', () =>
    withDataset('lake-diff-unborn-', async (ds) => {
      assert.deepEqual(await ds.diff(), {from: null, to: 'STAGED', tensors: []})
      await ds.createTensor('t', {htype: 'text'})
      await ds.append('t', ['a', 'b'])
      const d = await ds.diff(undefined, undefined, {tensor: 't', values: true})
      assert.deepEqual(d, {
        from: null,
        to: 'STAGED',
        tensors: [{name: 't', status: 'added', added: [[0, 2]], updated: [], deleted: [], metaChanged: false, values: {added: [{index: 0, value: 'a'}, {index: 1, value: 'b'}], updated: [], deleted: [], truncated: false}}],
      })
    }))

  it('class names learned by an import: metaChanged, with the new samples', async () => {
    const images = await fs.mkdtemp(path.join(os.tmpdir(), 'lake-diff-img-'))
    try {
      const folder = async (rel: string, cls: string, shade: number) => {
        await fs.mkdir(path.join(images, rel, cls), {recursive: true})
        await fs.writeFile(path.join(images, rel, cls, `${rel}.png`), await png(2, 2, {r: shade, g: 0, b: 0}))
        return path.join(images, rel)
      }
      await withDataset('lake-diff-meta-', async (ds) => {
        await ds.add([await folder('one', 'cat', 10)], {format: 'imagefolder'})
        await ds.commit('cat')
        await ds.add([await folder('two', 'dog', 20)], {format: 'imagefolder'})
        await ds.commit('dog')
        const d = await ds.diff('HEAD~1', 'HEAD')
        const labels = d.tensors.find((t) => t.name === 'labels')!
        assert.deepEqual([labels.status, labels.metaChanged, labels.added], ['modified', true, [[1, 2]]])
        for (const t of d.tensors.filter((u) => u.name !== 'labels')) assert.equal(t.metaChanged, false, t.name)
        const v = await ds.diff('HEAD~1', 'HEAD', {tensor: 'labels', values: true})
        assert.deepEqual(v.tensors[0].values?.added, [{index: 1, value: 1}])
      })
    } finally {
      await fs.rm(images, {recursive: true, force: true})
    }
  })
})
