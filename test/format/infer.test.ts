import assert from 'node:assert/strict'
import {createTensorMeta, decodeSample, encodeSample, inferCsvColumn, inferJsonKey, parseCell, valueFromJson} from '../../src/core/format/index.js'
import {throwsCode} from './helpers.js'

const where = {index: 4, file: 'data.csv', line: 6}

describe('format/infer: CSV columns', () => {
  it('picks the narrowest type that keeps every cell', () => {
    const cases: [string[], object][] = [
      [['1', '-2', '2147483647'], {htype: 'generic', dtype: 'i32'}],
      [['1', '2147483648'], {htype: 'generic', dtype: 'i64'}],
      [['-9223372036854775808', '9223372036854775807'], {htype: 'generic', dtype: 'i64'}],
      [['9223372036854775808'], {htype: 'text', dtype: 'str'}],
      [['1.5', '2', '-3e-4', '.5'], {htype: 'generic', dtype: 'f64'}],
      [['1', '', '3'], {htype: 'generic', dtype: 'f64'}],
      [['1.5', 'NaN', '-inf'], {htype: 'generic', dtype: 'f64'}],
      [['nan', 'NaN'], {htype: 'text', dtype: 'str'}],
      [['true', 'False', 'TRUE'], {htype: 'generic', dtype: 'bool'}],
      [['007', '008'], {htype: 'text', dtype: 'str'}],
      [['+5', '6'], {htype: 'text', dtype: 'str'}],
      [['cat', '1'], {htype: 'text', dtype: 'str'}],
      [['', ' '], {htype: 'text', dtype: 'str'}],
      [[], {htype: 'text', dtype: 'str'}],
      [[' 1 ', '2'], {htype: 'generic', dtype: 'i32'}],
    ]
    for (const [cells, spec] of cases) assert.deepEqual(inferCsvColumn(cells), spec, JSON.stringify(cells))
  })

  it('turns cells into values that encode', () => {
    const check = (opts: {htype: string; dtype?: string; classNames?: string[]}, cell: string, expected: unknown) => {
      const meta = createTensorMeta('c', opts)
      const value = parseCell(meta, cell, where)
      assert.deepStrictEqual(decodeSample(meta, encodeSample(meta, value, where)), expected, `${JSON.stringify(opts)} ${cell}`)
    }
    check({htype: 'generic', dtype: 'i32'}, ' 42 ', 42)
    check({htype: 'generic', dtype: 'i64'}, '9223372036854775807', 9223372036854775807n)
    check({htype: 'generic', dtype: 'u64'}, '18446744073709551615', 18446744073709551615n)
    check({htype: 'generic', dtype: 'f64'}, '1e3', 1000)
    check({htype: 'generic', dtype: 'f64'}, '', NaN)
    check({htype: 'generic', dtype: 'f32'}, '-Infinity', -Infinity)
    check({htype: 'generic', dtype: 'bool'}, 'TRUE', true)
    check({htype: 'generic', dtype: 'bool'}, '0', false)
    check({htype: 'embedding'}, '[0.5, 1, "NaN"]', [0.5, 1, NaN])
    check({htype: 'bbox', dtype: 'i32'}, '[[1,2,3,4]]', [[1, 2, 3, 4]])
    check({htype: 'text'}, ' as is ', ' as is ')
    check({htype: 'json'}, '{"a": [1, null]}', {a: [1, null]})
    check({htype: 'class_label', classNames: ['cat', 'dog']}, 'dog', 1)
    check({htype: 'class_label', classNames: ['cat', 'dog']}, '0', 0)
    check({htype: 'class_label', classNames: ['1', '0']}, '0', 1)
    check({htype: 'class_label'}, '3', 3)
    check({htype: 'binary'}, 'AQID', Uint8Array.from([1, 2, 3]))
  })

  it('names tensor, index, file and line when a cell does not fit', () => {
    const bad: [object, string, string][] = [
      [{htype: 'generic', dtype: 'i32'}, '1.5', 'expected an integer (dtype i32), got "1.5"'],
      [{htype: 'generic', dtype: 'i32'}, '', 'got ""'],
      [{htype: 'generic', dtype: 'f32'}, 'abc', 'expected a number (dtype f32)'],
      [{htype: 'generic', dtype: 'bool'}, 'yes', 'true, false, 1 or 0'],
      [{htype: 'json'}, '{oops', 'JSON text'],
      [{htype: 'embedding'}, '[1, 2', 'JSON array'],
      [{htype: 'binary'}, 'not base64!', 'base64'],
    ]
    for (const [opts, cell, mention] of bad) {
      const meta = createTensorMeta('c', opts as {htype: string})
      throwsCode(() => parseCell(meta, cell, where), 'INVALID_VALUE', "tensor 'c' sample 4 (data.csv line 6)", mention)
    }
    // a parsed cell that is out of range is caught by the encoder, with the same naming
    const u8 = createTensorMeta('c', {htype: 'generic', dtype: 'u8'})
    throwsCode(() => encodeSample(u8, parseCell(u8, '300', where), where), 'INVALID_VALUE', "tensor 'c' sample 4 (data.csv line 6)", '0..255')
    // an unknown class name comes through as a string for the importer to add (or refuse)
    const labels = createTensorMeta('c', {htype: 'class_label', classNames: ['cat']})
    assert.equal(parseCell(labels, 'dog', where), 'dog')
  })
})

