// Numeric samples (generic, embedding, bbox, class_label): n-d arrays of one dtype.
// Encoding: u8 rank, then rank x u32 little-endian dims, then the elements in row-major order,
// little-endian, dtype-sized (bool as one byte 0/1). A scalar is rank 0 with one element.
import {dtypeInfo, fitsInt, HOST_IS_LE, littleEndianBytes, typedArrayFromLittleEndian, type NumericDtype, type TypedArray} from './dtype.js'
import {MAX_RANK} from './tensor-meta.js'
import {corruptSample, describeValue, invalidValue, type SampleWhere} from './messages.js'

export type Scalar = number | bigint | boolean
export type NestedArray = Scalar | NestedArray[]
/** The fast-path form of an n-d value: a shape and its row-major elements. */
export interface NdArrayLike {
  shape: readonly number[]
  data: TypedArray | ArrayLike<number | bigint | boolean>
}

/** How the caller names an element in messages, e.g. 'an integer class index'. */
export interface NdContext {
  tensor: string
  dtype: NumericDtype
  where?: SampleWhere
  noun?: string
}

export function isNdArrayLike(v: unknown): v is NdArrayLike {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) &&
    Array.isArray((v as NdArrayLike).shape) && typeof (v as NdArrayLike).data === 'object' && (v as NdArrayLike).data !== null
}

const expectedElement = (ctx: NdContext): string => {
  const {kind} = dtypeInfo(ctx.dtype)
  const noun = ctx.noun ?? (kind === 'int' ? 'an integer' : kind === 'bool' ? 'a boolean (true/false/0/1)' : 'a number')
  return `${noun} (dtype ${ctx.dtype})`
}

/**
 * The element to store for `v`, or throws naming the position. Integers are range-checked per
 * dtype, non-integers refused for integer dtypes, f32 overflow refused (it would become Infinity).
 */
function element(ctx: NdContext, v: unknown, path: () => number[]): number | bigint {
  const {kind, itemBytes} = dtypeInfo(ctx.dtype)
  const fail = (extra = '') => invalidValue(ctx.tensor, ctx.where, expectedElement(ctx) + extra, v, {path: path()})
  if (kind === 'bool') {
    if (v === true || v === 1) return 1
    if (v === false || v === 0) return 0
    throw fail()
  }
  if (kind === 'float') {
    if (typeof v !== 'number') throw fail()
    if (ctx.dtype === 'f32' && Number.isFinite(v) && !Number.isFinite(Math.fround(v))) throw fail(', within the f32 range ±3.4e38')
    return v
  }
  if (typeof v === 'number' ? !Number.isInteger(v) : typeof v !== 'bigint') throw fail()
  const x = v as number | bigint
  if (!fitsInt(ctx.dtype, x)) {
    const {min, max} = dtypeInfo(ctx.dtype)
    throw fail(` in ${min}..${max}`)
  }
  if (itemBytes === 8) return BigInt(x)
  return Number(x)
}

/** Shape of a nested value, following first elements; rectangularity is checked while filling. */
function nestedShape(v: unknown): number[] {
  const shape: number[] = []
  while (Array.isArray(v)) {
    shape.push(v.length)
    if (v.length === 0) break
    v = v[0]
  }
  return shape
}

function product(shape: readonly number[]): number {
  let n = 1
  for (const d of shape) n *= d
  return n
}

function allocate(dtype: NumericDtype, count: number): TypedArray {
  return new (dtypeInfo(dtype).array)(count)
}

function fillNested(ctx: NdContext, value: unknown, shape: number[], out: TypedArray): void {
  const path: number[] = []
  let k = 0
  const visit = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      out[k++] = element(ctx, v, () => path) as never
      return
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      const expected = `an array of length ${shape[depth]} (the shape is [${shape.join(', ')}]; samples must be rectangular)`
      throw invalidValue(ctx.tensor, ctx.where, expected, v, {path})
    }
    for (let i = 0; i < v.length; i++) {
      path.push(i)
      visit(v[i], depth + 1)
      path.pop()
    }
  }
  visit(value, 0)
}

/** Row-major position of flat index i, for messages about NdArrayLike input. */
function unravel(i: number, shape: readonly number[]): number[] {
  const pos = new Array<number>(shape.length)
  for (let d = shape.length - 1; d >= 0; d--) {
    pos[d] = shape[d] === 0 ? 0 : i % shape[d]
    i = shape[d] === 0 ? 0 : Math.floor(i / shape[d])
  }
  return pos
}

function fromNdArrayLike(ctx: NdContext, v: NdArrayLike): {shape: number[]; data: TypedArray} {
  const shape = [...v.shape]
  if (!shape.every(d => Number.isSafeInteger(d) && d >= 0 && d <= 0xffffffff)) {
    throw invalidValue(ctx.tensor, ctx.where, 'a shape of non-negative integer dimensions', `[${shape.join(', ')}]`, {describeGot: `shape [${shape.map(describeValue).join(', ')}]`})
  }
  const count = product(shape)
  if (v.data.length !== count) {
    throw invalidValue(ctx.tensor, ctx.where, `${count} elements for shape [${shape.join(', ')}]`, v.data, {describeGot: `${v.data.length} elements`})
  }
  const {array, kind} = dtypeInfo(ctx.dtype)
  // the same typed array class already holds valid elements (bool still needs its 0/1 check)
  if (v.data.constructor === array && kind !== 'bool') return {shape, data: (v.data as TypedArray).slice()}
  const data = allocate(ctx.dtype, count)
  for (let i = 0; i < count; i++) data[i] = element(ctx, v.data[i], () => unravel(i, shape)) as never
  return {shape, data}
}

