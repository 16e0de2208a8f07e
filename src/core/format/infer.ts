// What importers need to turn text files into tensors: pick an htype/dtype for a CSV column or a
// JSONL key, and convert one CSV cell to a value. Choices (documented in docs/FORMAT.md):
//   CSV   all integers fitting i32 -> generic i32; other integers fitting i64 -> generic i64;
//         numbers (empty cells and nan/inf allowed, read as NaN/±Infinity) -> generic f64;
//         all true/false -> generic bool; anything else (incl. leading zeros like "007",
//         integers beyond i64) -> text, so nothing is lost on a round trip.
//   JSONL numbers as in CSV (null or a missing key makes the column f64, missing = NaN);
//         strings -> text; booleans -> generic bool; rectangular arrays of numbers of one rank
//         -> generic n-d with that rank; everything else (objects, mixes, nulls) -> json.
import {fitsInt} from './dtype.js'
import {invalidValue, type SampleWhere} from './messages.js'
import {valueFromJson} from './sample-json.js'
import type {Dtype, Htype, TensorMeta} from './tensor-meta.js'

export interface InferredSpec {
  htype: Htype
  dtype: Dtype
  /** set for n-d generic columns, so every row must keep the rank of the data seen */
  rank?: number
}

const INT_RE = /^-?(?:0|[1-9]\d*)$/
const FLOAT_RE = /^-?(?:(?:0|[1-9]\d*)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/
const NON_FINITE_RE = /^(?:[+-]?nan|[+-]?inf(?:inity)?)$/i
const BOOL_RE = /^(?:true|false)$/i

const TEXT: InferredSpec = {htype: 'text', dtype: 'str'}
const JSON_SPEC: InferredSpec = {htype: 'json', dtype: 'str'}

function intDtype(ints: Iterable<number | bigint>): Dtype | undefined {
  let dtype: Dtype = 'i32'
  for (const x of ints) {
    if (dtype === 'i32' && fitsInt('i32', x)) continue
    if (!fitsInt('i64', x)) return undefined
    dtype = 'i64'
  }
  return dtype
}

export function inferCsvColumn(cells: readonly string[]): InferredSpec {
  const trimmed = cells.map(c => c.trim())
  const present = trimmed.filter(c => c !== '')
  if (present.length === 0) return TEXT
  const complete = present.length === trimmed.length
  if (complete && present.every(c => BOOL_RE.test(c))) return {htype: 'generic', dtype: 'bool'}
  if (complete && present.every(c => INT_RE.test(c))) {
    const dtype = intDtype(present.map(c => BigInt(c)))
    return dtype ? {htype: 'generic', dtype} : TEXT
  }
  const numeric = present.every(c => FLOAT_RE.test(c) || NON_FINITE_RE.test(c)) && present.some(c => FLOAT_RE.test(c))
  return numeric ? {htype: 'generic', dtype: 'f64'} : TEXT
}

/** The value a CSV cell stands for in `meta`'s tensor, ready for encodeSample to validate. */
export function parseCell(meta: TensorMeta, cell: string, where: SampleWhere): unknown {
  switch (meta.htype) {
    case 'text':
      return cell
    case 'json':
      try {
        return JSON.parse(cell)
      } catch {
        throw invalidValue(meta.name, where, 'JSON text', cell, {hint: 'json cells must hold one JSON value, e.g. {"a": 1}'})
      }
    case 'image':
    case 'binary':
      return valueFromJson(meta, cell.trim(), where)
    case 'class_label': {
      // a known class name wins over an index reading, so classes named "1", "2" keep working
      if (meta.classNames?.includes(cell)) return cell
      const t = cell.trim()
      return INT_RE.test(t) ? Number(t) : cell
    }
  }
  const t = cell.trim()
  if (t.startsWith('[')) {
    try {
      return valueFromJson(meta, JSON.parse(t), where)
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e
      throw invalidValue(meta.name, where, 'a JSON array of numbers', cell)
    }
  }
  return parseScalar(meta, t, cell, where)
}

function parseScalar(meta: TensorMeta, t: string, cell: string, where: SampleWhere): unknown {
  const {dtype} = meta
  if (dtype === 'bool') {
    if (BOOL_RE.test(t)) return t.toLowerCase() === 'true'
    if (t === '0' || t === '1') return t === '1'
    throw invalidValue(meta.name, where, 'true, false, 1 or 0 (dtype bool)', cell)
  }
  if (dtype === 'f32' || dtype === 'f64') {
    if (t === '') return NaN // a missing value in a numeric column
    if (FLOAT_RE.test(t)) return Number(t)
    if (NON_FINITE_RE.test(t)) return /nan/i.test(t) ? NaN : t.startsWith('-') ? -Infinity : Infinity
    throw invalidValue(meta.name, where, `a number (dtype ${dtype})`, cell)
  }
  if (!INT_RE.test(t)) throw invalidValue(meta.name, where, `an integer (dtype ${dtype})`, cell)
  const n = Number(t)
  // beyond 2^53 a number is no longer exact; 64-bit dtypes take a bigint instead
  return Number.isSafeInteger(n) ? n : BigInt(t)
}

/** Shape facts of a nested array of numbers/booleans, or undefined when it is not one. */
function numericArrayFacts(v: unknown): {rank: number; ints: (number | bigint)[] | undefined; bools: boolean} | undefined {
  const shape: number[] = []
  for (let x = v; Array.isArray(x); x = x[0]) {
    shape.push(x.length)
    if (x.length === 0) break
  }
  let ints: number[] | undefined = []
  let kind: 'number' | 'boolean' | undefined
  const visit = (x: unknown, depth: number): boolean => {
    if (depth === shape.length) {
      const k = typeof x
      if ((k !== 'number' && k !== 'boolean') || (kind !== undefined && k !== kind)) return false
      kind = k
      if (k === 'number' && ints && Number.isInteger(x)) ints.push(x as number)
      else ints = undefined
      return true
    }
    return Array.isArray(x) && x.length === shape[depth] && x.every(y => visit(y, depth + 1))
  }
  if (!visit(v, 0)) return undefined
  return {rank: shape.length, ints: kind === 'boolean' ? undefined : ints, bools: kind === 'boolean'}
}

export function inferJsonKey(values: readonly unknown[]): InferredSpec {
  const present = values.filter(v => v !== null && v !== undefined)
  if (present.length === 0) return JSON_SPEC
  const complete = present.length === values.length
  if (present.every(v => typeof v === 'number')) {
    const dtype = complete && present.every(v => Number.isInteger(v)) ? intDtype(present as number[]) : undefined
    return {htype: 'generic', dtype: dtype ?? 'f64'}
  }
  if (!complete) return JSON_SPEC
  if (present.every(v => typeof v === 'boolean')) return {htype: 'generic', dtype: 'bool'}
  if (present.every(v => typeof v === 'string')) return TEXT
  if (present.every(v => Array.isArray(v))) {
    const facts = present.map(numericArrayFacts)
    const rank = facts[0]?.rank
    if (!facts.every(f => f !== undefined && f.rank === rank && f.bools === facts[0]!.bools)) return JSON_SPEC
    if (facts[0]!.bools) return {htype: 'generic', dtype: 'bool', rank}
    const ints = facts.every(f => f!.ints !== undefined) ? intDtype(facts.flatMap(f => f!.ints!)) : undefined
    return {htype: 'generic', dtype: ints ?? 'f64', rank}
  }
  return JSON_SPEC
}
