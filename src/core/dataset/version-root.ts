// The version root object (pure model): tensor name → meta + index root + length. A commit points
// at one; the staged state is one. Untouched tensors keep their index root, so two versions share
// everything they did not change.
import {decode, encode, sameEncoding} from '../codec.js'
import {CorruptObjectError, FormatVersionError} from '../errors.js'
import {parseTensorMeta, type TensorMeta} from '../format/tensor-meta.js'
import {describeValue} from '../format/messages.js'
import {isHash} from '../hash.js'

export const ROOT_FORMAT_VERSION = 1

export interface TensorState {
  meta: TensorMeta
  /** Root hash of the tensor's sample index (a prolly tree). */
  index: string
  length: number
}

export interface VersionRoot {
  /** Always made by tensorMap(): a name like 'constructor' must not find Object.prototype's. */
  tensors: Record<string, TensorState>
}

/** A tensor table without a prototype (copying `from`): lookups by user-chosen names are safe. */
export function tensorMap(from: Record<string, TensorState> = {}): Record<string, TensorState> {
  return Object.assign(Object.create(null) as Record<string, TensorState>, from)
}

export function encodeRoot(root: VersionRoot): Uint8Array {
  const names = Object.keys(root.tensors).sort()
  return encode({
    kind: 'root',
    v: ROOT_FORMAT_VERSION,
    tensors: names.map((name) => {
      const t = root.tensors[name]
      return [name, canonicalMeta(t.meta), t.index, t.length]
    }),
  })
}

// Sorted keys, so equal metas encode to equal bytes whatever order they were built in.
function canonicalMeta(meta: TensorMeta): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(meta).sort()) {
    const value = (meta as unknown as Record<string, unknown>)[key]
    if (value !== undefined) out[key] = value
  }
  return out
}

export function decodeRoot(bytes: Uint8Array, id: string): VersionRoot {
  let raw: {kind?: unknown; v?: unknown; tensors?: unknown}
  try {
    raw = decode(bytes)
  } catch {
    throw new CorruptObjectError(`object ${id} is not a valid version root`)
  }
  if (!raw || raw.kind !== 'root' || !Array.isArray(raw.tensors)) throw new CorruptObjectError(`object ${id} is not a version root`)
  if (typeof raw.v !== 'number' || raw.v > ROOT_FORMAT_VERSION) {
    throw new FormatVersionError(`version root ${id} has format version ${String(raw.v)}; this lake reads up to ${ROOT_FORMAT_VERSION}`, {hint: 'upgrade lake'})
  }
  const tensors = tensorMap()
  const malformed = (why: string) => new CorruptObjectError(`version root ${id} is malformed: ${why}`, {hint: 'run `lake fsck` to find damaged objects', data: {object: id}})
  for (const item of raw.tensors as unknown[]) {
    if (!Array.isArray(item) || item.length !== 4) throw malformed('a tensor entry is not [name, meta, index, length]')
    const [name, meta, index, length] = item as [unknown, unknown, unknown, unknown]
    // Checked here once, so that every reader can trust a decoded root: a crafted root (valid
    // hash, any content) is refused instead of crashing whatever reads the tensor later.
    if (typeof name !== 'string' || Object.hasOwn(tensors, name)) throw malformed(`tensor name ${describeValue(name)}`)
    if (typeof index !== 'string' || !isHash(index)) throw malformed(`tensor '${name}' has no valid index hash`)
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) throw malformed(`tensor '${name}' has length ${String(length)}`)
    tensors[name] = {meta: checkedMeta(meta, name, id), index, length}
  }
  return {tensors}
}

/** The stored meta, refused unless it is exactly what createTensorMeta makes for `name`. */
function checkedMeta(meta: unknown, name: string, id: string): TensorMeta {
  const parsed = parseTensorMeta(meta, `version root ${id}, tensor '${name}'`)
  if (parsed.name !== name || !sameEncoding(canonicalMeta(parsed), canonicalMeta(meta as TensorMeta))) {
    throw new CorruptObjectError(`version root ${id} is malformed: tensor '${name}' has a meta that is not canonical`, {hint: 'run `lake fsck` to find damaged objects', data: {object: id}})
  }
  return parsed
}

export const EMPTY_ROOT: VersionRoot = {tensors: tensorMap()}
