import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'
import fc from 'fast-check'
import {LakeError} from '../../src/core/errors.js'
import {decodeNpyHeader, encodeNpyHeader} from '../../src/core/io/npy-header.js'
import {parsePyLiteral, PyLiteralError, type PyValue} from '../../src/core/io/py-literal.js'
import {put, rejectsLake, useTempDir} from './helpers.js'
import {readNpyHeader} from '../../src/core/io/npy.js'

const F32_FIXTURE = fileURLToPath(new URL('./fixtures/npy/f32_2x3.npy', import.meta.url))

/** A header file: preamble for `version` + `text`, followed by `dataBytes` zero bytes. */
function npyWith(text: string, dataBytes = 0, version = 1): Buffer {
  const header = Buffer.from(text, version === 3 ? 'utf8' : 'latin1')
  const lengthBytes = version === 1 ? 2 : 4
  const out = Buffer.alloc(8 + lengthBytes + header.length + dataBytes)
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0])
  if (version === 1) out.writeUInt16LE(header.length, 8)
  else out.writeUInt32LE(header.length, 8)
  out.set(header, 8 + lengthBytes)
  return out
}

function decode(bytes: Buffer) {
  return decodeNpyHeader(bytes, 'x.npy', bytes.length)
}

describe('io/npy header', () => {
  const tmp = useTempDir()

  describe('the Python literal parser', () => {
    it('parses dicts, tuples, lists, strings, ints, bools and None', () => {
      const value = parsePyLiteral(`{'a': (1, -2, 3L), "b": [True, False, None], u'c': (), 'd': (7,), 'e': (8), }`)
      const expected: PyValue = {kind: 'dict', entries: [
        [{kind: 'str', value: 'a'}, {kind: 'tuple', items: [{kind: 'int', value: 1n}, {kind: 'int', value: -2n}, {kind: 'int', value: 3n}]}],
        [{kind: 'str', value: 'b'}, {kind: 'list', items: [{kind: 'bool', value: true}, {kind: 'bool', value: false}, {kind: 'none'}]}],
        [{kind: 'str', value: 'c'}, {kind: 'tuple', items: []}],
        [{kind: 'str', value: 'd'}, {kind: 'tuple', items: [{kind: 'int', value: 7n}]}],
        [{kind: 'str', value: 'e'}, {kind: 'int', value: 8n}],
      ]}
      assert.deepEqual(value, expected)
    })

    it('decodes string escapes', () => {
      assert.deepEqual(parsePyLiteral(`'a\\'b\\\\c\\x41\\u00e9\\n\\q'`), {kind: 'str', value: 'a\'b\\cAé\n\\q'})
    })

    for (const bad of ['', '{', "{'a' 1}", "{'a': }", '(1 2)', "'open", '1.5', '0x10', 'true', '{}}', '((((', '-', "{'a': 1,,}", '@']) {
      it(`refuses ${JSON.stringify(bad)} with PyLiteralError`, () => {
        assert.throws(() => parsePyLiteral(bad), PyLiteralError)
      })
    }

    it('refuses deep nesting without overflowing the stack', () => {
      assert.throws(() => parsePyLiteral('('.repeat(100000)), PyLiteralError)
      assert.throws(() => parsePyLiteral('['.repeat(100) + ']'.repeat(100)), PyLiteralError)
    })

    it('never throws anything but PyLiteralError (fuzz)', () => {
      const piece = fc.oneof(
        fc.constantFrom('{', '}', '(', ')', '[', ']', ':', ',', ' ', "'", '"', '\\', 'True', 'False', 'None', 'L', 'u', '-', '1', '\n', "'descr'", "'<f4'"),
        fc.string({maxLength: 4}),
      )
      fc.assert(fc.property(fc.array(piece, {maxLength: 40}), (pieces) => {
        try {
          parsePyLiteral(pieces.join(''))
        } catch (err) {
          assert.ok(err instanceof PyLiteralError, String(err))
        }
      }), {numRuns: 3000})
    })
  })

  describe('decoding', () => {
    it('matches what numpy wrote', async () => {
      const header = decode(await readFile(F32_FIXTURE))
      assert.deepEqual({dtype: header.dtype, shape: header.shape, dataOffset: header.dataOffset}, {dtype: 'f32', shape: [2, 3], dataOffset: 128})
    })

    it('accepts key order, spacing, Python 2 longs, and no trailing newline', () => {
      const header = decode(npyWith(`{ 'shape':(2L,3L),'fortran_order':False,'descr':'<i2'}`, 12))
      assert.deepEqual([header.dtype, header.shape], ['i16', [2, 3]])
    })

    it('reads a 3.0 header holding UTF-8', () => {
      assert.equal(decode(npyWith(`{'descr': '<u2', 'fortran_order': False, 'shape': (1,), } `, 2, 3)).dtype, 'u16')
      assert.throws(() => decode(Buffer.concat([npyWith('{', 0, 3).subarray(0, 12), Buffer.from([0xff])])), LakeError)
    })

    const cases: Array<[string, string, number?]> = [
      [`{'descr': '<f4', 'fortran_order': False}`, 'expected'],
      [`{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}`, 'expected'],
      [`{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}`, 'fortran_order'],
      [`{'descr': '<f4', 'fortran_order': False, 'shape': [2]}`, 'shape'],
      [`{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}`, 'shape'],
      [`{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}`, 'shape'],
      [`{'descr': 4, 'fortran_order': False, 'shape': (2,)}`, 'descr'],
      [`{'descr': '<x9', 'fortran_order': False, 'shape': (2,)}`, "'<x9'"],
      [`{'descr': '', 'fortran_order': False, 'shape': (2,)}`, "''"],
      [`{1: '<f4'}`, 'keys'],
      [`[1, 2]`, 'not a dict'],
      [`{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} junk`, 'after'],
    ]
    for (const [text, part] of cases) {
      it(`refuses ${text}`, () => {
        try {
          decode(npyWith(text, 8))
          assert.fail('accepted')
        } catch (err) {
          assert.ok(err instanceof LakeError, String(err))
          assert.equal(err.code, 'BAD_INPUT_FILE')
          assert.ok(err.message.startsWith('x.npy: '), err.message)
          assert.ok(err.message.includes(part), err.message)
        }
      })
    }

    it('refuses a header longer than the cap without reading it', async () => {
      const bytes = Buffer.alloc(16)
      bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0])
      bytes.writeUInt32LE(0xfffffff0, 8)
      await rejectsLake(readNpyHeader(await put(tmp(), 'huge.npy', bytes)), 'BAD_INPUT_FILE', 'huge.npy', 'larger than')
    })

    it('random bytes only ever fail with a LakeError (fuzz)', () => {
      const preamble = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])
      const input = fc.oneof(
        fc.uint8Array({maxLength: 200}),
        // Plausible preamble, random rest: gets past the magic check.
        fc.tuple(fc.constantFrom(1, 2, 3), fc.uint8Array({maxLength: 200})).map(([v, rest]) => {
          const out = Buffer.concat([preamble, Buffer.from([v, 0]), Buffer.from(rest)])
          if (out.length >= 10) out.writeUInt16LE(Math.min(rest.length, 0xffff), 8)
          if (v > 1 && out.length >= 12) out.writeUInt32LE(Math.max(0, rest.length - 2), 8)
          return new Uint8Array(out)
        }),
      )
      fc.assert(fc.property(input, fc.nat({max: 400}), (bytes, fileSize) => {
        try {
          decodeNpyHeader(bytes, 'fuzz.npy', fileSize)
        } catch (err) {
          assert.ok(err instanceof LakeError, String(err))
        }
      }), {numRuns: 3000})
    })

    it('mutated real headers only ever fail with a LakeError (fuzz)', async () => {
      const original = new Uint8Array(await readFile(F32_FIXTURE))
      fc.assert(fc.property(fc.array(fc.tuple(fc.nat({max: original.length - 1}), fc.integer({min: 0, max: 255})), {minLength: 1, maxLength: 6}), (edits) => {
        const bytes = original.slice()
        for (const [at, value] of edits) bytes[at] = value
        try {
          decodeNpyHeader(bytes, 'fuzz.npy', bytes.length)
        } catch (err) {
          assert.ok(err instanceof LakeError, String(err))
          assert.ok(err.message.includes('fuzz.npy'))
        }
      }), {numRuns: 3000})
    })

    it('structured header text only ever fails with a LakeError (fuzz)', () => {
      const piece = fc.constantFrom('{', '}', '(', ')', '[', ']', ':', ',', ' ', "'descr'", "'shape'", "'fortran_order'",
        "'<f4'", "'>i8'", "'|b1'", "'<U3'", 'True', 'False', 'None', '0', '3', '-1', '99999999999999999999', "'", 'L', '\\')
      fc.assert(fc.property(fc.array(piece, {maxLength: 30}), fc.nat({max: 64}), (pieces, dataBytes) => {
        try {
          decode(npyWith(pieces.join(''), dataBytes))
        } catch (err) {
          assert.ok(err instanceof LakeError, String(err))
        }
      }), {numRuns: 3000})
    })
  })

  describe('encoding', () => {
    it('pads to 64 bytes with the spare space numpy leaves, and decodes back', () => {
      for (const shape of [[], [0], [5], [2, 3], [123456789, 1, 1, 1, 1, 1, 1]]) {
        const bytes = encodeNpyHeader('i32', shape)
        assert.equal(bytes.length % 64, 0)
        assert.equal(bytes[bytes.length - 1], 0x0a)
        const count = shape.reduce((a, b) => a * b, 1)
        const header = decodeNpyHeader(bytes, 'e.npy', bytes.length + count * 4)
        assert.deepEqual(header.shape, shape)
        assert.equal(header.dataOffset, bytes.length)
      }
    })
  })
})
