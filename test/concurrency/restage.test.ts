// Staging races at the level of the short-lock protocol (src/core/ops/stage.ts): a change built on
// one staged state and appended after another process staged, committed or reset. Made
// deterministic by holding the build phase of one change on a gate while the other runs.
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'
import {Dataset, type LakeError} from '../../src/index.js'
import {Repo} from '../../src/core/repo/repo.js'
import {stageChange} from '../../src/core/ops/stage.js'
import {encodeSample} from '../../src/core/format/sample.js'
import {withClassNames} from '../../src/core/format/tensor-meta.js'
import {newSampleId} from '../../src/core/dataset/ids.js'
import type {ChangeBuilder} from '../../src/core/dataset/changeset.js'
import {FAST_TMP} from '../model/runner.js'

/** Starts a staging op whose build waits at the gate: `inside` resolves once it has read the state. */
function gated(repo: Repo, action: string, build: (b: ChangeBuilder) => Promise<void>) {
  let open!: () => void
  let entered!: () => void
  const gate = new Promise<void>((r) => (open = r))
  const inside = new Promise<void>((r) => (entered = r))
  const done = stageChange(repo, action, async (b) => {
    entered()
    await gate
    await build(b)
  })
  done.catch(() => undefined)
  return {inside, open, done}
}

async function rejectsCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: LakeError) => {
    assert.equal(e.code, code, `${e.code}: ${e.message}`)
    return true
  })
}

describe('concurrency: re-applying a staged change onto a newer state', function () {
  this.timeout(60_000)
  let root: string
  let png: Buffer

  before(async () => {
    png = await sharp({create: {width: 4, height: 4, channels: 3, background: '#0f0'}}).png().toBuffer()
  })
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(FAST_TMP, 'lake-restage-'))
  })
  afterEach(() => fs.rm(root, {recursive: true, force: true}))

  async function imageFolder(name: string, classes: string[], n: number): Promise<string> {
    const dir = path.join(root, name)
    for (const c of classes) {
      await fs.mkdir(path.join(dir, c), {recursive: true})
      for (let i = 0; i < n; i++) await fs.writeFile(path.join(dir, c, `${name}-${i}.png`), png)
    }
    return dir
  }

  /** Every sample's label names the class folder its path is in. */
  async function mislabeled(ds: Dataset): Promise<number> {
    const v = await ds.version('HEAD')
    const names = v.meta('labels').classNames!
    const labels = (await v.readRange('labels', 0, v.length('labels'))) as number[]
    const paths = (await v.readRange('path', 0, v.length('path'))) as string[]
    return paths.filter((p, i) => p.split('/')[0] !== names[labels[i]]).length
  }

  it('an append racing another append and a commit is re-applied, not lost', async () => {
    const ds = await Dataset.init(path.join(root, 'ds'))
    await ds.createTensor('t', {htype: 'generic', dtype: 'i32'})
    await ds.commit('t')
    const repo = await Repo.open(path.join(root, 'ds'))
    const b = gated(repo, 'samples.append', async (cb) => cb.append('t', encodeSample(cb.meta('t'), 2, {index: 0}), newSampleId()))
    await b.inside
    await ds.append('t', [1])
    await ds.commit('one') // even across a commit made meanwhile
    b.open()
    await b.done
    await ds.commit('two')
    const v = await ds.version('HEAD')
    assert.deepEqual(await v.readRange('t', 0, v.length('t')), [1, 2])
    await repo.close()
    await ds.close()
  })

  it('two imports learning different class names: no sample is mislabeled (bug: the second overwrote the first\'s class names)', async () => {
    const dir = path.join(root, 'ds')
    const ds = await Dataset.init(dir)
    await ds.add([await imageFolder('base', ['cat'], 2)], {format: 'imagefolder'})
    await ds.commit('base')
    // B learns 'bird' (label 1) on the committed state; meanwhile A's import learns 'dog' (label 1).
    const repo = await Repo.open(dir)
    const b = gated(repo, 'add', async (cb) => {
      const meta = withClassNames(cb.meta('labels'), ['bird'])
      cb.setMeta(meta)
      const id = newSampleId()
      await cb.append('images', encodeSample(cb.meta('images'), png, {index: 0}), id)
      await cb.append('labels', encodeSample(meta, 'bird', {index: 0}), id)
      await cb.append('path', encodeSample(cb.meta('path'), 'bird/b.png', {index: 0}), id)
    })
    await b.inside
    await ds.add([await imageFolder('a', ['dog'], 3)], {format: 'imagefolder'})
    b.open()
    await rejectsCode(b.done, 'CONCURRENT_CHANGE')
    await ds.commit('dogs')
    assert.equal(await mislabeled(ds), 0)
    await repo.close()
    await ds.close()
  })

  it('two real imports of image folders at once: every label still names its folder', async () => {
    const dir = path.join(root, 'ds')
    const ds = await Dataset.init(dir)
    await ds.add([await imageFolder('base', ['cat'], 2)], {format: 'imagefolder'})
    await ds.commit('base')
    const [a, b] = [await Dataset.open(dir), await Dataset.open(dir)]
    const results = await Promise.allSettled([
      a.add([await imageFolder('a', ['cat', 'dog'], 20)], {format: 'imagefolder'}),
      b.add([await imageFolder('b', ['cat', 'bird'], 20)], {format: 'imagefolder'}),
    ])
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as LakeError).code, 'CONCURRENT_CHANGE')
    await ds.commit('both')
    assert.equal(await mislabeled(ds), 0)
    await Promise.all([a.close(), b.close(), ds.close()])
  })

  it('an append to a tensor whose create was discarded meanwhile fails cleanly (bug: TypeError)', async () => {
    const dir = path.join(root, 'ds')
    const ds = await Dataset.init(dir)
    await ds.createTensor('x', {htype: 'text'})
    const repo = await Repo.open(dir)
    const b = gated(repo, 'samples.append', async (cb) => cb.append('x', encodeSample(cb.meta('x'), 'hello', {index: 0}), newSampleId()))
    await b.inside
    await ds.reset() // discards the staged create of x
    b.open()
    await rejectsCode(b.done, 'CONCURRENT_CHANGE')
    assert.deepEqual(await ds.tensors(), [])
    await repo.close()
    await ds.close()
  })
})
