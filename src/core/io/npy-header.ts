// The NPY header: magic "\x93NUMPY", a version byte pair, a little-endian header length (u16 in
// 1.0, u32 in 2.0 and 3.0), then a Python dict literal naming descr, fortran_order and shape.
// Format reference: numpy/lib/format.py. Decoding is pure (bytes in, header out) so that it can
// be fuzzed; readNpyHeader only adds the file reads around it.
import {BadInputFileError, LakeError} from '../errors.js'
import {ITEM_SIZE, HOST_LITTLE_ENDIAN, type NumericDtype} from './dtype.js'
import {openInput} from './input.js'
import {parsePyLiteral, PyLiteralError, pyRepr, type PyValue} from './py-literal.js'

export interface NpyHeader {
  dtype: NumericDtype
  shape: number[]
  /**
   * As written in the file. Column-major data is refused unless at most one axis is longer than
   * 1, where both orders lay the bytes out identically; so the data can always be read row-major.
   */
  fortranOrder: boolean
  /** Byte offset of the first element. */
  dataOffset: number
  /** The descr exactly as written, e.g. '<f4'. */
  descr: string
  /** Byte order of the data in the file. */
  littleEndian: boolean
  /** Format version, e.g. '1.0'. */
  version: string
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] // \x93NUMPY
/** numpy caps headers at 10 000 bytes by default; 1 MiB leaves room and still bounds memory. */
export const MAX_HEADER_BYTES = 1 << 20
/** Enough bytes to know the header length of any version. */
export const NPY_PREAMBLE_BYTES = 12
const NOT_NPY_HINT = 'write the array with numpy.save()'

interface Preamble {
  version: string
  /** Where the header text starts. */
  headerStart: number
  dataOffset: number
}

/** Reads magic, version and header length from the first bytes of the file. */
export function decodeNpyPreamble(bytes: Uint8Array, file: string): Preamble {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new BadInputFileError(`${file}: not an NPY file (it does not start with \\x93NUMPY)`, {hint: NOT_NPY_HINT, data: {file}})
  }
  const [major, minor] = [bytes[6], bytes[7]]
  if (major < 1 || major > 3 || minor !== 0) {
    throw new BadInputFileError(`${file}: NPY format version ${major}.${minor} is not supported (1.0, 2.0 and 3.0 are)`, {data: {file}})
  }
  const lengthBytes = major === 1 ? 2 : 4
  if (bytes.length < 8 + lengthBytes) throw truncatedHeader(file)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true)
  if (headerLength > MAX_HEADER_BYTES) {
    throw new BadInputFileError(`${file}: NPY header of ${headerLength} bytes is larger than the ${MAX_HEADER_BYTES} accepted`, {data: {file}})
  }
  const headerStart = 8 + lengthBytes
  return {version: `${major}.${minor}`, headerStart, dataOffset: headerStart + headerLength}
}

/**
 * Decodes a whole header. `bytes` is the start of the file (at least up to the data offset, if
 * the file is that long); `fileSize` is checked against shape × item size.
 */
export function decodeNpyHeader(bytes: Uint8Array, file: string, fileSize: number): NpyHeader {
  const {version, headerStart, dataOffset} = decodeNpyPreamble(bytes, file)
  if (bytes.length < dataOffset) throw truncatedHeader(file)
  const raw = bytes.subarray(headerStart, dataOffset)
  // 1.0 and 2.0 headers are latin-1; 3.0 allows UTF-8 (for structured field names).
  let text: string
  if (version === '3.0') {
    try {
      text = new TextDecoder('utf-8', {fatal: true}).decode(raw)
    } catch {
      throw malformed(file, 'header is not valid UTF-8')
    }
  } else {
    text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1')
  }
  let literal: PyValue
  try {
    literal = parsePyLiteral(text)
  } catch (err) {
    if (err instanceof PyLiteralError) throw malformed(file, err.message)
    throw err
  }
  const fields = headerFields(literal, file)
  const shape = shapeOf(fields.shape, file)
  const fortranOrder = boolOf(fields.fortran_order, file)
  const {dtype, littleEndian, descr} = dtypeOf(fields.descr, file)
  if (fortranOrder && shape.filter((n) => n > 1).length > 1) {
    throw new BadInputFileError(`${file}: array of shape ${shapeText(shape)} is stored in Fortran (column-major) order, which is not supported`, {
      hint: 'save numpy.ascontiguousarray(arr) instead', data: {file},
    })
  }
  checkSize(file, shape, ITEM_SIZE[dtype], fileSize - dataOffset)
  return {dtype, shape, fortranOrder, dataOffset, descr, littleEndian, version}
}

