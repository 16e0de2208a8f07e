// One sample's bytes, per htype. What is stored is validated here, once, on the way in:
//   generic, embedding, bbox, class_label  -> n-d array encoding (see ndarray.ts)
//   text                                   -> UTF-8
//   json                                   -> UTF-8 JSON text
//   image                                  -> the PNG/JPEG file bytes as-is (header checked)
//   binary                                 -> the bytes as-is
import {InvalidTensorSpecError} from '../errors.js'
import {type NumericDtype, type TypedArray} from './dtype.js'
import {parseImageHeader} from './image-header.js'
import {checkJsonValue, isWellFormedString, type JsonValue} from './json-value.js'
import {corruptSample, describeValue, invalidValue, type SampleWhere} from './messages.js'
import {decodeNdArray, decodeScalar, encodeNdArray, encodeScalar, toNdArray, toNested, type NdArrayLike, type NdContext, type NestedArray} from './ndarray.js'
import type {TensorMeta} from './tensor-meta.js'

export type {SampleWhere} from './messages.js'
export type {JsonValue} from './json-value.js'
export type {NdArrayLike, NestedArray, Scalar} from './ndarray.js'
// the JSON forms live in their own file; re-exported so callers find every sample verb here
export {sampleToJson, valueFromJson} from './sample-json.js'

/** What decodeSample returns: nested arrays or scalars (numeric htypes), string (text),
 * any JSON value (json), bytes (image, binary). */
export type SampleValue = NestedArray | string | Uint8Array | JsonValue
/** What encodeSample accepts: a SampleValue, or for numeric htypes also a typed array (1-d)
 * or {shape, data}; for class_label also class names in place of indices. */
export type SampleInput = SampleValue | NdArrayLike | TypedArray

const NUMERIC_HTYPES = new Set(['generic', 'class_label', 'bbox', 'embedding'])
export const isNumericHtype = (meta: TensorMeta): boolean => NUMERIC_HTYPES.has(meta.htype)

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true})

export function encodeSample(meta: TensorMeta, value: unknown, where: SampleWhere): Uint8Array {
  switch (meta.htype) {
    case 'text':
      if (typeof value !== 'string') throw invalidValue(meta.name, where, 'a string', value)
      if (!isWellFormedString(value)) throw invalidValue(meta.name, where, 'a well-formed Unicode string (no lone surrogates)', value)
      return utf8.encode(value)
    case 'json':
      checkJsonValue(meta.name, where, value)
      return utf8.encode(JSON.stringify(value))
    case 'image':
      return encodeImage(meta, value, where)
    case 'binary':
      if (!(value instanceof Uint8Array)) throw invalidValue(meta.name, where, 'bytes (a Uint8Array or Buffer)', value)
      return value
    default:
      return encodeNumeric(meta, value, where)
  }
}

function encodeImage(meta: TensorMeta, value: unknown, where: SampleWhere): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalidValue(meta.name, where, 'the bytes of a PNG or JPEG file', value)
  const info = parseImageHeader(value)
  if (typeof info === 'string') {
    throw invalidValue(meta.name, where, 'a complete PNG or JPEG file', value, {
      describeGot: `${value.length} bytes: ${info}`,
      hint: 'check that the file is a complete, uncorrupted PNG or JPEG image',
    })
  }
  if (meta.sampleCompression !== 'none' && info.format !== meta.sampleCompression) {
    throw invalidValue(meta.name, where, `a ${meta.sampleCompression.toUpperCase()} file (sample compression ${meta.sampleCompression})`, value, {
      describeGot: `a ${info.format.toUpperCase()} file`,
      hint: 'convert the image, or create the tensor with --sample-compression none to accept both formats',
    })
  }
  return value
}

const ctxOf = (meta: TensorMeta, where?: SampleWhere, noun?: string): NdContext =>
  ({tensor: meta.name, dtype: meta.dtype as NumericDtype, where, noun})

