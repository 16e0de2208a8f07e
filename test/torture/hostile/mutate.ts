// Arbitraries that turn real stored bytes into hostile ones: byte-level damage (noise, flips,
// truncation, insertion) and structure-level damage (a field of the decoded msgpack value replaced
// by anything, deleted, or an extra one added, then re-encoded), the latter being what a crafted
// dataset with valid hashes can hold.
import fc from 'fast-check'
import {decode, encode} from '../../../src/core/codec.js'

/** Values a hostile writer might put anywhere. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({maxDepth: 2, maxKeys: 4, withBigInt: true, withTypedArray: true, withDate: true, withMap: true, withNullPrototype: true}),
  fc.uint8Array({maxLength: 70}),
  fc.constantFrom('a'.repeat(64), 'A'.repeat(64), '', '__proto__', 'constructor', '../x', 'main', 'x\u0000y'),
  fc.constantFrom(-1, 2 ** 53, 2 ** 32, 1e300, Number.NaN, Number.POSITIVE_INFINITY, -0, 0.5, 255, 256, 65536),
  fc.bigInt({min: -(2n ** 70n), max: 2n ** 70n}),
  fc.array(fc.constantFrom('b'.repeat(64), 'zz', 7, null), {maxLength: 3}),
  fc.string({maxLength: 20}),
)

const isContainer = (v: unknown): v is Record<string, unknown> | unknown[] =>
  v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && !ArrayBuffer.isView(v) && !(v instanceof Date)

/** Every (container, key) pair in a decoded value, depth first. */
function slots(root: unknown): [Record<string | number, unknown>, string | number][] {
  const out: [Record<string | number, unknown>, string | number][] = []
  const visit = (v: unknown) => {
    if (!isContainer(v)) return
    const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v)
    for (const k of keys) {
      out.push([v as Record<string | number, unknown>, k])
      visit((v as Record<string | number, unknown>)[k])
    }
  }
  visit(root)
  return out
}

type Edit = [pick: number, how: 'replace' | 'delete' | 'add', value: unknown, extraKey: string]

function applyEdits(bytes: Uint8Array, edits: Edit[]): Uint8Array {
  let value: unknown
  try {
    value = decode(bytes)
  } catch {
    return bytes
  }
  for (const [pick, how, replacement, extraKey] of edits) {
    const all = slots(value)
    if (all.length === 0) {
      value = replacement
      continue
    }
    const [container, key] = all[pick % all.length]
    if (how === 'replace') container[key] = replacement
    else if (how === 'delete') {
      if (Array.isArray(container)) container.splice(Number(key), 1)
      else delete container[key]
    } else if (Array.isArray(container)) container.push(replacement)
    else container[extraKey] = replacement
  }
  try {
    return encode(value)
  } catch {
    return bytes
  }
}

const edit: fc.Arbitrary<Edit> = fc.tuple(fc.nat(), fc.constantFrom('replace' as const, 'delete' as const, 'add' as const), hostileValue, fc.constantFrom('extra', 'kind', 'v', '__proto__', 'zz'))

/** A seed with one to three structural edits, re-encoded. */
export const structureMutation = (seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> =>
  fc.tuple(fc.constantFrom(...seeds), fc.array(edit, {minLength: 1, maxLength: 3})).map(([bytes, edits]) => applyEdits(bytes, edits))

/** Byte-level damage to a seed, or plain noise. */
export const byteMutation = (seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    fc.uint8Array({maxLength: 300}),
    fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({min: 1, max: 255})), {minLength: 1, maxLength: 4})).map(([bytes, flips]) => {
      const out = new Uint8Array(bytes)
      for (const [at, x] of flips) if (out.length > 0) out[at % out.length] ^= x
      return out
    }),
    fc.tuple(fc.constantFrom(...seeds), fc.nat()).map(([bytes, at]) => bytes.slice(0, bytes.length === 0 ? 0 : at % bytes.length)),
    fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.uint8Array({minLength: 1, maxLength: 16})).map(([bytes, at, extra]) => {
      const cut = bytes.length === 0 ? 0 : at % bytes.length
      return new Uint8Array([...bytes.subarray(0, cut), ...extra, ...bytes.subarray(cut)])
    }),
  )

/** Either kind of damage. */
export const mutation = (seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> => fc.oneof(structureMutation(seeds), byteMutation(seeds))
