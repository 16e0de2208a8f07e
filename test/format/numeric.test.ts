import assert from 'node:assert/strict'
import fc from 'fast-check'
import {createTensorMeta, decodeSample, decodeSampleArray, encodeSample, type Dtype, type NestedArray} from '../../src/core/format/index.js'
import {throwsCode} from './helpers.js'
import {decodeNdArray, encodeNdArray, toNdArray, toNested} from '../../src/core/format/ndarray.js'

const INT_RANGES: Record<string, [bigint, bigint]> = {
  u8: [0n, 255n], u16: [0n, 65535n], u32: [0n, 4294967295n], u64: [0n, 2n ** 64n - 1n],
  i8: [-128n, 127n], i16: [-32768n, 32767n], i32: [-(2n ** 31n), 2n ** 31n - 1n], i64: [-(2n ** 63n), 2n ** 63n - 1n],
}

// what decodeSample gives back for an element: 64-bit ints as numbers when exact
const normal = (x: number | bigint | boolean): number | bigint | boolean =>
  typeof x === 'bigint' && x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x

function element(dtype: Dtype): fc.Arbitrary<number | bigint | boolean> {
  if (dtype === 'bool') return fc.boolean()
  if (dtype === 'f32') return fc.float()
  if (dtype === 'f64') return fc.double()
  const [min, max] = INT_RANGES[dtype]
  if (dtype === 'u64' || dtype === 'i64') return fc.bigInt(min, max)
  return fc.integer({min: Number(min), max: Number(max)})
}

function nest(shape: number[], flat: unknown[]): NestedArray {
  let k = 0
  const build = (d: number): NestedArray => (d === shape.length ? (flat[k++] as NestedArray) : Array.from({length: shape[d]}, () => build(d + 1)))
  return build(0)
}

const ndValue = (dtype: Dtype) =>
  fc.array(fc.integer({min: 0, max: 4}), {maxLength: 3}).chain(shape =>
    fc.array(element(dtype), {minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1)})
      .map(flat => ({shape, flat})))

