import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  createTensorMeta, decodeSample, decodeSampleArray, encodeSample, sampleToJson, valueFromJson, withClassNames,
} from '../../src/core/format/index.js'
import {throwsCode} from './helpers.js'

const at = (index: number) => ({index})

describe('format/sample: text, json, binary', () => {
  const text = createTensorMeta('caption', {htype: 'text'})
  const json = createTensorMeta('meta', {htype: 'json'})
  const bin = createTensorMeta('blob', {htype: 'binary'})

  it('round-trips any well-formed string as UTF-8', () => {
    fc.assert(fc.property(fc.string({unit: 'binary'}), s => {
      const bytes = encodeSample(text, s, at(0))
      assert.deepEqual(Buffer.from(bytes), Buffer.from(s, 'utf8'))
      assert.equal(decodeSample(text, bytes), s)
    }))
  })

  it('round-trips JSON values as UTF-8 JSON text', () => {
    fc.assert(fc.property(fc.jsonValue(), v => {
      const bytes = encodeSample(json, v, at(0))
      assert.equal(Buffer.from(bytes).toString('utf8'), JSON.stringify(v))
      // JSON's one lossy corner: -0 reads back as 0
      assert.deepStrictEqual(decodeSample(json, bytes), JSON.parse(JSON.stringify(v)))
    }))
  })

  it('round-trips bytes as-is', () => {
    fc.assert(fc.property(fc.uint8Array(), b => {
      assert.deepStrictEqual(decodeSample(bin, encodeSample(bin, b, at(0))), b)
    }))
    assert.deepEqual(decodeSampleArray(bin, Uint8Array.from([1, 2])), {shape: [2], data: Uint8Array.from([1, 2])})
  })

  it('refuses what is not text', () => {
    throwsCode(() => encodeSample(text, 5, at(3)), 'INVALID_VALUE', "tensor 'caption' sample 3: expected a string, got 5")
    throwsCode(() => encodeSample(text, 'a\uD800b', at(3)), 'INVALID_VALUE', 'lone surrogate')
    throwsCode(() => decodeSample(text, Uint8Array.from([0xc3, 0x28])), 'CORRUPT_OBJECT', "tensor 'caption'", 'UTF-8')
    throwsCode(() => decodeSampleArray(text, Uint8Array.from([65])), 'INVALID_TENSOR_SPEC', "tensor 'caption'")
  })

  it('refuses what JSON cannot carry unchanged, naming the path', () => {
    const bad: [unknown, string][] = [
      [undefined, 'got undefined'],
      [{a: undefined}, 'at .a'],
      [{a: [1, () => 1]}, 'at .a[1]'],
      [[1n], 'at [0]'],
      [{'x y': NaN}, 'at ["x y"]'],
      [[Infinity], 'finite'],
      [new Date(0), 'a Date object'],
      [new Map(), 'a Map object'],
      [[, 1], 'at [0]'], // eslint-disable-line no-sparse-arrays
      [{s: Symbol('x')}, 'a symbol'],
      [{[Symbol('k')]: 1}, 'symbol keys'],
      ['\uDC00', 'lone surrogate'],
    ]
    for (const [v, mention] of bad) throwsCode(() => encodeSample(json, v, at(7)), 'INVALID_VALUE', "tensor 'meta' sample 7", mention)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    throwsCode(() => encodeSample(json, cyclic, at(7)), 'INVALID_VALUE', 'circular')
    // shared (not circular) references are fine
    const shared = {x: 1}
    assert.deepEqual(decodeSample(json, encodeSample(json, [shared, shared], at(0))), [{x: 1}, {x: 1}])
    throwsCode(() => decodeSample(json, Buffer.from('{"a":')), 'CORRUPT_OBJECT', "tensor 'meta'", 'JSON')
  })

  it('refuses what is not bytes', () => {
    throwsCode(() => encodeSample(bin, 'abc', at(1)), 'INVALID_VALUE', "tensor 'blob' sample 1", 'bytes')
    throwsCode(() => encodeSample(bin, [1, 2], at(1)), 'INVALID_VALUE', 'an array of length 2')
  })
})

