// The version root object (pure model): tensor name → meta + index root + length. A commit points
// at one; the staged state is one. Untouched tensors keep their index root, so two versions share
// everything they did not change.
import {decode, encode} from '../codec.js'
import {CorruptObjectError, FormatVersionError} from '../errors.js'
import type {TensorMeta} from '../format/tensor-meta.js'

export const ROOT_FORMAT_VERSION = 1

export interface TensorState {
  meta: TensorMeta
  /** Root hash of the tensor's sample index (a prolly tree). */
  index: string
  length: number
}

export interface VersionRoot {
  tensors: Record<string, TensorState>
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
  const tensors: Record<string, TensorState> = {}
  for (const item of raw.tensors as unknown[]) {
    if (!Array.isArray(item) || item.length !== 4) throw new CorruptObjectError(`version root ${id} is malformed`)
    const [name, meta, index, length] = item as [string, TensorMeta, string, number]
    tensors[name] = {meta, index, length}
  }
  return {tensors}
}

export const EMPTY_ROOT: VersionRoot = {tensors: {}}
