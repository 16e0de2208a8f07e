// `add` reads small input files into a few buffers it reuses in turn (ops/add.ts ReadRing), ahead
// of the import: what must hold is that every file's bytes are stored exactly, with many more
// files than buffers, files of every size (empty, small, over the synchronous-read limit), for
// new files, changed ones (compared with the stored bytes, then updated) and image folders.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {randomBytes} from 'node:crypto'
import {Dataset} from '../../src/index.js'
import {png} from '../helpers/fixtures.js'

describe('add reads files ahead into reused buffers', function () {
  this.timeout(120_000)
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-readahead-'))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  /** path → bytes of every sample of a files-dataset version. */
  async function stored(ds: Dataset, rev = 'HEAD'): Promise<Map<string, Buffer>> {
    const v = await ds.version(rev)
    const out = new Map<string, Buffer>()
    for (let i = 0; i < v.length('path'); i++) out.set(String(await v.read('path', i)), Buffer.from(await v.readBytes('content', i)))
    return out
  }

  it('a directory of many files of every size is stored byte for byte, first added and then changed', async () => {
    const input = path.join(dir, 'input')
    fs.mkdirSync(input)
    const sizes = [0, 1, 7, 4096, 24_576, 100_000, 262_144, 262_145, 300_000]
    const want = new Map<string, Buffer>()
    for (let i = 0; i < 120; i++) {
      const name = `f${String(i).padStart(3, '0')}.bin`
      const bytes = randomBytes(sizes[i % sizes.length] + (i % 3))
      fs.writeFileSync(path.join(input, name), bytes)
      want.set(name, bytes)
    }
    const ds = await Dataset.init(path.join(dir, 'ds'))
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
    const root = path.join(dir, 'pets')
    const want = new Map<string, Buffer>()
    for (let i = 0; i < 45; i++) {
      const cls = i % 2 ? 'cat' : 'dog'
      fs.mkdirSync(path.join(root, cls), {recursive: true})
      const bytes = await png(3 + (i % 5), 2 + (i % 7), {r: i * 5, g: 255 - i * 5, b: i})
      const rel = `${cls}/img${String(i).padStart(2, '0')}.png`
      fs.writeFileSync(path.join(root, rel), bytes)
      want.set(rel, bytes)
    }
    const ds = await Dataset.init(path.join(dir, 'ds'))
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
})
