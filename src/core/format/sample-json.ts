// Samples as JSON, both ways: how `lake show --json` prints a value and how `--value V` (and
// JSONL import) reads one. Bytes travel as base64; 64-bit integers as numbers when exact, else
// as decimal strings; NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity".
import {isFloatDtype, is64BitInt} from './dtype.js'
import {invalidValue, type SampleWhere} from './messages.js'
import type {SampleValue} from './sample.js'
import type {TensorMeta} from './tensor-meta.js'

const NON_FINITE: Record<string, number> = {NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity}
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

export function sampleToJson(meta: TensorMeta, value: SampleValue): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
  if (meta.htype === 'json' || meta.htype === 'text') return value
  const visit = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(visit)
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) && BigInt(Number(v)) === v ? Number(v) : v.toString()
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v)
    return v
  }
  return visit(value)
}

/**
 * The sample value for a JSON value (the inverse of sampleToJson): base64 strings become bytes,
 * "NaN"/"Infinity"/null/undefined become floats, decimal strings become 64-bit integers. Everything else is
 * passed through for encodeSample to validate.
 */
export function valueFromJson(meta: TensorMeta, json: unknown, where: SampleWhere): unknown {
  // a key missing from a JSONL row is a null: NaN for floats, null for json, refused elsewhere
  if (json === undefined) json = null
  switch (meta.htype) {
    case 'image':
    case 'binary':
      if (typeof json !== 'string' || !BASE64.test(json)) {
        throw invalidValue(meta.name, where, 'base64-encoded bytes', json)
      }
      {
        const bytes = Buffer.from(json, 'base64')
        return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      }
    case 'text':
    case 'json':
      return json
  }
  const float = isFloatDtype(meta.dtype)
  const wide = is64BitInt(meta.dtype)
  const visit = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(visit)
    if (float && v === null) return NaN // a missing number (JSONL null) reads as NaN
    if (float && typeof v === 'string' && Object.hasOwn(NON_FINITE, v)) return NON_FINITE[v]
    if (wide && typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v)
    return v
  }
  return visit(json)
}