/** Reads and checks the header of an .npy file, without reading its data. */
export async function readNpyHeader(file: string): Promise<NpyHeader> {
  const {handle, size} = await openInput(file)
  try {
    const prefix = await readAt(handle, 0, Math.min(size, NPY_PREAMBLE_BYTES))
    const {dataOffset} = decodeNpyPreamble(prefix, file)
    const bytes = await readAt(handle, 0, Math.min(size, dataOffset))
    return decodeNpyHeader(bytes, file, size)
  } catch (err) {
    if (err instanceof LakeError) throw err
    throw new BadInputFileError(`${file}: cannot read: ${err instanceof Error ? err.message : String(err)}`, {data: {file}})
  } finally {
    await handle.close()
  }
}

async function readAt(handle: import('node:fs/promises').FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buffer = Buffer.alloc(length)
  let filled = 0
  while (filled < length) {
    const {bytesRead} = await handle.read(buffer, filled, length - filled, position + filled)
    if (bytesRead === 0) break
    filled += bytesRead
  }
  return buffer.subarray(0, filled)
}

/** The descr numpy writes for `dtype`, always little-endian. */
export function npyDescr(dtype: NumericDtype): string {
  if (dtype === 'bool') return '|b1'
  const kind = dtype[0] // 'u', 'i' or 'f'
  const size = ITEM_SIZE[dtype]
  return `${size === 1 ? '|' : '<'}${kind}${size}`
}

const GROWTH_AXIS_MAX_DIGITS = 21
const ARRAY_ALIGN = 64

/**
 * The header numpy.save would write for a C-order array: the same dict text, the same spare
 * space after it (so tools may grow the first axis in place), padded with spaces and a final
 * newline to a multiple of 64 bytes. Version 1.0 unless the header needs more than 65535 bytes.
 */
export function encodeNpyHeader(dtype: NumericDtype, shape: readonly number[]): Uint8Array {
  let text = `{'descr': ${pyRepr(npyDescr(dtype))}, 'fortran_order': False, 'shape': ${shapeText(shape)}, }`
  if (shape.length > 0) text += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length))
  const padded = (prefixLength: number) => text + ' '.repeat(ARRAY_ALIGN - ((prefixLength + text.length + 1) % ARRAY_ALIGN)) + '\n'
  const v1 = padded(10)
  const version = v1.length <= 0xffff ? 1 : 2
  const header = Buffer.from(version === 1 ? v1 : padded(12), 'latin1')
  const prefixLength = version === 1 ? 10 : 12
  const out = Buffer.alloc(prefixLength + header.length)
  out.set(MAGIC, 0)
  out[6] = version
  out[7] = 0
  if (version === 1) out.writeUInt16LE(header.length, 8)
  else out.writeUInt32LE(header.length, 8)
  out.set(header, prefixLength)
  return out
}

function headerFields(literal: PyValue, file: string): Record<'descr' | 'fortran_order' | 'shape', PyValue> {
  if (literal.kind !== 'dict') throw malformed(file, 'header is not a dict')
  const byKey = new Map<string, PyValue>()
  for (const [key, value] of literal.entries) {
    if (key.kind !== 'str') throw malformed(file, 'header keys must be strings')
    byKey.set(key.value, value)
  }
  const expected = ['descr', 'fortran_order', 'shape']
  const keys = [...byKey.keys()].sort()
  if (keys.length !== expected.length || keys.some((k, i) => k !== expected[i])) {
    throw malformed(file, `header keys are ${keys.map(pyRepr).join(', ') || 'none'}; expected 'descr', 'fortran_order', 'shape'`)
  }
  return {descr: byKey.get('descr')!, fortran_order: byKey.get('fortran_order')!, shape: byKey.get('shape')!}
}