function encodeNumeric(meta: TensorMeta, value: unknown, where: SampleWhere): Uint8Array {
  if (meta.htype === 'class_label') return encodeClassLabel(meta, value, where)
  const ctx = ctxOf(meta, where)
  // a scalar (a CSV cell, a label) without the n-d machinery: same bytes, one allocation
  if ((typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') && shapeProblem(meta, []) === undefined) return encodeScalar(ctx, value)
  const {shape, data} = toNdArray(ctx, value)
  const problem = shapeProblem(meta, shape)
  if (problem) throw invalidValue(meta.name, where, problem, value, {describeGot: shape.length === 0 ? 'a scalar' : `shape [${shape.join(', ')}]`})
  return encodeNdArray(ctx, shape, data)
}

/** What the shape should have been, or undefined when it fits the htype (and the meta's rank). */
function shapeProblem(meta: TensorMeta, shape: number[]): string | undefined {
  switch (meta.htype) {
    case 'embedding':
      return shape.length === 1 ? undefined : 'a 1-d array of numbers (embedding)'
    case 'bbox':
      return (shape.length === 1 && shape[0] === 4) || (shape.length === 2 && shape[1] === 4)
        ? undefined
        : 'a box [x, y, w, h] (shape [4]) or a list of boxes (shape [n, 4])'
    default:
      return meta.rank === undefined || shape.length === meta.rank ? undefined : `a ${meta.rank}-d value (the tensor's rank is ${meta.rank})`
  }
}

function encodeClassLabel(meta: TensorMeta, value: unknown, where: SampleWhere): Uint8Array {
  const names = meta.classNames ?? []
  const toIndex = (v: unknown, path: number[]): unknown => {
    if (typeof v !== 'string') return v
    const i = names.indexOf(v)
    if (i >= 0) return i
    if (names.length === 0) {
      throw invalidValue(meta.name, where, `an integer class index (dtype ${meta.dtype})`, v, {path, hint: 'this tensor has no class names; create it with class names to label by name'})
    }
    throw invalidValue(meta.name, where, `a class name of this tensor or an integer class index`, v, {path, hint: `known classes: ${listNames(names)}`})
  }
  // a label is one class index, or a 1-d list of them (multi-label)
  const mapped = Array.isArray(value) ? value.map((v, i) => toIndex(v, [i])) : toIndex(value, [])
  const ctx = ctxOf(meta, where, 'an integer class index')
  const {shape, data} = toNdArray(ctx, mapped)
  if (shape.length > 1) throw invalidValue(meta.name, where, 'a class index or a 1-d list of class indices', value, {describeGot: `shape [${shape.join(', ')}]`})
  for (let i = 0; i < data.length; i++) {
    const x = Number(data[i])
    const path = shape.length === 0 ? [] : [i]
    if (x < 0) throw invalidValue(meta.name, where, 'a class index ≥ 0', x, {path})
    if (names.length > 0 && x >= names.length) {
      throw invalidValue(meta.name, where, `a class index below ${names.length} (the number of class names)`, x, {path, hint: `known classes: ${listNames(names)}`})
    }
  }
  return encodeNdArray(ctx, shape, data)
}

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, 20).map(n => describeValue(n)).join(', ')
  return names.length > 20 ? `${shown} ... and ${names.length - 20} more` : shown
}

export function decodeSample(meta: TensorMeta, bytes: Uint8Array, where?: SampleWhere): SampleValue {
  switch (meta.htype) {
    case 'text':
      return decodeUtf8(meta, bytes, where)
    case 'json':
      try {
        return JSON.parse(decodeUtf8(meta, bytes, where)) as JsonValue
      } catch (e) {
        if (e instanceof SyntaxError) throw corruptSample(meta.name, where, `invalid JSON text: ${e.message}`)
        throw e
      }
    case 'image':
    case 'binary':
      return bytes
    default: {
      const scalar = decodeScalar(meta.dtype as NumericDtype, bytes)
      if (scalar !== undefined) return scalar
      const {shape, data} = decodeNdArray(ctxOf(meta, where), bytes)
      return toNested(meta.dtype as NumericDtype, shape, data)
    }
  }
}

function decodeUtf8(meta: TensorMeta, bytes: Uint8Array, where?: SampleWhere): string {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    throw corruptSample(meta.name, where, 'invalid UTF-8')
  }
}

/**
 * The fast path for numeric htypes: shape and a fresh, aligned typed array of the dtype (bool as
 * Uint8Array of 0/1). Images and binary give their raw bytes as shape [n] u8.
 */
export function decodeSampleArray(meta: TensorMeta, bytes: Uint8Array, where?: SampleWhere): {shape: number[]; data: TypedArray} {
  if (meta.htype === 'image' || meta.htype === 'binary') return {shape: [bytes.length], data: bytes}
  if (!isNumericHtype(meta)) {
    throw new InvalidTensorSpecError(`tensor '${meta.name}': htype ${meta.htype} has no array form`, {
      hint: 'read it with decodeSample',
      data: {tensor: meta.name},
    })
  }
  return decodeNdArray(ctxOf(meta, where), bytes)
}