describe('format/sample: class_label', () => {
  const named = createTensorMeta('label', {htype: 'class_label', classNames: ['cat', 'dog']})
  const plain = createTensorMeta('label', {htype: 'class_label'})

  it('stores indices; names map to their index', () => {
    assert.equal(decodeSample(named, encodeSample(named, 'dog', at(0))), 1)
    assert.equal(decodeSample(named, encodeSample(named, 0, at(0))), 0)
    assert.deepEqual(decodeSample(named, encodeSample(named, ['dog', 0], at(0))), [1, 0])
    assert.equal(decodeSample(plain, encodeSample(plain, 1000, at(0))), 1000)
    assert.deepEqual([...encodeSample(plain, 3, at(0))], [0, 3, 0, 0, 0])
  })

  it('refuses labels it cannot place, naming tensor, index and what was expected', () => {
    throwsCode(() => encodeSample(plain, 'cat', at(12)), 'INVALID_VALUE',
      `tensor 'label' sample 12: expected an integer class index (dtype i32), got "cat"`)
    const e = throwsCode(() => encodeSample(named, 'bird', at(12)), 'INVALID_VALUE', "tensor 'label' sample 12", '"bird"')
    assert.match(e.hint!, /"cat", "dog"/)
    throwsCode(() => encodeSample(named, 2, at(12)), 'INVALID_VALUE', 'below 2')
    throwsCode(() => encodeSample(plain, -1, at(12)), 'INVALID_VALUE', '≥ 0')
    throwsCode(() => encodeSample(plain, 1.5, at(12)), 'INVALID_VALUE', 'integer class index')
    throwsCode(() => encodeSample(plain, [[1]], at(12)), 'INVALID_VALUE', '1-d list')
    throwsCode(() => encodeSample(named, ['cat', 'cow'], at(12)), 'INVALID_VALUE', 'at [1]', '"cow"')
    const u8 = createTensorMeta('label', {htype: 'class_label', dtype: 'u8'})
    throwsCode(() => encodeSample(u8, 256, at(1)), 'INVALID_VALUE', '0..255')
  })

  it('accepts a name once the importer appends it', () => {
    const grown = withClassNames(named, ['bird'])
    assert.equal(decodeSample(grown, encodeSample(grown, 'bird', at(0))), 2)
    // indices written before keep their meaning
    assert.equal(decodeSample(grown, encodeSample(named, 'dog', at(0))), 1)
  })
})

describe('format/sample: JSON forms', () => {
  it('prints bytes as base64, big 64-bit ints as strings, non-finite floats as strings', () => {
    const bin = createTensorMeta('b', {htype: 'binary'})
    assert.equal(sampleToJson(bin, Uint8Array.from([1, 2, 3])), 'AQID')
    const i64 = createTensorMeta('i', {htype: 'generic', dtype: 'i64'})
    assert.deepEqual(sampleToJson(i64, [5, 2n ** 60n, -(2n ** 63n)]), [5, '1152921504606846976', '-9223372036854775808'])
    assert.deepEqual(sampleToJson(i64, 7n), 7)
    const f = createTensorMeta('f', {htype: 'generic', dtype: 'f64'})
    assert.deepEqual(sampleToJson(f, [[NaN, Infinity], [-Infinity, 1.5]]), [['NaN', 'Infinity'], ['-Infinity', 1.5]])
    const j = createTensorMeta('j', {htype: 'json'})
    assert.deepEqual(sampleToJson(j, {a: ['NaN']}), {a: ['NaN']})
  })

  it('reads back what it prints', () => {
    const cases: [string, string, unknown][] = [
      ['binary', 'u8', Uint8Array.from([0, 255, 7])],
      ['generic', 'i64', [1, 2n ** 62n, -(2n ** 63n)]],
      ['generic', 'u64', 2n ** 64n - 1n],
      ['generic', 'f32', [NaN, -Infinity, 0.5]],
      ['text', 'str', 'héllo'],
      ['json', 'str', {a: [1, null, 'NaN']}],
      ['generic', 'bool', [true, false]],
    ]
    for (const [htype, dtype, value] of cases) {
      const meta = createTensorMeta('t', {htype, dtype})
      const stored = decodeSample(meta, encodeSample(meta, value, at(0)))
      const printed = JSON.parse(JSON.stringify(sampleToJson(meta, stored)))
      const read = decodeSample(meta, encodeSample(meta, valueFromJson(meta, printed, at(0)), at(0)))
      assert.deepStrictEqual(read, stored, `${htype} ${dtype}`)
    }
  })

  it('reads null or a missing value as NaN for floats only', () => {
    const f = createTensorMeta('f', {htype: 'generic', dtype: 'f64'})
    assert.deepEqual(valueFromJson(f, [null, 1], at(0)), [NaN, 1])
    assert.ok(Number.isNaN(valueFromJson(f, undefined, at(0))))
    const j = createTensorMeta('j', {htype: 'json'})
    assert.equal(valueFromJson(j, undefined, at(0)), null)
    const i = createTensorMeta('i', {htype: 'generic', dtype: 'i32'})
    throwsCode(() => encodeSample(i, valueFromJson(i, null, at(4)), at(4)), 'INVALID_VALUE', "tensor 'i' sample 4", 'got null')
  })

  it('refuses bytes that are not base64', () => {
    const bin = createTensorMeta('b', {htype: 'binary'})
    for (const bad of ['abc', 'a b=', 5, null]) throwsCode(() => valueFromJson(bin, bad, at(2)), 'INVALID_VALUE', "tensor 'b' sample 2", 'base64')
  })
})
