// sameEncoding(a, b) must answer exactly what comparing encode(a) with encode(b) answers (version
// roots refuse a tensor meta that is not canonical by it), for plain JSON trees, which it compares
// without encoding, and for everything else, which it leaves to the encoder.
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {encode, sameEncoding} from '../../src/core/codec.js'

const byBytes = (a: unknown, b: unknown) => encode(a).equals(encode(b))

// values that often coincide: small pools of keys, strings and numbers, -0, NaN, lone surrogates,
// undefined, bigints and bytes among plain values
const leaf = fc.oneof(
  fc.constantFrom(null, true, false, 0, -0, 1, 1.5, -7, 2 ** 32, 2 ** 53, Infinity, NaN, '', 'a', 'b', '\uD800', '\uD801', 'é', undefined, 5n, 2n ** 64n - 1n),
  fc.constantFrom(new Uint8Array([1]), new Uint8Array([1]), new Uint8Array(0)),
  fc.integer(),
  fc.string({maxLength: 3}),
)
const tree = fc.letrec((tie) => ({
  value: fc.oneof({depthSize: 'small'}, leaf, fc.array(tie('value'), {maxLength: 3}), fc.dictionary(fc.constantFrom('a', 'b', 'c', '1', '0'), tie('value'), {maxKeys: 3})),
})).value

describe('sameEncoding', () => {
  it('agrees with comparing the encodings, on random trees and on near-copies of them', () => {
    fc.assert(
      fc.property(tree, tree, (a, b) => {
        assert.equal(sameEncoding(a, b), byBytes(a, b))
        const copy = structuredClone(a)
        assert.equal(sameEncoding(a, copy), byBytes(a, copy))
      }),
      {numRuns: 3000},
    )
  })

  it('decides the usual cases as the bytes do', () => {
    const meta = {name: 'label', htype: 'class_label', dtype: 'i32', classNames: ['cat', 'dog'], maxChunkBytes: 4194304}
    assert.equal(sameEncoding(meta, structuredClone(meta)), true)
    assert.equal(sameEncoding(meta, {...meta, classNames: ['dog', 'cat']}), false)
    assert.equal(sameEncoding({a: 1, b: 2}, {b: 2, a: 1}), false, 'key order is part of the encoding')
    assert.equal(sameEncoding(0, -0), true)
    assert.equal(sameEncoding({a: undefined}, {a: undefined}), byBytes({a: undefined}, {a: undefined}))
    assert.equal(sameEncoding('\uD800', '\uD801'), byBytes('\uD800', '\uD801'))
    assert.equal(sameEncoding([NaN], [NaN]), byBytes([NaN], [NaN]))
  })
})
