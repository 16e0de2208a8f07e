// Generators of hostile input files for `lake add`: CSV, JSONL and NPY files built from pieces
// that stress each parser (quotes, delimiters, line endings, BOMs, invalid UTF-8, huge numbers,
// lone surrogates, prototype keys, lying NPY headers, truncation), and PNG/JPEG files whose
// headers lie. Valid pieces are mixed in so that parsing gets past the first line.
import {crc32} from 'node:zlib'
import fc from 'fast-check'
import {encodeNpyHeader} from '../../../src/core/io/npy-header.js'
import {ITEM_SIZE, type NumericDtype} from '../../../src/core/io/dtype.js'

/** null three times out of four, else a value of `arb`: damage that does not hide every other path. */
const rarely = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.oneof({weight: 3, arbitrary: fc.constant(null)}, {weight: 1, arbitrary: arb})

const enc = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'))
const concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts))

/** Column names: the seed dataset's tensors (typed), new ones, and names that cannot be tensors. */
export const COLUMN_NAMES = ['id', 'name', 'label', 'emb', 'flag', 'big', 'doc', 'fresh', '__proto__', 'constructor', 'toString', '', ' ', 'a,b', 'a"b', 'é', '_hidden', '1abc', 'x'.repeat(200), 'tab\there', 'nl\nx']

const cell = fc.oneof(
  fc.constantFrom('1', '-1', '0', '1.5', '-0', '1e400', 'NaN', 'Infinity', 'true', 'false', 'True', '', ' ', 'cat', 'dog', 'bird',
    '[1,2,3]', '[1,2]', '[[1]]', '[]', '{"a":1}', '9007199254740993', '-9223372036854775809', '18446744073709551615', '0x10', '1_000', '\u0000',
    '"quoted, with comma"', '"with ""quote"""', '"multi\nline"', '"unterminated', 'stray"quote', '"a"b', '\ud800', '💥', 'null'),
  fc.string({maxLength: 12}),
  fc.integer().map(String),
  fc.double().map(String),
)

/** A CSV file: a header, rows, a delimiter, line endings, maybe a BOM, maybe raw damage. */
const hostileCsv: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.uniqueArray(fc.constantFrom(...COLUMN_NAMES), {minLength: 1, maxLength: 4}),
  fc.array(fc.array(cell, {minLength: 0, maxLength: 5}), {maxLength: 6}),
  fc.constantFrom(',', ',', ',', ';', '\t'),
  fc.constantFrom('\n', '\r\n', '\r', '\n\n'),
  fc.boolean(),
  rarely(fc.tuple(fc.nat(), fc.constantFrom(0xff, 0xc3, 0x00, 0x22, 0x0a))),
).map(([header, rows, delim, eol, bom, damage]) => {
  const text = [header.join(delim), ...rows.map((r) => r.join(delim))].join(eol) + (rows.length % 2 ? eol : '')
  const bytes = concat([bom ? new Uint8Array([0xef, 0xbb, 0xbf]) : new Uint8Array(0), enc(text)])
  if (damage && bytes.length > 0) bytes[damage[0] % bytes.length] = damage[1]
  return bytes
})

const quoteCsv = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)

/** Well-formed CSV into text or new columns: these must stage (the parser's happy paths). */
const plainCsv: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.uniqueArray(fc.constantFrom('name', 'fresh', 'other', 'id'), {minLength: 1, maxLength: 3}),
  fc.array(fc.tuple(fc.string({maxLength: 10}), fc.integer({min: -1000, max: 1000}), fc.double({noNaN: true})), {minLength: 1, maxLength: 5}),
).map(([header, rows]) => enc([header.join(','), ...rows.map(([s, i, d]) => header.map((h) => (h === 'id' ? String(i) : h === 'other' ? String(d) : quoteCsv(s))).join(','))].join('\n') + '\n'))

export const csvFile: fc.Arbitrary<Uint8Array> = fc.oneof({weight: 2, arbitrary: plainCsv}, {weight: 3, arbitrary: hostileCsv})

