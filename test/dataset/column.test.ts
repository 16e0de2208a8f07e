// Version.column: a whole numeric column of single-element samples as one typed array (decoded
// chunk by chunk), equal to what a sample-by-sample stream gives; other tensors fall back to an
// array of samples; a damaged chunk fails the read, never returns other numbers.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import {Dataset} from '../../src/index.js'

async function streamed(ds: Dataset, rev: string, tensor: string, start?: number, end?: number) {
  const v = await ds.version(rev)
  const out: unknown[] = []
  for await (const s of v.stream(tensor, {start, end})) out.push(s.value)
  return out
}

describe('Version.column', function () {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-column-'))
  })
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

  it('gives the typed array of each dtype, equal to the streamed samples, at every commit and for any range', async () => {
    const ds = await Dataset.init(dir)
    await ds.createTensor('label', {htype: 'class_label', dtype: 'i32'})
    await ds.createTensor('score', {htype: 'generic', dtype: 'f64'})
    await ds.createTensor('flag', {htype: 'generic', dtype: 'bool'})
    await ds.createTensor('big', {htype: 'generic', dtype: 'i64'})
    const n = 3000
    await ds.append('label', Array.from({length: n}, (_, i) => (i * 7) % 1000))
    await ds.append('score', Array.from({length: n}, (_, i) => i / 3))
    await ds.append('flag', Array.from({length: n}, (_, i) => i % 3 === 0))
    await ds.append('big', Array.from({length: n}, (_, i) => BigInt(i) * 10_000_000_000n))
    const first = (await ds.commit('v1')).commit
    for (let i = 0; i < 50; i++) await ds.update('label', (i * 61) % n, 5000 + i)
    await ds.append('label', [1, 2, 3])
    await ds.append('score', [1, 2, 3])
    await ds.append('flag', [true, false, true])
    await ds.append('big', [1, 2, 3])
    await ds.deleteRows(10, 20)
    const second = (await ds.commit('v2')).commit

    for (const rev of [first, second]) {
      const v = await ds.version(rev)
      const label = await v.column('label')
      assert.ok(label instanceof Int32Array)
      assert.deepEqual([...label], await streamed(ds, rev, 'label'))
      const score = await v.column('score')
      assert.ok(score instanceof Float64Array)
      assert.deepEqual([...score], await streamed(ds, rev, 'score'))
      const flag = await v.column('flag')
      assert.ok(flag instanceof Uint8Array)
      assert.deepEqual([...flag].map((x) => x === 1), await streamed(ds, rev, 'flag'))
      const big = await v.column('big')
      assert.ok(big instanceof BigInt64Array)
      assert.deepEqual([...big].map(Number), (await streamed(ds, rev, 'big')).map(Number))
    }
    const v = await ds.version(second)
    const len = v.length('label')
    await fc.assert(
      fc.asyncProperty(fc.nat({max: len}), fc.nat({max: len}), async (a, b) => {
        const [start, end] = a <= b ? [a, b] : [b, a]
        assert.deepEqual([...(await v.column('label', {start, end}))], await streamed(ds, second, 'label', start, end))
      }),
      {numRuns: 25},
    )
    await assert.rejects(v.column('label', {start: 5, end: len + 1}), (e: {code?: string}) => e.code === 'INDEX_OUT_OF_RANGE')
    await ds.close()
  })

  it('falls back to an array of samples for arrays, text and mixed shapes', async () => {
    const ds = await Dataset.init(dir)
    await ds.createTensor('emb', {htype: 'embedding', dtype: 'f32'})
    await ds.createTensor('caption', {htype: 'text'})
    await ds.createTensor('mixed', {htype: 'generic', dtype: 'i32'})
    await ds.append('emb', [[1, 2, 3], [4, 5, 6]])
    await ds.append('caption', ['a', 'b'])
    await ds.append('mixed', [1, [2, 3], 4])
    await ds.commit('shapes')
    const v = await ds.version('HEAD')
    assert.deepEqual(await v.column('emb'), [[1, 2, 3], [4, 5, 6]])
    assert.deepEqual(await v.column('caption'), ['a', 'b'])
    assert.deepEqual(await v.column('mixed'), [1, [2, 3], 4])
    await ds.close()
  })

  it('one-element samples of any rank read as one typed array, mixed with the usual shape [1]', async () => {
    const ds = await Dataset.init(dir)
    await ds.createTensor('x', {htype: 'generic', dtype: 'i32'})
    await ds.append('x', [5, [[6]], 7, [[[8]]], -9])
    await ds.commit('ranks')
    const x = await (await ds.version('HEAD')).column('x')
    assert.ok(x instanceof Int32Array)
    assert.deepEqual([...x], [5, 6, 7, 8, -9])
    await ds.close()
  })

  it('plain numbers (rank 0) and shape [1] in runs and interleaved, of every element size, read as the stream reads them', async () => {
    const ds = await Dataset.init(dir)
    const dtypes = ['u8', 'i16', 'i32', 'f32', 'f64', 'i64'] as const
    for (const dtype of dtypes) await ds.createTensor(dtype, {htype: 'generic', dtype})
    const rows = Array.from({length: 700}, (_, i) => (i % 97 < 40 ? i % 100 : i % 5 === 0 ? [[i % 100]] : [i % 100]))
    for (const dtype of dtypes) await ds.append(dtype, dtype === 'i64' ? rows.map((r) => (Array.isArray(r) ? r.map((x) => (Array.isArray(x) ? x.map(BigInt) : BigInt(x))) : BigInt(r))) : rows)
    await ds.commit('shapes')
    // the one element of a sample, whatever its rank
    const element = (v: unknown): number => (Array.isArray(v) ? element(v[0]) : Number(v))
    for (const dtype of dtypes) {
      const x = Array.from((await (await ds.version('HEAD')).column(dtype)) as ArrayLike<number | bigint>, Number)
      assert.deepEqual(x, rows.map(element), dtype)
      assert.deepEqual(x, (await streamed(ds, 'HEAD', dtype)).map(element), `${dtype} as streamed`)
    }
    await ds.close()
  })

  it('a damaged label chunk fails the column read with CORRUPT_OBJECT', async () => {
    let ds = await Dataset.init(dir)
    await ds.createTensor('label', {htype: 'class_label', dtype: 'i32'})
    await ds.append('label', Array.from({length: 500}, (_, i) => i))
    await ds.commit('labels')
    await ds.close()
    const root = path.join(dir, '.lake', 'objects')
    let damaged = 0
    for (const sub of fs.readdirSync(root)) for (const f of fs.readdirSync(path.join(root, sub))) {
      const file = path.join(root, sub, f)
      const bytes = fs.readFileSync(file)
      if (bytes.subarray(0, 4).toString() !== 'LKCH') continue
      bytes[bytes.length - 3] ^= 0x01
      fs.writeFileSync(file, bytes)
      damaged++
    }
    assert.equal(damaged, 1)
    ds = await Dataset.open(dir)
    const v = await ds.version('HEAD')
    await assert.rejects(v.column('label'), (e: {code?: string}) => e.code === 'CORRUPT_OBJECT')
    await ds.close()
  })
})
