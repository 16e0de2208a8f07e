import assert from 'node:assert/strict'
import {encode, decode} from '../../src/core/codec.js'
import {
  createTensorMeta, withClassNames, classIndex, parseTensorMeta, DEFAULT_MAX_CHUNK_BYTES, HTYPES,
} from '../../src/core/format/index.js'
import {throwsCode} from './helpers.js'

describe('format/tensor-meta', () => {
  it('fills the documented defaults per htype', () => {
    const expected = {
      generic: ['f32', 'none', 'lz4'],
      class_label: ['i32', 'none', 'lz4'],
      text: ['str', 'none', 'lz4'],
      json: ['str', 'none', 'lz4'],
      image: ['u8', 'none', 'none'],
      bbox: ['f32', 'none', 'lz4'],
      embedding: ['f32', 'none', 'lz4'],
      binary: ['u8', 'none', 'none'],
    }
    for (const htype of HTYPES) {
      const m = createTensorMeta('t', {htype})
      assert.deepEqual([m.dtype, m.sampleCompression, m.chunkCompression], expected[htype], htype)
      assert.equal(m.maxChunkBytes, DEFAULT_MAX_CHUNK_BYTES)
    }
  })

  it('keeps a fixed field order with no undefined fields, so equal metas hash equal', () => {
    const a = createTensorMeta('labels', {htype: 'class_label', classNames: ['cat'], maxChunkBytes: 1000, dtype: 'u8'})
    const b = createTensorMeta('labels', {dtype: 'u8', maxChunkBytes: 1000, classNames: ['cat'], htype: 'class_label'})
    assert.deepEqual(encode(a), encode(b))
    assert.deepEqual(Object.keys(a), ['name', 'htype', 'dtype', 'classNames', 'sampleCompression', 'chunkCompression', 'maxChunkBytes'])
    assert.ok(!('classNames' in createTensorMeta('x', {htype: 'text'})))
  })

  it('accepts valid combinations', () => {
    assert.equal(createTensorMeta('images', {htype: 'image', sampleCompression: 'jpeg'}).sampleCompression, 'jpeg')
    assert.equal(createTensorMeta('x.y-z_1', {htype: 'generic', dtype: 'bool', rank: 2}).rank, 2)
    assert.equal(createTensorMeta('e', {htype: 'embedding', dtype: 'f64'}).dtype, 'f64')
    assert.equal(createTensorMeta('l', {htype: 'class_label', dtype: 'u64'}).dtype, 'u64')
    assert.equal(createTensorMeta('b', {htype: 'bbox', dtype: 'i32', chunkCompression: 'none'}).chunkCompression, 'none')
    assert.equal(createTensorMeta('_id', {htype: 'generic', dtype: 'u64', allowReserved: true}).name, '_id')
  })

  it('refuses bad names, naming the name', () => {
    for (const name of ['', '1abc', 'a b', 'a/b', 'x'.repeat(129), 'é']) {
      throwsCode(() => createTensorMeta(name, {htype: 'text'}), 'INVALID_TENSOR_SPEC', JSON.stringify(name))
    }
    const e = throwsCode(() => createTensorMeta('_hidden', {htype: 'text'}), 'INVALID_TENSOR_SPEC', "'_hidden'", 'reserved')
    assert.ok(e.hint)
    createTensorMeta('x'.repeat(128), {htype: 'text'})
  })

  it('refuses bad specs with a hint listing the valid values', () => {
    let e = throwsCode(() => createTensorMeta('t', {htype: 'picture'}), 'INVALID_TENSOR_SPEC', "'t'", '"picture"')
    assert.match(e.hint!, /generic, class_label, text, json, image, bbox, embedding, binary/)
    e = throwsCode(() => createTensorMeta('t', {htype: 'text', dtype: 'f32'}), 'INVALID_TENSOR_SPEC', 'text', 'f32')
    assert.match(e.hint!, /str/)
    e = throwsCode(() => createTensorMeta('t', {htype: 'generic', dtype: 'float'}), 'INVALID_TENSOR_SPEC', '"float"')
    assert.match(e.hint!, /u8, u16/)
    throwsCode(() => createTensorMeta('t', {htype: 'generic', dtype: 'str'}), 'INVALID_TENSOR_SPEC', 'generic')
    throwsCode(() => createTensorMeta('t', {htype: 'class_label', dtype: 'f32'}), 'INVALID_TENSOR_SPEC', 'class_label')
    throwsCode(() => createTensorMeta('t', {htype: 'image', dtype: 'f32'}), 'INVALID_TENSOR_SPEC', 'image')
    throwsCode(() => createTensorMeta('t', {htype: 'embedding', dtype: 'bool'}), 'INVALID_TENSOR_SPEC', 'embedding')
    e = throwsCode(() => createTensorMeta('t', {htype: 'text', sampleCompression: 'jpeg'}), 'INVALID_TENSOR_SPEC', 'jpeg')
    assert.match(e.hint!, /none/)
    e = throwsCode(() => createTensorMeta('t', {htype: 'image', sampleCompression: 'gif'}), 'INVALID_TENSOR_SPEC', 'gif')
    assert.match(e.hint!, /none, jpeg, png/)
    throwsCode(() => createTensorMeta('t', {htype: 'text', chunkCompression: 'zstd'}), 'INVALID_TENSOR_SPEC', 'zstd')
    for (const maxChunkBytes of [0, -1, 1.5, NaN, 2 ** 31]) {
      throwsCode(() => createTensorMeta('t', {htype: 'text', maxChunkBytes}), 'INVALID_TENSOR_SPEC', 'maxChunkBytes')
    }
    throwsCode(() => createTensorMeta('t', {htype: 'text', classNames: ['a']}), 'INVALID_TENSOR_SPEC', 'class_label')
    throwsCode(() => createTensorMeta('t', {htype: 'class_label', classNames: ['a', 'a']}), 'INVALID_TENSOR_SPEC', '"a"')
    throwsCode(() => createTensorMeta('t', {htype: 'class_label', classNames: ['']}), 'INVALID_TENSOR_SPEC', 'class name 0')
    throwsCode(() => createTensorMeta('t', {htype: 'class_label', classNames: [3 as unknown as string]}), 'INVALID_TENSOR_SPEC', 'class name 0')
    throwsCode(() => createTensorMeta('t', {htype: 'embedding', rank: 2}), 'INVALID_TENSOR_SPEC', 'rank')
    throwsCode(() => createTensorMeta('t', {htype: 'generic', rank: 256}), 'INVALID_TENSOR_SPEC', 'rank')
  })

  it('appends class names without renumbering existing ones', () => {
    const m = createTensorMeta('labels', {htype: 'class_label', classNames: ['cat', 'dog']})
    const m2 = withClassNames(m, ['dog', 'bird', 'ant', 'bird'])
    assert.deepEqual(m2.classNames, ['cat', 'dog', 'bird', 'ant'])
    assert.deepEqual(m.classNames, ['cat', 'dog'], 'the original is unchanged')
    assert.equal(classIndex(m2, 'bird'), 2)
    assert.equal(classIndex(m2, 'cow'), undefined)
    assert.deepEqual(withClassNames(createTensorMeta('l', {htype: 'class_label'}), ['x']).classNames, ['x'])
    throwsCode(() => withClassNames(createTensorMeta('t', {htype: 'text'}), ['x']), 'INVALID_TENSOR_SPEC', "'t'")
  })

  it('parses a stored meta back, refusing damage and fields from a newer writer', () => {
    const m = createTensorMeta('labels', {htype: 'class_label', classNames: ['cat']})
    assert.deepEqual(parseTensorMeta(decode(encode(m))), m)
    assert.deepEqual(parseTensorMeta(createTensorMeta('_id', {htype: 'generic', dtype: 'u64', allowReserved: true})).name, '_id')
    throwsCode(() => parseTensorMeta(null, 'meta abc'), 'CORRUPT_OBJECT', 'meta abc')
    throwsCode(() => parseTensorMeta({...m, htype: 'nope'}, 'meta abc'), 'CORRUPT_OBJECT', 'meta abc', 'nope')
    throwsCode(() => parseTensorMeta({...m, tiling: true}), 'FORMAT_VERSION', 'tiling')
  })
})
