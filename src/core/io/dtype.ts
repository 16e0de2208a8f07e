// Element types as io/ sees them. Defined here rather than imported from format/ so that the
// readers stay independent of the tensor storage layer; the names match the dataset's dtypes.

export type NpyDtype = 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64' | 'f32' | 'f64' | 'bool' | 'str'
/** The dtypes that have a fixed-size binary layout (everything npy can hold for us). */
export type NumericDtype = Exclude<NpyDtype, 'str'>

export type TypedArray =
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array
  | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Float32Array | Float64Array

export const NUMERIC_DTYPES: readonly NumericDtype[] = ['u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64', 'f32', 'f64', 'bool']

export const ITEM_SIZE: Readonly<Record<NumericDtype, number>> = {
  u8: 1, u16: 2, u32: 4, u64: 8, i8: 1, i16: 2, i32: 4, i64: 8, f32: 4, f64: 8, bool: 1,
}

type TypedArrayClass = {
  new (buffer: ArrayBuffer, byteOffset?: number, length?: number): TypedArray
  readonly BYTES_PER_ELEMENT: number
}

// bool is one byte per value, 0 or 1, as numpy stores it.
const ARRAY_CLASS: Readonly<Record<NumericDtype, TypedArrayClass>> = {
  u8: Uint8Array, u16: Uint16Array, u32: Uint32Array, u64: BigUint64Array,
  i8: Int8Array, i16: Int16Array, i32: Int32Array, i64: BigInt64Array,
  f32: Float32Array, f64: Float64Array, bool: Uint8Array,
}

export function isNumericDtype(dtype: string): dtype is NumericDtype {
  return (NUMERIC_DTYPES as readonly string[]).includes(dtype)
}

/** A typed array of `dtype` viewing `buffer` (which must be aligned for it). */
export function typedArrayOf(dtype: NumericDtype, buffer: ArrayBuffer, byteOffset = 0, length?: number): TypedArray {
  const Class = ARRAY_CLASS[dtype]
  return new Class(buffer, byteOffset, length ?? (buffer.byteLength - byteOffset) / Class.BYTES_PER_ELEMENT)
}

/** Whether `array` is the typed array class that holds `dtype`. */
export function isArrayOfDtype(array: TypedArray, dtype: NumericDtype): boolean {
  return array instanceof ARRAY_CLASS[dtype]
}

/** The host's byte order: typed arrays read and write in it. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Reverses the byte order of every `itemSize`-byte element of `bytes`, in place. */
export function swapBytes(bytes: Uint8Array, itemSize: number): void {
  if (itemSize === 2) Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).swap16()
  else if (itemSize === 4) Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).swap32()
  else if (itemSize === 8) Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).swap64()
}