describe('format/infer: JSONL keys', () => {
  it('picks htype, dtype and rank from the values', () => {
    const cases: [unknown[], object][] = [
      [[1, 2, -3], {htype: 'generic', dtype: 'i32'}],
      [[1, 2 ** 40], {htype: 'generic', dtype: 'i64'}],
      [[1, 1e20], {htype: 'generic', dtype: 'f64'}],
      [[1, 2.5], {htype: 'generic', dtype: 'f64'}],
      [[1, null, undefined], {htype: 'generic', dtype: 'f64'}],
      [[true, false], {htype: 'generic', dtype: 'bool'}],
      [['a', 'b'], {htype: 'text', dtype: 'str'}],
      [['a', null], {htype: 'json', dtype: 'str'}],
      [[{a: 1}, {b: 2}], {htype: 'json', dtype: 'str'}],
      [['a', 1], {htype: 'json', dtype: 'str'}],
      [[null, null], {htype: 'json', dtype: 'str'}],
      [[[1, 2], [3]], {htype: 'generic', dtype: 'i32', rank: 1}],
      [[[0.5, 2], []], {htype: 'generic', dtype: 'f64', rank: 1}],
      [[[[1, 2]], [[3, 4], [5, 6]]], {htype: 'generic', dtype: 'i32', rank: 2}],
      [[[true], [false, true]], {htype: 'generic', dtype: 'bool', rank: 1}],
      [[[1, 2], [[3]]], {htype: 'json', dtype: 'str'}],
      [[[[1, 2], [3]]], {htype: 'json', dtype: 'str'}],
      [[[1, 'a']], {htype: 'json', dtype: 'str'}],
      [[[1, true]], {htype: 'json', dtype: 'str'}],
      [[[1], null], {htype: 'json', dtype: 'str'}],
    ]
    for (const [values, spec] of cases) assert.deepEqual(inferJsonKey(values), spec, JSON.stringify(values))
  })

  it('inferred specs accept the values they came from', () => {
    const columns: unknown[][] = [[1, null], [[1, 2], [3]], ['a', null], [{a: 1}, [2]], [true], [2 ** 40, 1]]
    columns.forEach((values, c) => {
      const meta = createTensorMeta(`k${c}`, inferJsonKey(values))
      values.forEach((v, index) => encodeSample(meta, valueFromJson(meta, v, {index}), {index}))
    })
  })
})
