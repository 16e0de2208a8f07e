// `add` reads small input files into a few buffers it reuses in turn (ops/add.ts ReadRing), ahead
// of the import: what must hold is that every file's bytes are stored exactly, with many more
// files than buffers, files of every size (empty, small, over the synchronous-read limit), for
// new files, changed ones (compared with the stored bytes, then updated) and image folders. And
// the path column a files import matches against stays cached for the process's next add.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {randomBytes} from 'node:crypto'
import {Dataset} from '../../src/index.js'
import {useTempDir} from '../io/helpers.js'
import {Repo} from '../../src/core/repo/repo.js'
import {openVersion} from '../../src/core/ops/show.js'
import {png} from '../helpers/fixtures.js'

describe('add: reading its inputs ahead, and the paths it matches', function () {
  this.timeout(120_000)
  const tmp = useTempDir()

  /** path → bytes of every sample of a files-dataset version. */
  async function stored(ds: Dataset, rev = 'HEAD'): Promise<Map<string, Buffer>> {
    const v = await ds.version(rev)
    const out = new Map<string, Buffer>()
    for (let i = 0; i < v.length('path'); i++) out.set(String(await v.read('path', i)), Buffer.from(await v.readBytes('content', i)))
    return out
  }

  it('a directory of many files of every size is stored byte for byte, first added and then changed', async () => {
    const input = path.join(tmp(), 'input')
    fs.mkdirSync(input)
    const sizes = [0, 1, 7, 4096, 24_576, 100_000, 262_144, 262_145, 300_000]
    const want = new Map<string, Buffer>()
    for (let i = 0; i < 120; i++) {
      const name = `f${String(i).padStart(3, '0')}.bin`
      const bytes = randomBytes(sizes[i % sizes.length] + (i % 3))
      fs.writeFileSync(path.join(input, name), bytes)
      want.set(name, bytes)
    }
    const ds = await Dataset.init(path.join(tmp(), 'ds'))
    await ds.add([input], {format: 'files'})
    await ds.commit('first')
    assert.deepEqual(await stored(ds), want)
    // every third file is rewritten: same size with other bytes, or another size
    let changed = 0
    for (let i = 0; i < 120; i += 3) {
      const name = `f${String(i).padStart(3, '0')}.bin`
      const bytes = i % 2 ? randomBytes(want.get(name)!.length) : randomBytes(sizes[(i + 4) % sizes.length])
      if (!bytes.equals(want.get(name)!)) changed++
      fs.writeFileSync(path.join(input, name), bytes)
      want.set(name, bytes)
    }
    assert.ok(changed > 30)
    const result = await ds.add([input], {format: 'files'})
    await ds.commit('second')
    assert.deepEqual(await stored(ds), want)
    assert.equal(result.updated, changed)
    assert.equal(result.added, 0)
    await ds.close()
  })

  it('an image folder of many images is stored byte for byte', async () => {
    const root = path.join(tmp(), 'pets')
    const want = new Map<string, Buffer>()
    for (let i = 0; i < 45; i++) {
      const cls = i % 2 ? 'cat' : 'dog'
      fs.mkdirSync(path.join(root, cls), {recursive: true})
      const bytes = await png(3 + (i % 5), 2 + (i % 7), {r: i * 5, g: 255 - i * 5, b: i})
      const rel = `${cls}/img${String(i).padStart(2, '0')}.png`
      fs.writeFileSync(path.join(root, rel), bytes)
      want.set(rel, bytes)
    }
    const ds = await Dataset.init(path.join(tmp(), 'ds'))
    await ds.add([root], {format: 'imagefolder'})
    await ds.commit('pets')
    const v = await ds.version('HEAD')
    assert.equal(v.length('images'), 45)
    for (let i = 0; i < 45; i++) {
      const rel = String(await v.read('path', i))
      assert.deepEqual(Buffer.from(await v.readBytes('images', i)), want.get(rel), rel)
    }
    await ds.close()
  })

  it('the path column an add matches against stays cached when asked: a second visit reads no chunk again', async () => {
    const ds = await Dataset.init(path.join(tmp(), 'ds'))
    await ds.createTensor('path', {htype: 'text'})
    // three commits: three chunks of paths
    for (let c = 0; c < 3; c++) {
      await ds.append('path', Array.from({length: 500}, (_, i) => `v${c}/file-${String(i).padStart(5, '0')}.bin`))
      await ds.commit(`paths ${c}`)
    }
    await ds.close()
    for (const keepSmallChunks of [false, true]) {
      const repo = await Repo.open(path.join(tmp(), 'ds'))
      try {
        const t = (await openVersion(repo, 'HEAD')).root.tensors.path
        let reads = 0
        const read = repo.objects.getUnverified.bind(repo.objects)
        repo.objects.getUnverified = (hash: string) => (reads++, read(hash))
        const visit = async () => {
          const found: string[] = []
          reads = 0
          await repo.data.visitTexts(t, 0, t.length, 'v1/', (text) => found.push(text), {keepSmallChunks})
          assert.equal(found.length, 500)
          assert.ok(found.every((f) => f.startsWith('v1/')))
          return reads
        }
        const first = await visit()
        const second = await visit()
        assert.ok(first >= 3, `the first visit reads the chunks (${first} reads)`)
        if (keepSmallChunks) assert.equal(second, 0, 'kept: nothing read again')
        else assert.ok(second >= 3, `not kept: the chunks are read again (${second} reads)`)
      } finally {
        await repo.close()
      }
    }
  })
})