const jsonScalar = fc.oneof(
  fc.jsonValue({maxDepth: 2}),
  fc.constantFrom('cat', 'dog', 'bird', [1, 2, 3], [1, 2], [[1, 2]], [], {}, 1.5, -1, true, null, '\ud800x', 'x'.repeat(100)),
)
const jsonKey = fc.oneof(fc.constantFrom(...COLUMN_NAMES), fc.string({maxLength: 6}))

/** A JSONL line: an object (maybe with a raw big number or a duplicate key), or not an object. */
const jsonlLine = fc.oneof(
  {weight: 6, arbitrary: fc.dictionary(jsonKey, jsonScalar, {maxKeys: 4}).map((o) => JSON.stringify(o))},
  {weight: 1, arbitrary: fc.constantFrom('{"id": 9007199254740993}', '{"big": -9223372036854775809}', '{"id": 1, "id": "x"}', '{"__proto__": {"id": 1}}',
    '{"name": "\\ud800"}', '{"emb": [1, "x"]}', '{"doc": {"a": [1, {"b": null}]}}', '{"id": 1e999}', '{"label": 5}', '{"label": -1}')},
  {weight: 1, arbitrary: fc.constantFrom('', '   ', '[1,2]', '"text"', '42', 'null', '{', '{"a":}', 'not json', '{"a":1}{"b":2}', '\u0000')},
  {weight: 1, arbitrary: fc.string({maxLength: 20})},
)

const hostileJsonl: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.array(jsonlLine, {minLength: 1, maxLength: 6}),
  fc.constantFrom('\n', '\r\n'),
  fc.boolean(),
  rarely(fc.tuple(fc.nat(), fc.constantFrom(0xff, 0xc3, 0x80, 0x0a))),
).map(([lines, eol, bom, damage]) => {
  const bytes = concat([bom ? new Uint8Array([0xef, 0xbb, 0xbf]) : new Uint8Array(0), enc(lines.join(eol))])
  if (damage && bytes.length > 0) bytes[damage[0] % bytes.length] = damage[1]
  return bytes
})

/** Well-formed JSONL into text, json and new keys. */
const plainJsonl: fc.Arbitrary<Uint8Array> = fc.array(
  fc.record({name: fc.string({maxLength: 10}), doc: fc.jsonValue({maxDepth: 2}), fresh: fc.integer()}, {requiredKeys: []}),
  {minLength: 1, maxLength: 5},
).map((rows) => enc(rows.map((r) => JSON.stringify(r)).join('\n') + '\n'))

export const jsonlFile: fc.Arbitrary<Uint8Array> = fc.oneof({weight: 2, arbitrary: plainJsonl}, {weight: 3, arbitrary: hostileJsonl})

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]
const ITEM: Record<string, number> = {b1: 1, u1: 1, i1: 1, u2: 2, i2: 2, f2: 2, u4: 4, i4: 4, f4: 4, u8: 8, i8: 8, f8: 8, c8: 8}

const descr = fc.oneof(
  {weight: 3, arbitrary: fc.constantFrom("'<f4'", "'<f8'", "'|u1'", "'|b1'", "'>i4'")},
  fc.tuple(fc.constantFrom('<', '>', '|', '=', ''), fc.constantFrom('f4', 'f8', 'i8', 'u1', 'b1', 'i2', 'u8', 'f2', 'c8', 'U8', 'O', 'S3', 'M8', 'V4', 'x', '')).map(([o, c]) => `'${o}${c}'`),
  fc.constantFrom("[('a', '<f4')]", '5', 'None', "'<f4' '<f4'", "b'<f4'", "u'<f4'"),
)
const dim = fc.oneof(fc.integer({min: 0, max: 4}), fc.constantFrom(-1, 2 ** 31, 2 ** 53, 2 ** 64, 10 ** 30))
const shapeText = fc.oneof(
  {weight: 3, arbitrary: fc.tuple(fc.integer({min: 0, max: 3}), fc.integer({min: 1, max: 3})).map(([a, b]) => `(${a}, ${b})`)},
  fc.array(dim, {maxLength: 3}).map((d) => (d.length === 1 ? `(${d[0]},)` : `(${d.join(', ')})`)),
  fc.constantFrom('[2, 3]', '(2 3)', '(1.5,)', "('a',)", '((2,),)', '(', '()', '(2,)'),
)

