// How format errors name things: every message starts with the tensor and the sample index
// (plus file and line when an importer knows them), then says what was expected and what came.
import {CorruptObjectError, InvalidValueError} from '../errors.js'

/** Where a value comes from; importers add the file and line so the user can find the row. */
export interface SampleWhere {
  index: number
  file?: string
  line?: number
}

export function wherePrefix(tensor: string, where?: SampleWhere): string {
  let s = `tensor '${tensor}'`
  if (where === undefined) return s
  s += ` sample ${where.index}`
  if (where.file !== undefined) s += where.line !== undefined ? ` (${where.file} line ${where.line})` : ` (${where.file})`
  else if (where.line !== undefined) s += ` (line ${where.line})`
  return s
}

/** A short, unambiguous rendering of a value the user gave, for "got ..." in messages. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'undefined'
  if (v === null) return 'null'
  if (typeof v === 'string') return v.length > 40 ? JSON.stringify(v.slice(0, 40)) + '...' : JSON.stringify(v)
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (typeof v === 'function') return 'a function'
  if (typeof v === 'symbol') return 'a symbol'
  if (v instanceof Uint8Array) return `${v.length} bytes`
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`
  if (Array.isArray(v)) return `an array of length ${v.length}`
  const proto = Object.getPrototypeOf(v)
  if (proto !== Object.prototype && proto !== null) return `a ${proto?.constructor?.name ?? 'non-plain'} object`
  return 'an object'
}

/** `[2][0]` for a position inside an n-d value; empty at the top. */
export const pathString = (path: readonly (number | string)[]): string =>
  path.map(p => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join('')

export function invalidValue(
  tensor: string,
  where: SampleWhere | undefined,
  expected: string,
  got: unknown,
  opts: {path?: readonly (number | string)[]; hint?: string; describeGot?: string} = {},
): InvalidValueError {
  const at = opts.path && opts.path.length > 0 ? ` at ${pathString(opts.path)}` : ''
  const gotText = opts.describeGot ?? describeValue(got)
  return new InvalidValueError(`${wherePrefix(tensor, where)}${at}: expected ${expected}, got ${gotText}`, {
    hint: opts.hint,
    data: {tensor, index: where?.index, expected, got: gotText, ...(at ? {path: pathString(opts.path ?? [])} : {})},
  })
}

export function corruptSample(tensor: string, where: SampleWhere | undefined, problem: string): CorruptObjectError {
  return new CorruptObjectError(`${wherePrefix(tensor, where)}: stored sample is corrupt: ${problem}`, {
    hint: "run 'lake fsck' to find damaged objects",
    data: {tensor, index: where?.index},
  })
}