describe('format/sample: numeric htypes', () => {
  const dtypes: Dtype[] = ['u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64', 'f32', 'f64', 'bool']
  for (const dtype of dtypes) {
    it(`round-trips n-d ${dtype} values`, () => {
      const meta = createTensorMeta('x', {htype: 'generic', dtype})
      fc.assert(fc.property(ndValue(dtype), ({shape, flat}) => {
        // {shape, data} keeps every shape exactly, even [0, 0] or [3, 0]
        const bytes = encodeSample(meta, {shape, data: flat}, {index: 0})
        const arr = decodeSampleArray(meta, bytes)
        assert.deepStrictEqual(arr.shape, shape)
        assert.deepStrictEqual([...arr.data], flat.map(x => (typeof x === 'boolean' ? Number(x) : x)))
        assert.deepStrictEqual(decodeSample(meta, bytes), nest(shape, flat.map(normal)))
        // nested arrays give back the same nested arrays, and re-encode to the same bytes
        const nested = nest(shape, flat)
        const again = encodeSample(meta, nested, {index: 0})
        assert.deepStrictEqual(decodeSample(meta, again), nest(shape, flat.map(normal)))
        assert.deepStrictEqual(encodeSample(meta, decodeSample(meta, again), {index: 0}), again)
        if (!shape.slice(0, -1).includes(0)) assert.deepStrictEqual(again, bytes)
      }), {numRuns: 150})
    })
  }

  it('a scalar takes the short path to exactly the bytes (or the error) of the n-d path, for every dtype', () => {
    // valid elements of the dtype, and values that are wrong for some dtypes (out of range, not integral, the wrong type)
    const anyScalar = fc.oneof(
      fc.integer(), fc.double(), fc.boolean(), fc.bigInt({min: -(2n ** 70n), max: 2n ** 70n}),
      fc.constantFrom(0, -1, 255, 256, 65536, 2 ** 31, 2 ** 32, -(2 ** 31) - 1, 2 ** 53, 0.5, NaN, Infinity, 3.5e38, 2n ** 64n - 1n, -(2n ** 63n)),
    )
    const outcome = (f: () => Uint8Array) => {
      try {
        return {bytes: [...f()]}
      } catch (e) {
        return {error: (e as Error).message}
      }
    }
    for (const dtype of dtypes) {
      const meta = createTensorMeta('x', {htype: 'generic', dtype})
      fc.assert(fc.property(fc.oneof(element(dtype), anyScalar), (x) => {
        const where = {index: 3}
        const ctx = {tensor: 'x', dtype: dtype as never, where}
        const general = outcome(() => encodeNdArray(ctx, [], toNdArray(ctx, x).data))
        assert.deepStrictEqual(outcome(() => encodeSample(meta, x, where)), general, `${dtype} ${String(x)}`)
      }), {numRuns: 300})
    }
  })

  it('a scalar sample decodes by the short path to exactly what the n-d path gives (or refuses), for any bytes', () => {
    const outcome = (f: () => unknown) => {
      try {
        return {value: f()}
      } catch (e) {
        return {error: (e as Error).message}
      }
    }
    for (const dtype of dtypes) {
      const meta = createTensorMeta('x', {htype: 'generic', dtype})
      const ctx = {tensor: 'x', dtype: dtype as never, where: {index: 0}}
      // encoded scalars, and arbitrary bytes (some of the length of a scalar sample)
      const samples = fc.oneof(
        element(dtype).map((x) => encodeSample(meta, x, {index: 0})),
        fc.uint8Array({maxLength: 12}),
        fc.uint8Array({minLength: 1, maxLength: 8}).map((b) => Uint8Array.of(0, ...b)),
      )
      fc.assert(fc.property(samples, (bytes) => {
        const general = outcome(() => {
          const {shape, data} = decodeNdArray(ctx, bytes)
          return toNested(dtype as never, shape, data)
        })
        assert.deepStrictEqual(outcome(() => decodeSample(meta, bytes, {index: 0})), general, `${dtype} [${[...bytes]}]`)
      }), {numRuns: 300})
    }
  })

  it('encodes a documented header: rank, u32 LE dims, LE elements', () => {
    const meta = createTensorMeta('x', {htype: 'generic', dtype: 'u16'})
    assert.deepEqual([...encodeSample(meta, [[1, 2, 258]], {index: 0})], [2, 1, 0, 0, 0, 3, 0, 0, 0, 1, 0, 2, 0, 2, 1])
    assert.deepEqual([...encodeSample(meta, 7, {index: 0})], [0, 7, 0])
    assert.equal(decodeSample(meta, encodeSample(meta, 7, {index: 0})), 7)
  })

  it('accepts typed arrays, {shape, data} and bigints', () => {
    const meta = createTensorMeta('e', {htype: 'embedding'})
    assert.deepEqual(decodeSample(meta, encodeSample(meta, new Float32Array([1, 2.5]), {index: 0})), [1, 2.5])
    const g = createTensorMeta('g', {htype: 'generic', dtype: 'i64'})
    assert.deepEqual(decodeSample(g, encodeSample(g, {shape: [2, 1], data: [2n ** 62n, -3]}, {index: 0})), [[2n ** 62n], [-3]])
    const b = createTensorMeta('b', {htype: 'generic', dtype: 'bool'})
    assert.deepEqual(decodeSample(b, encodeSample(b, [0, 1, true, false], {index: 0})), [false, true, true, false])
    const f = createTensorMeta('f', {htype: 'generic', dtype: 'f64'})
    assert.deepEqual(decodeSample(f, encodeSample(f, [NaN, -Infinity, -0], {index: 0})), [NaN, -Infinity, -0])
  })

  it('enforces shapes per htype', () => {
    const box = createTensorMeta('boxes', {htype: 'bbox'})
    encodeSample(box, [1, 2, 3, 4], {index: 0})
    encodeSample(box, [[1, 2, 3, 4], [5, 6, 7, 8]], {index: 0})
    encodeSample(box, {shape: [0, 4], data: []}, {index: 0})
    throwsCode(() => encodeSample(box, [1, 2, 3], {index: 4}), 'INVALID_VALUE', "tensor 'boxes' sample 4", 'shape [3]')
    throwsCode(() => encodeSample(box, [[1, 2, 3]], {index: 4}), 'INVALID_VALUE', 'shape [1, 3]')
    const emb = createTensorMeta('emb', {htype: 'embedding'})
    throwsCode(() => encodeSample(emb, [[1]], {index: 2}), 'INVALID_VALUE', "tensor 'emb' sample 2", '1-d')
    throwsCode(() => encodeSample(emb, 1, {index: 2}), 'INVALID_VALUE', 'a scalar')
    const ranked = createTensorMeta('m', {htype: 'generic', rank: 2})
    encodeSample(ranked, [[1]], {index: 0})
    throwsCode(() => encodeSample(ranked, [1], {index: 9}), 'INVALID_VALUE', "tensor 'm' sample 9", '2-d')
    // without a recorded rank any rank goes
    const free = createTensorMeta('free', {htype: 'generic'})
    for (const v of [1, [1], [[1]], [[[1]]]]) encodeSample(free, v, {index: 0})
  })

  it('refuses ragged arrays, naming the position', () => {
    const meta = createTensorMeta('x', {htype: 'generic'})
    throwsCode(() => encodeSample(meta, [[1, 2], [3]], {index: 5}), 'INVALID_VALUE', "tensor 'x' sample 5 at [1]", 'length 2')
    throwsCode(() => encodeSample(meta, [[1, 2], 3], {index: 5}), 'INVALID_VALUE', 'at [1]')
    throwsCode(() => encodeSample(meta, [1, [2]], {index: 5}), 'INVALID_VALUE', 'at [1]')
    throwsCode(() => encodeSample(meta, {shape: [2, 2], data: [1, 2, 3]}, {index: 5}), 'INVALID_VALUE', '4 elements', '3 elements')
  })

  it('range-checks elements per dtype, naming tensor, index, dtype and position', () => {
    const cases: [Dtype, unknown, string][] = [
      ['u8', 256, '0..255'], ['u8', -1, '0..255'], ['i8', 128, '-128..127'], ['u16', 70000, '0..65535'],
      ['i32', 2 ** 31, 'i32'], ['u32', -5, 'u32'], ['u64', -1n, 'u64'], ['i64', 2n ** 63n, 'i64'], ['u64', 2 ** 64, 'u64'],
      ['i32', 1.5, 'an integer (dtype i32)'], ['i64', NaN, 'integer'], ['u8', '3', 'an integer (dtype u8)'],
      ['f32', 1e39, 'f32 range'], ['f32', 'x', 'a number (dtype f32)'], ['f64', true, 'a number'], ['f32', 1n, 'a number'],
      ['bool', 2, 'true/false/0/1'], ['bool', 'true', 'bool'], ['f32', null, 'got null'], ['f32', undefined, 'got undefined'],
    ]
    for (const [dtype, bad, mention] of cases) {
      const meta = createTensorMeta('v', {htype: 'generic', dtype})
      const e = throwsCode(() => encodeSample(meta, [0, bad], {index: 12}), 'INVALID_VALUE', "tensor 'v' sample 12 at [1]", mention)
      assert.equal(e.data?.index, 12)
      assert.equal(e.data?.tensor, 'v')
    }
    throwsCode(() => encodeSample(createTensorMeta('v', {htype: 'generic'}), {a: 1}, {index: 0}), 'INVALID_VALUE', 'an object')
  })

  it('names the file and line when the importer knows them', () => {
    const meta = createTensorMeta('v', {htype: 'generic', dtype: 'u8'})
    throwsCode(() => encodeSample(meta, 300, {index: 3, file: 'data.csv', line: 5}), 'INVALID_VALUE', "tensor 'v' sample 3 (data.csv line 5)")
  })

  it('refuses corrupt numeric samples', () => {
    const meta = createTensorMeta('v', {htype: 'generic', dtype: 'f32'})
    const good = encodeSample(meta, [1, 2], {index: 0})
    throwsCode(() => decodeSample(meta, new Uint8Array(0)), 'CORRUPT_OBJECT', "tensor 'v'")
    throwsCode(() => decodeSample(meta, good.subarray(0, good.length - 1)), 'CORRUPT_OBJECT', 'shape [2]')
    throwsCode(() => decodeSample(meta, Uint8Array.from([3, 1, 0])), 'CORRUPT_OBJECT', 'rank 3')
    throwsCode(() => decodeSampleArray(meta, Uint8Array.from([1, 255, 255, 255, 255])), 'CORRUPT_OBJECT', "tensor 'v'")
  })

  it('decodes from unaligned offsets inside a larger buffer', () => {
    const meta = createTensorMeta('v', {htype: 'generic', dtype: 'f64'})
    const bytes = encodeSample(meta, [1.25, -2], {index: 0})
    const outer = new Uint8Array(bytes.length + 3)
    outer.set(bytes, 3)
    assert.deepEqual(decodeSample(meta, outer.subarray(3)), [1.25, -2])
  })
})