function shapeOf(value: PyValue, file: string): number[] {
  if (value.kind !== 'tuple') throw malformed(file, "'shape' is not a tuple")
  return value.items.map((item) => {
    if (item.kind !== 'int' || item.value < 0n || item.value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw malformed(file, "'shape' must hold non-negative integers")
    }
    return Number(item.value)
  })
}

function boolOf(value: PyValue, file: string): boolean {
  if (value.kind !== 'bool') throw malformed(file, "'fortran_order' is not True or False")
  return value.value
}

// descr kind letter → what it holds, for refusals that say what the user has.
const UNSUPPORTED_KINDS: Record<string, string> = {
  O: 'Python objects', U: 'unicode strings', S: 'byte strings', a: 'byte strings', V: 'raw or structured records',
  M: 'datetimes', m: 'timedeltas', c: 'complex numbers',
}
const SUPPORTED: Record<string, NumericDtype> = {
  b1: 'bool', u1: 'u8', u2: 'u16', u4: 'u32', u8: 'u64', i1: 'i8', i2: 'i16', i4: 'i32', i8: 'i64', f4: 'f32', f8: 'f64',
}
const DTYPE_HINT = 'lake reads bool, int8-64, uint8-64, float32 and float64 arrays: convert with arr.astype(...)'

function dtypeOf(value: PyValue, file: string): {dtype: NumericDtype; littleEndian: boolean; descr: string} {
  if (value.kind === 'list') {
    throw new BadInputFileError(`${file}: structured dtype (a list of fields) is not supported`, {
      hint: 'save each field as its own .npy file', data: {file},
    })
  }
  if (value.kind !== 'str') throw malformed(file, "'descr' is not a string")
  const descr = value.value
  const hasOrder = '<>|='.includes(descr[0] ?? 'x')
  const order = hasOrder ? descr[0] : '='
  const code = hasOrder ? descr.slice(1) : descr
  const dtype = SUPPORTED[code]
  if (dtype === undefined) {
    const what = UNSUPPORTED_KINDS[code[0] ?? ''] ?? (code === 'f2' ? 'float16' : code[0] === 'f' ? 'extended floats' : undefined)
    const hint = code[0] === 'O' ? 'object arrays need pickle, which lake never loads; ' + DTYPE_HINT : DTYPE_HINT
    throw new BadInputFileError(`${file}: dtype ${pyRepr(descr)}${what ? ` (${what})` : ''} is not supported`, {hint, data: {file, descr}})
  }
  // '|' (not applicable) and '=' (native) describe the writer's machine; treat them as ours.
  const littleEndian = order === '<' ? true : order === '>' ? false : HOST_LITTLE_ENDIAN
  return {dtype, littleEndian, descr}
}

function checkSize(file: string, shape: number[], itemSize: number, dataBytes: number): void {
  const expected = shape.reduce((n, d) => n * BigInt(d), 1n) * BigInt(itemSize)
  const actual = BigInt(Math.max(0, dataBytes))
  if (expected > actual) {
    throw new BadInputFileError(`${file}: truncated: shape ${shapeText(shape)} needs ${expected} bytes of data, the file has ${actual}`, {
      hint: 'the file was cut short; write it again', data: {file},
    })
  }
  if (expected < actual) {
    throw new BadInputFileError(`${file}: ${actual - expected} unexpected bytes after the data of shape ${shapeText(shape)}`, {data: {file}})
  }
}

export function shapeText(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`
}

function malformed(file: string, detail: string): BadInputFileError {
  return new BadInputFileError(`${file}: malformed NPY header: ${detail}`, {hint: NOT_NPY_HINT, data: {file}})
}

function truncatedHeader(file: string): BadInputFileError {
  return new BadInputFileError(`${file}: truncated NPY header`, {hint: 'the file was cut short; write it again', data: {file}})
}
