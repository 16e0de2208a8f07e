// Bytes the library hands out are the caller's (unless asked for views): writing into them must
// change no later read. Chunks the process keeps in its payload cache (point reads of lz4 chunks,
// the path chunks an add matches against) are read by later callers too, so what is handed out
// from them is a copy. And `add` relies on that cache: a second add in the same process reads
// no path chunk the first one read.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {Dataset} from '../../src/index.js'
import {useTempDir} from '../io/helpers.js'
import {Repo} from '../../src/core/repo/repo.js'
import {add} from '../../src/core/ops/add.js'
import {commit} from '../../src/core/ops/commit.js'

describe('bytes handed out are the caller\'s', function () {
  this.timeout(60_000)
  const tmp = useTempDir()

  function writeFiles(input: string, files: Record<string, string>) {
    fs.mkdirSync(input, {recursive: true})
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(input, name), text)
  }

  it('point reads from a cached (lz4) chunk: writing into what read, readBytes and readArray return changes nothing', async () => {
    const ds = await Dataset.init(path.join(tmp(), 'ds'))
    await ds.createTensor('blob', {htype: 'binary', chunkCompression: 'lz4'})
    const samples = Array.from({length: 50}, (_, i) => new Uint8Array(300).fill(i))
    await ds.append('blob', samples)
    await ds.commit('blobs')
    const v = await ds.version('HEAD')
    for (const i of [3, 17]) {
      const a = await v.readBytes('blob', i)
      a.fill(0xee)
      const b = (await v.read('blob', i)) as Uint8Array
      b.fill(0xdd)
      const c = (await v.readArray('blob', i)).data as Uint8Array
      c.fill(0xcc)
      assert.deepEqual(await v.readBytes('blob', i), samples[i])
      assert.deepEqual(await v.read('blob', i), samples[i])
      assert.deepEqual((await v.readArray('blob', i)).data, samples[i])
    }
    await ds.close()
  })

  it('a files add after a scan whose samples were written into still matches every path', async () => {
    const input = path.join(tmp(), 'input')
    writeFiles(input, {f0: 'a', f1: 'b', f2: 'c', f3: 'd', f4: 'e'})
    const ds = await Dataset.init(path.join(tmp(), 'ds'))
    await ds.add([input], {format: 'files'})
    await ds.commit('first')
    fs.writeFileSync(path.join(input, 'f1'), 'B')
    assert.equal((await ds.add([input], {format: 'files'})).updated, 1) // (the path chunks are cached now)
    await ds.commit('second')
    const v = await ds.version('HEAD')
    for await (const {bytes} of v.streamBytes('path')) bytes.fill(0x5a)
    for await (const {value} of v.stream('path')) assert.match(String(value), /^f[0-4]$/)
    fs.writeFileSync(path.join(input, 'f2'), 'C')
    const third = await ds.add([input], {format: 'files'})
    assert.deepEqual([third.added, third.updated, third.deleted], [0, 1, 0])
    await ds.commit('third')
    const head = await ds.version('HEAD')
    assert.deepEqual([...(await head.column('path'))].sort(), ['f0', 'f1', 'f2', 'f3', 'f4'])
    await ds.close()
  })

  it('a second files add in the process reads none of the chunks the first one read', async () => {
    const input = path.join(tmp(), 'input')
    writeFiles(input, Object.fromEntries(Array.from({length: 300}, (_, i) => [`file-${String(i).padStart(4, '0')}`, `content ${i}`])))
    const ds = path.join(tmp(), 'ds')
    await Repo.init(ds).then((r) => r.close())
    const repo = await Repo.open(ds)
    try {
      const read = new Set<string>()
      const getUnverified = repo.objects.getUnverified.bind(repo.objects)
      repo.objects.getUnverified = (hash: string) => (read.add(hash), getUnverified(hash))
      await add(repo, [input], {format: 'files', prefix: 'a'})
      await commit(repo, {message: 'a'})
      await add(repo, [input], {format: 'files', prefix: 'b'})
      await commit(repo, {message: 'b'})
      const before = new Set(read)
      read.clear()
      // a third prefix: every path of the dataset is visited, none matches
      const result = await add(repo, [input], {format: 'files', prefix: 'c'})
      assert.equal(result.added, 300)
      const again = [...read].filter((h) => before.has(h))
      assert.deepEqual(again, [], 'objects read again')
    } finally {
      await repo.close()
    }
  })
})
