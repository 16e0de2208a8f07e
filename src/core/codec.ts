// The one structured encoder of the project: msgpackr, with settings fixed here so that the same
// value always encodes to the same bytes (objects are named by the hash of their encoding).
import {Packr} from 'msgpackr'

const packr = new Packr({useRecords: false, variableMapSize: true, int64AsType: 'bigint', mapsAsObjects: true})

export function encode(value: unknown): Buffer {
  return packr.pack(value)
}

export function decode<T = unknown>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T
}

/**
 * Whether `a` and `b` encode to the same bytes. Plain JSON values (null, booleans, well-formed
 * strings, numbers but NaN, arrays and plain objects of them) are compared as trees, without
 * encoding: the encoder is large, and compiling it cost a read-only process ~5 ms (checking a
 * version root's metas); anything else is compared by encoding. Exact: two plain values encode
 * alike iff they are equal as trees (msgpack is self-delimiting, and -0 encodes as 0).
 */
export function sameEncoding(a: unknown, b: unknown): boolean {
  return sameTree(a, b) ?? encode(a).equals(encode(b))
}

/** true or false when decided by plain values alone, in order; undefined at the first other value. */
function sameTree(a: unknown, b: unknown): boolean | undefined {
  const ka = plainKind(a)
  const kb = plainKind(b)
  if (ka === undefined || kb === undefined) return undefined
  if (ka !== kb) return false
  if (ka === 'array') {
    const x = a as unknown[]
    const y = b as unknown[]
    if (x.length !== y.length) return false
    for (let i = 0; i < x.length; i++) {
      const same = sameTree(x[i], y[i])
      if (same !== true) return same
    }
    return true
  }
  if (ka === 'object') {
    const x = Object.keys(a as object)
    const y = Object.keys(b as object)
    if (x.length !== y.length) return false
    for (let i = 0; i < x.length; i++) {
      if (!wellFormed(x[i]) || !wellFormed(y[i])) return undefined
      if (x[i] !== y[i]) return false
      const same = sameTree((a as Record<string, unknown>)[x[i]], (b as Record<string, unknown>)[y[i]])
      if (same !== true) return same
    }
    return true
  }
  return a === b
}

function plainKind(v: unknown): 'null' | 'boolean' | 'string' | 'number' | 'array' | 'object' | undefined {
  if (v === null) return 'null'
  switch (typeof v) {
    case 'boolean':
      return 'boolean'
    case 'string':
      return wellFormed(v) ? 'string' : undefined
    case 'number':
      return Number.isNaN(v) ? undefined : 'number'
    case 'object': {
      const proto = Object.getPrototypeOf(v)
      if (Array.isArray(v)) return proto === Array.prototype ? 'array' : undefined
      return proto === Object.prototype || proto === null ? 'object' : undefined
    }
    default:
      return undefined
  }
}

// a lone surrogate is encoded as U+FFFD: two different such strings can encode alike (native
// isWellFormed, Node >= 20: a Unicode property regex cost a reading process ~1 ms to compile)
const wellFormed = (s: string) => (s as string & {isWellFormed(): boolean}).isWellFormed()
