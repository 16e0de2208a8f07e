// Element types of numeric tensors: size, typed-array class and the range a value must fit.
// Samples store elements little-endian whatever the host, so data written on one machine reads
// the same on any other.
import {endianness} from 'node:os'

export type Dtype = 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64' | 'f32' | 'f64' | 'bool' | 'str'
export const DTYPES: readonly Dtype[] = ['u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64', 'f32', 'f64', 'bool', 'str']

/** The dtypes whose samples are arrays of fixed-size elements (everything but 'str'). */
export type NumericDtype = Exclude<Dtype, 'str'>

export type TypedArray =
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array
  | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Float32Array | Float64Array

interface DtypeInfo {
  itemBytes: number
  kind: 'int' | 'float' | 'bool'
  /** Inclusive bounds, as bigint so that 64-bit limits are exact. */
  min?: bigint
  max?: bigint
  array: {new (buffer: ArrayBuffer, byteOffset?: number, length?: number): TypedArray; new (length: number): TypedArray}
}

const int = (itemBytes: number, signed: boolean, array: DtypeInfo['array']): DtypeInfo => {
  const bits = BigInt(itemBytes * 8)
  return signed
    ? {itemBytes, kind: 'int', min: -(1n << (bits - 1n)), max: (1n << (bits - 1n)) - 1n, array}
    : {itemBytes, kind: 'int', min: 0n, max: (1n << bits) - 1n, array}
}

const INFO: Record<NumericDtype, DtypeInfo> = {
  u8: int(1, false, Uint8Array),
  u16: int(2, false, Uint16Array),
  u32: int(4, false, Uint32Array),
  u64: int(8, false, BigUint64Array),
  i8: int(1, true, Int8Array),
  i16: int(2, true, Int16Array),
  i32: int(4, true, Int32Array),
  i64: int(8, true, BigInt64Array),
  f32: {itemBytes: 4, kind: 'float', array: Float32Array},
  f64: {itemBytes: 8, kind: 'float', array: Float64Array},
  // bool elements are one byte, 0 or 1, and read back as a Uint8Array on the fast path
  bool: {itemBytes: 1, kind: 'bool', array: Uint8Array},
}

export function dtypeInfo(dtype: NumericDtype): DtypeInfo {
  return INFO[dtype]
}

export const isDtype = (s: string): s is Dtype => (DTYPES as readonly string[]).includes(s)
export const isIntDtype = (d: Dtype): boolean => d !== 'str' && INFO[d].kind === 'int'
export const isFloatDtype = (d: Dtype): boolean => d === 'f32' || d === 'f64'
export const is64BitInt = (d: Dtype): boolean => d === 'i64' || d === 'u64'

/** True when `x` (a number or bigint already known to be an integer) fits the integer dtype. */
export function fitsInt(dtype: NumericDtype, x: number | bigint): boolean {
  const {min, max} = INFO[dtype]
  if (min === undefined || max === undefined) return false
  if (typeof x === 'number') {
    // cheap path for the common case; the bigint comparison is exact at the 64-bit edges
    if (Number.isSafeInteger(x)) return x >= Number(min) && x <= Number(max)
    if (!Number.isInteger(x)) return false
    x = BigInt(x)
  }
  return x >= min && x <= max
}

export const HOST_IS_LE = endianness() === 'LE'

/**
 * The little-endian bytes of a typed array, as a view when the host is little-endian (the usual
 * case) and as a byte-swapped copy otherwise.
 */
export function littleEndianBytes(data: TypedArray): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return HOST_IS_LE || data.BYTES_PER_ELEMENT === 1 ? bytes : swapped(bytes, data.BYTES_PER_ELEMENT)
}

/** A typed array of `dtype` over little-endian `bytes`, always a fresh aligned copy. */
export function typedArrayFromLittleEndian(dtype: NumericDtype, bytes: Uint8Array): TypedArray {
  const {itemBytes, array} = INFO[dtype]
  // copy: sample bytes sit at arbitrary offsets inside a chunk, typed arrays need alignment
  // (Uint8Array's slice, not Buffer's: Buffer#slice is a view, not a copy)
  const copy = HOST_IS_LE || itemBytes === 1 ? Uint8Array.prototype.slice.call(bytes) : swapped(bytes, itemBytes)
  return new array(copy.buffer as ArrayBuffer, copy.byteOffset, copy.byteLength / itemBytes)
}

function swapped(bytes: Uint8Array, itemBytes: number): Uint8Array {
  const out = new Uint8Array(bytes.length)
  for (let i = 0; i < bytes.length; i += itemBytes) {
    for (let j = 0; j < itemBytes; j++) out[i + j] = bytes[i + itemBytes - 1 - j]
  }
  return out
}