/** An NPY file: a header dict (maybe lying) after a preamble (maybe lying), then some data bytes. */
const hostileNpy: fc.Arbitrary<Uint8Array> = fc.tuple(
  descr,
  fc.constantFrom('False', 'False', 'False', 'True', '0', 'None'),
  shapeText,
  fc.constantFrom('', '', '', ", 'extra': 1", ", 'shape': (1,)"),
  fc.constantFrom(1, 1, 1, 2, 3, 0, 4),
  fc.constantFrom(0, 0, 0, 0, 0, 1, -1, 1000),
  fc.oneof({weight: 3, arbitrary: fc.constantFrom('exact', 'exact', 'exact', 'short', 'long')}, fc.nat({max: 64})),
  fc.uint8Array({minLength: 64, maxLength: 64}),
).map(([d, fortran, shape, extra, version, lengthLie, dataSize, noise]) => {
  const text = `{'descr': ${d}, 'fortran_order': ${fortran}, 'shape': ${shape}${extra}, }`.padEnd(118, ' ') + '\n'
  const header = Buffer.from(text, 'latin1')
  const lengthBytes = version === 1 ? 2 : 4
  const pre = Buffer.alloc(8 + lengthBytes)
  pre.set([...NPY_MAGIC, version, 0])
  const claimed = Math.max(0, header.length + lengthLie)
  if (lengthBytes === 2) pre.writeUInt16LE(Math.min(claimed, 0xffff), 8)
  else pre.writeUInt32LE(claimed, 8)
  const dims = /^\(([\d, ]*)\)$/.exec(shape)?.[1].split(',').filter((s) => s.trim() !== '').map(Number) ?? [1]
  const code = /'[<>|=]?([a-zA-Z]\d*)'/.exec(d)?.[1] ?? 'f4'
  const exact = dims.reduce((n, x) => n * x, 1) * (ITEM[code] ?? 4)
  const size = typeof dataSize === 'number' ? dataSize : !Number.isSafeInteger(exact) || exact > 4096 ? 16 : dataSize === 'exact' ? exact : dataSize === 'short' ? Math.max(0, exact - 1) : exact + 3
  const data = Buffer.alloc(size)
  for (let i = 0; i < size; i++) data[i] = noise[i % noise.length]
  return concat([pre, header, data])
})

/** A well-formed array, as numpy.save writes it. */
const plainNpy: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.constantFrom<NumericDtype>('f32', 'f64', 'u8', 'bool', 'i64', 'i32'),
  fc.integer({min: 0, max: 4}),
  fc.array(fc.integer({min: 1, max: 3}), {maxLength: 2}),
  fc.uint8Array({minLength: 8, maxLength: 8}),
).map(([dtype, rows, rest, noise]) => {
  const shape = [rows, ...rest]
  const size = shape.reduce((n, d) => n * d, 1) * ITEM_SIZE[dtype]
  // bool bytes must be 0 or 1; floats may be NaN: both are values a user can save
  const data = Uint8Array.from({length: size}, (_, i) => (dtype === 'bool' ? noise[i % 8] & 1 : noise[i % 8]))
  return concat([encodeNpyHeader(dtype, shape), data])
})

export const npyFile: fc.Arbitrary<Uint8Array> = fc.oneof({weight: 2, arbitrary: plainNpy}, {weight: 3, arbitrary: hostileNpy})

// --- images whose headers lie ---------------------------------------------------------------

function pngChunk(type: string, data: Uint8Array, badCrc = false): Uint8Array {
  const out = Buffer.alloc(12 + data.length)
  out.writeUInt32BE(data.length, 0)
  out.write(type, 4, 'latin1')
  out.set(data, 8)
  const crc = crc32(out.subarray(4, 8 + data.length)) >>> 0
  out.writeUInt32BE((badCrc ? crc ^ 1 : crc) >>> 0, 8 + data.length)
  return out
}