/** Shape and elements of a scalar, nested array, typed array or NdArrayLike, validated. */
export function toNdArray(ctx: NdContext, value: unknown): {shape: number[]; data: TypedArray} {
  if (isNdArrayLike(value)) return fromNdArrayLike(ctx, value)
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const data = value as unknown as TypedArray
    return fromNdArrayLike(ctx, {shape: [data.length], data})
  }
  const shape = nestedShape(value)
  const data = allocate(ctx.dtype, product(shape))
  fillNested(ctx, value, shape, data)
  return {shape, data}
}

export function encodeNdArray(ctx: NdContext, shape: readonly number[], data: TypedArray): Uint8Array {
  if (shape.length > MAX_RANK) {
    throw invalidValue(ctx.tensor, ctx.where, `at most ${MAX_RANK} dimensions`, null, {describeGot: `${shape.length}`})
  }
  const headerBytes = 1 + 4 * shape.length
  const body = littleEndianBytes(data)
  const out = new Uint8Array(headerBytes + body.length)
  const view = new DataView(out.buffer)
  out[0] = shape.length
  shape.forEach((d, i) => view.setUint32(1 + 4 * i, d, true))
  out.set(body, headerBytes)
  return out
}

// One element of each dtype over a buffer made once: encodeScalar and decodeScalar turn a value
// into its bytes and back through it.
const scalarScratch = new Map<NumericDtype, {array: TypedArray; bytes: Uint8Array}>()

function scratchOf(dtype: NumericDtype): {array: TypedArray; bytes: Uint8Array} {
  let scratch = scalarScratch.get(dtype)
  if (!scratch) {
    const array = allocate(dtype, 1)
    scratch = {array, bytes: new Uint8Array(array.buffer)}
    scalarScratch.set(dtype, scratch)
  }
  return scratch
}

/**
 * A scalar sample (rank 0): the bytes encodeNdArray(ctx, [], [value]) gives, with one small
 * allocation. Small typed arrays live on V8's heap until something asks for their `.buffer`;
 * toNdArray + encodeNdArray asked twice per value, and the off-heap buffers that made were most of
 * the garbage collection of a CSV import (two numeric columns: 40k values for 20k rows).
 */
export function encodeScalar(ctx: NdContext, value: Scalar): Uint8Array {
  const x = element(ctx, value, () => [])
  const scratch = scratchOf(ctx.dtype)
  scratch.array[0] = x as never
  const {bytes} = scratch
  const n = bytes.length
  const out = new Uint8Array(1 + n) // out[0] = 0: rank 0, no dims
  if (HOST_IS_LE) for (let i = 0; i < n; i++) out[1 + i] = bytes[i]
  else for (let i = 0; i < n; i++) out[1 + i] = bytes[n - 1 - i]
  return out
}

/**
 * The value of a scalar sample (rank 0, exactly one element's bytes), as toNested gives it, or
 * undefined for any other bytes (decodeNdArray then reads or refuses them). No allocation: a
 * label read sample by sample (a data loader, `lake show`) made a typed array copy per value.
 */
export function decodeScalar(dtype: NumericDtype, bytes: Uint8Array): Scalar | undefined {
  const scratch = scratchOf(dtype)
  const n = scratch.bytes.length
  if (bytes.length !== 1 + n || bytes[0] !== 0) return undefined
  if (HOST_IS_LE) for (let i = 0; i < n; i++) scratch.bytes[i] = bytes[1 + i]
  else for (let i = 0; i < n; i++) scratch.bytes[n - 1 - i] = bytes[1 + i]
  const x = scratch.array[0]
  const {kind, itemBytes} = dtypeInfo(dtype)
  if (kind === 'bool') return x !== 0
  if (itemBytes === 8 && kind === 'int') {
    const b = x as bigint
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b
  }
  return x as number
}

/** The shape and elements of an encoded numeric sample; refuses bytes that do not add up. */
export function decodeNdArray(ctx: NdContext, bytes: Uint8Array): {shape: number[]; data: TypedArray} {
  if (bytes.length < 1) throw corruptSample(ctx.tensor, ctx.where, 'empty numeric sample (no rank byte)')
  const rank = bytes[0]
  const headerBytes = 1 + 4 * rank
  if (bytes.length < headerBytes) throw corruptSample(ctx.tensor, ctx.where, `rank ${rank} needs ${headerBytes} header bytes, sample has ${bytes.length}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const shape: number[] = []
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(1 + 4 * i, true))
  const {itemBytes} = dtypeInfo(ctx.dtype)
  const expected = product(shape) * itemBytes
  if (bytes.length - headerBytes !== expected) {
    throw corruptSample(ctx.tensor, ctx.where, `shape [${shape.join(', ')}] of ${ctx.dtype} needs ${expected} data bytes, sample has ${bytes.length - headerBytes}`)
  }
  return {shape, data: typedArrayFromLittleEndian(ctx.dtype, bytes.subarray(headerBytes))}
}

/** Nested arrays (scalars for rank 0); bool as booleans, 64-bit ints as numbers when safe. */
export function toNested(dtype: NumericDtype, shape: readonly number[], data: TypedArray): NestedArray {
  const {kind, itemBytes} = dtypeInfo(dtype)
  const get = (i: number): Scalar => {
    const x = data[i]
    if (kind === 'bool') return x !== 0
    if (itemBytes === 8 && kind === 'int') {
      const b = x as bigint
      return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b
    }
    return x as number
  }
  let k = 0
  const build = (depth: number): NestedArray => {
    if (depth === shape.length) return get(k++)
    const out = new Array<NestedArray>(shape[depth])
    for (let i = 0; i < shape[depth]; i++) out[i] = build(depth + 1)
    return out
  }
  return build(0)
}
