// The disk cache of whole numeric columns (dataset/column-cache.ts): entries keyed by index root
// round-trip, anything damaged is ignored, and `add --key` gives the same result through it while
// reading none of the key tensor's index leaves on a hit.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import {ColumnCache} from '../../src/core/dataset/column-cache.js'
import {Repo} from '../../src/core/repo/repo.js'
import {add} from '../../src/core/ops/add.js'
import {commit} from '../../src/core/ops/commit.js'
import {readState} from '../../src/core/ops/state.js'
import {Dataset} from '../../src/index.js'

describe('column cache', () => {
  let tmp: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-colcache-'))
  })
  afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}))

  const root = (i: number) => i.toString(16).padStart(64, '0')

  it('round-trips columns of every numeric dtype by index root, dtype and length', () => {
    const cache = new ColumnCache(tmp)
    fc.assert(
      fc.property(fc.integer({min: 0, max: 1e6}), fc.array(fc.integer({min: -(2 ** 31), max: 2 ** 31 - 1}), {maxLength: 300}), (k, values) => {
        const i32 = Int32Array.from(values)
        const f64 = Float64Array.from(values, (v) => v / 7)
        const i64 = BigInt64Array.from(values, (v) => BigInt(v) * 3_000_000_000n)
        // each read right after its write: the trim may take any older entry (8 are kept); read
        // by a cache of its own (another process), so from the file, not what the writer holds
        cache.put(root(k), 'i32', i32)
        assert.deepEqual(new ColumnCache(tmp).get(root(k), 'i32', values.length), i32)
        cache.put(root(k), 'f64', f64)
        assert.deepEqual(new ColumnCache(tmp).get(root(k), 'f64', values.length), f64)
        cache.put(root(k), 'i64', i64)
        assert.deepEqual(new ColumnCache(tmp).get(root(k), 'i64', values.length), i64)
        assert.deepEqual(cache.get(root(k), 'i64', values.length), i64, 'and the writer holds it')
        assert.equal(cache.get(root(k), 'i64', values.length + 1), undefined, 'another length')
        assert.equal(cache.get(root(k + 2_000_000), 'i64', values.length), undefined, 'another root (never put)')
      }),
      {numRuns: 60},
    )
    assert.ok(fs.readdirSync(tmp).length <= 8, 'at most 8 entries kept')
  })

  it('ignores a damaged, truncated or foreign file', () => {
    const column = Int32Array.from({length: 1000}, (_, i) => i * 3)
    const file = path.join(tmp, `${root(1)}.i32`)
    // (each get on a cache of its own, as another process: the one that put it holds it in memory)
    for (const damage of [
      (b: Buffer) => (b[100] ^= 1), // a payload bit
      (b: Buffer) => (b[17] ^= 1), // the crc
      (b: Buffer) => (b[0] = 0), // the magic
      (b: Buffer) => (b[9] ^= 1), // the length
    ]) {
      new ColumnCache(tmp).put(root(1), 'i32', column)
      const bytes = fs.readFileSync(file)
      damage(bytes)
      fs.writeFileSync(file, bytes)
      assert.equal(new ColumnCache(tmp).get(root(1), 'i32', 1000), undefined)
    }
    new ColumnCache(tmp).put(root(1), 'i32', column)
    fs.truncateSync(file, 500)
    assert.equal(new ColumnCache(tmp).get(root(1), 'i32', 1000), undefined)
  })

  it('holds the two columns used last in memory: no file read for them, the older ones from their files', () => {
    const cache = new ColumnCache(tmp)
    const columns = [1, 2, 3].map((k) => Int32Array.from({length: 1000}, (_, i) => i * k))
    columns.forEach((c, k) => cache.put(root(k + 1), 'i32', c))
    for (const k of [1, 2, 3]) fs.rmSync(path.join(tmp, `${root(k)}.i32`))
    assert.equal(cache.get(root(1), 'i32', 1000), undefined, 'the oldest was let go, and its file is gone')
    assert.equal(cache.get(root(2), 'i32', 1000), columns[1], 'held')
    assert.equal(cache.get(root(3), 'i32', 1000), columns[2], 'held')
    assert.equal(cache.get(root(3), 'i32', 999), undefined, 'another length is another column')
    // a column read from its file is held too, and pushes out the one used least recently
    new ColumnCache(tmp).put(root(4), 'i32', columns[0])
    assert.deepEqual(cache.get(root(4), 'i32', 1000), columns[0])
    fs.rmSync(path.join(tmp, `${root(4)}.i32`))
    assert.deepEqual(cache.get(root(4), 'i32', 1000), columns[0])
    assert.equal(cache.get(root(3), 'i32', 1000), columns[2])
    assert.equal(cache.get(root(2), 'i32', 1000), undefined, 'used least recently: let go')
  })

  it('add --key through the cache: the same upserts, and a hit reads no leaf of the key tensor', async () => {
    const dir = path.join(tmp, 'ds')
    fs.mkdirSync(dir)
    const n = 20000
    fs.writeFileSync(path.join(tmp, 'base.csv'), 'id,label\n' + Array.from({length: n}, (_, i) => `${i * 7},${i}`).join('\n') + '\n')
    let repo = await Repo.init(dir)
    await add(repo, [path.join(tmp, 'base.csv')])
    await commit(repo, {message: 'base'})
    await repo.close()

    const upsert = async (file: string, rows: [number, number][]) => {
      fs.writeFileSync(file, 'id,label\n' + rows.map(([id, label]) => `${id},${label}`).join('\n') + '\n')
      repo = await Repo.open(dir)
      repo.data.columnCache = new ColumnCache(path.join(dir, '.lake', 'cache', 'columns'), 10_000)
      const reads = {count: 0}
      const read = repo.objects.getUnverified.bind(repo.objects)
      repo.objects.getUnverified = (hash: string) => (reads.count++, read(hash))
      const readMany = repo.objects.visitUnverified.bind(repo.objects)
      repo.objects.visitUnverified = (hashes, visit) => ((reads.count += hashes.length), readMany(hashes, visit))
      try {
        const result = await add(repo, [file], {key: 'id'})
        await commit(repo, {message: file})
        const state = await repo.withDb((db) => readState(repo, db))
        const label = (await repo.data.getRoot(state.staged.root)).tensors.label
        const labels = await repo.data.readScalarColumn(label, 0, label.length)
        return {result, reads: reads.count, labels: Array.from(labels!)}
      } finally {
        await repo.close()
      }
    }
    const first = await upsert(path.join(tmp, 'u1.csv'), [[7, -1], [21, -3]])
    assert.deepEqual([first.result.updated, first.result.added], [2, 0])
    assert.equal(fs.readdirSync(path.join(dir, '.lake', 'cache', 'columns')).filter((f) => !f.startsWith('latest-')).length, 1, 'the id column was cached')
    // labels only: the id tensor keeps its index root, so the cached column serves the next add
    const second = await upsert(path.join(tmp, 'u2.csv'), [[14, -2], [7, -9], [1_000_001, 5]])
    assert.deepEqual([second.result.updated, second.result.added], [2, 1])
    assert.deepEqual(second.labels.slice(0, 4), [0, -9, -2, -3])
    assert.equal(second.labels[n], 5)
    // the id column of 20k rows spans ~40 leaves (~512 entries each): a hit skips them all
    assert.ok(second.reads <= first.reads - 30, `a hit reads fewer nodes: ${second.reads} vs ${first.reads}`)
    // the second add appended a key: the id tensor has a new root, and its column is the cached
    // one patched from an index diff (the appended rows only), not a whole read
    const third = await upsert(path.join(tmp, 'u3.csv'), [[1_000_001, 6], [28, -4], [2_000_003, 8]])
    assert.deepEqual([third.result.updated, third.result.added], [2, 1])
    assert.deepEqual([third.labels[4], third.labels[n], third.labels[n + 1]], [-4, 6, 8])
    assert.ok(third.reads <= first.reads - 25, `a refresh reads fewer nodes: ${third.reads} vs ${first.reads}`)
    assert.equal(fs.readdirSync(path.join(dir, '.lake', 'cache', 'columns')).filter((f) => !f.startsWith('latest-')).length, 2)
  })

  it('a refreshed column equals a whole read after random appends and updates (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.record({append: fc.array(fc.integer({min: -1000, max: 1000}), {minLength: 1, maxLength: 40})}), fc.record({update: fc.nat(), value: fc.integer()})), {minLength: 1, maxLength: 6}),
        async (ops) => {
          const dir = fs.mkdtempSync(path.join(tmp, 'prop-'))
          const ds = await Dataset.init(dir)
          await ds.createTensor('k', {htype: 'generic', dtype: 'i32'})
          await ds.append('k', Array.from({length: 600}, (_, i) => i * 3))
          await ds.commit('base')
          await ds.close()
          const model = Array.from({length: 600}, (_, i) => i * 3)
          for (const op of ops) {
            const repo = await Repo.open(dir)
            try {
              repo.data.columnCache = new ColumnCache(path.join(dir, '.lake', 'cache', 'columns'), 100)
              const state = await repo.withDb((db) => readState(repo, db))
              const t = (await repo.data.getRoot(state.staged.root)).tensors.k
              // through the cache (hit, refresh or whole read, whichever applies) vs the model
              assert.deepEqual(Array.from((await repo.data.readWholeScalarColumn(t))!), model)
            } finally {
              await repo.close()
            }
            const d = await Dataset.open(dir)
            if ('append' in op) {
              await d.append('k', op.append)
              model.push(...op.append)
            } else {
              await d.update('k', op.update % model.length, op.value | 0)
              model[op.update % model.length] = op.value | 0
            }
            await d.commit('step')
            await d.close()
          }
          fs.rmSync(dir, {recursive: true, force: true})
        },
      ),
      {numRuns: 15},
    )
  })
})