/** A PNG whose IHDR fields, chunk lengths, CRCs or ending may lie. */
export const pngFile: fc.Arbitrary<Uint8Array> = fc.record({
  width: fc.oneof({weight: 4, arbitrary: fc.integer({min: 1, max: 4})}, fc.constantFrom(0, 2 ** 31, 2 ** 32 - 1, 65535)),
  height: fc.oneof({weight: 4, arbitrary: fc.integer({min: 1, max: 4})}, fc.constantFrom(0, 2 ** 31, 100000)),
  depth: fc.constantFrom(8, 8, 8, 16, 1, 3, 0),
  color: fc.constantFrom(0, 2, 2, 6, 3, 5),
  interlace: fc.constantFrom(0, 0, 1, 2),
  badCrc: fc.oneof({weight: 4, arbitrary: fc.constant(false)}, fc.constant(true)),
  plte: fc.boolean(),
  idat: fc.oneof(fc.uint8Array({maxLength: 20}), fc.constant(new Uint8Array([0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]))),
  iend: fc.oneof({weight: 4, arbitrary: fc.constant(true)}, fc.constant(false)),
  cut: rarely(fc.nat()),
}).map((p) => {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(p.width >>> 0, 0)
  ihdr.writeUInt32BE(p.height >>> 0, 4)
  ihdr.set([p.depth, p.color, 0, 0, p.interlace], 8)
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr, p.badCrc && p.cut === null)]
  if (p.plte) parts.push(pngChunk('PLTE', new Uint8Array([0, 0, 0])))
  parts.push(pngChunk('IDAT', p.idat))
  if (p.iend) parts.push(pngChunk('IEND', new Uint8Array(0)))
  const bytes = concat(parts)
  return p.cut === null ? bytes : bytes.slice(0, p.cut % (bytes.length + 1))
})

/** A JPEG whose frame header, segment lengths or end marker may lie. */
export const jpegFile: fc.Arbitrary<Uint8Array> = fc.record({
  sof: fc.constantFrom(0xc0, 0xc0, 0xc2, 0xc4, 0xc8, 0xcf),
  precision: fc.constantFrom(8, 8, 8, 12, 16, 7),
  width: fc.constantFrom(1, 3, 3, 0, 65535),
  height: fc.constantFrom(1, 2, 2, 0, 65535),
  components: fc.constantFrom(1, 3, 3, 4, 0, 5),
  lengthLie: fc.constantFrom(0, 0, 0, 0, 0, 1, -1, 100, -20),
  app: fc.boolean(),
  sos: fc.oneof({weight: 4, arbitrary: fc.constant(true)}, fc.constant(false)),
  eoi: fc.oneof({weight: 4, arbitrary: fc.constant(true)}, fc.constant(false)),
  tail: fc.uint8Array({maxLength: 12}),
  cut: rarely(fc.nat()),
}).map((p) => {
  const parts: number[] = [0xff, 0xd8]
  if (p.app) parts.push(0xff, 0xe0, 0x00, 0x04, 0x4a, 0x46)
  const sofLength = 8 + 3 * p.components + p.lengthLie
  parts.push(0xff, p.sof, (sofLength >> 8) & 0xff, sofLength & 0xff, p.precision, p.height >> 8, p.height & 0xff, p.width >> 8, p.width & 0xff, p.components)
  for (let c = 0; c < p.components; c++) parts.push(c + 1, 0x11, 0)
  if (p.sos) parts.push(0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, ...p.tail)
  if (p.eoi) parts.push(0xff, 0xd9)
  const bytes = new Uint8Array(parts)
  return p.cut === null ? bytes : bytes.slice(0, p.cut % (bytes.length + 1))
})

export const imageFile = fc.oneof({weight: 3, arbitrary: pngFile}, {weight: 3, arbitrary: jpegFile}, fc.uint8Array({maxLength: 40}))
