// Tensor metadata: what a tensor holds (htype), how its elements are typed (dtype) and how its
// samples are packed (sample and chunk compression, chunk size). Creating one validates every
// combination once, so encoders and decoders can trust a TensorMeta they are given.
import {FormatVersionError, CorruptObjectError, InvalidTensorSpecError, LakeError} from '../errors.js'
import {DTYPES, isDtype, isIntDtype, type Dtype} from './dtype.js'
import {describeValue} from './messages.js'

export type {Dtype} from './dtype.js'
export type Htype = 'generic' | 'class_label' | 'text' | 'json' | 'image' | 'bbox' | 'embedding' | 'binary'
export const HTYPES: readonly Htype[] = ['generic', 'class_label', 'text', 'json', 'image', 'bbox', 'embedding', 'binary']
export type SampleCompression = 'none' | 'jpeg' | 'png'
export type ChunkCompression = 'none' | 'lz4'

export interface TensorMeta {
  name: string
  htype: Htype
  dtype: Dtype
  /** class_label only: index i names class classNames[i]. */
  classNames?: string[]
  /** image: the compression of the bytes stored as-is; 'none' accepts JPEG and PNG alike. */
  sampleCompression: SampleCompression
  /** lz4 is used only when it saves at least 10% of a chunk, see chunk.ts. */
  chunkCompression: ChunkCompression
  /** Target chunk size; a larger sample is stored alone in its chunk. */
  maxChunkBytes: number
  /** generic only: when set, every sample must have exactly this many dimensions. */
  rank?: number
}

export interface TensorMetaOptions {
  htype: string
  dtype?: string
  classNames?: string[]
  sampleCompression?: string
  chunkCompression?: string
  maxChunkBytes?: number
  rank?: number
  /** For the dataset layer's hidden tensors (sample ids): names starting with '_' are reserved. */
  allowReserved?: boolean
}

export const DEFAULT_MAX_CHUNK_BYTES = 4 * 1024 * 1024
// bounded so a chunk always fits one Buffer and its offsets fit the u32 fields of index entries
export const MAX_MAX_CHUNK_BYTES = 1024 * 1024 * 1024
export const MAX_RANK = 255

const NUMERIC: Dtype[] = ['u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64', 'f32', 'f64']
const INTS: Dtype[] = NUMERIC.filter(isIntDtype)

interface HtypeRule {
  dtypes: Dtype[]
  defaultDtype: Dtype
  sampleCompressions: SampleCompression[]
  defaultChunkCompression: ChunkCompression
}

// Defaults: numbers are f32 (what training consumes), class indices i32 (signed, like torch's
// and the JS number range), strings UTF-8. Small samples default to lz4 because labels, text and
// JSON compress well; images and raw files are already compressed or opaque, so they stay raw
// (which also keeps them readable with ranged reads).
const RULES: Record<Htype, HtypeRule> = {
  generic: {dtypes: [...NUMERIC, 'bool'], defaultDtype: 'f32', sampleCompressions: ['none'], defaultChunkCompression: 'lz4'},
  class_label: {dtypes: INTS, defaultDtype: 'i32', sampleCompressions: ['none'], defaultChunkCompression: 'lz4'},
  text: {dtypes: ['str'], defaultDtype: 'str', sampleCompressions: ['none'], defaultChunkCompression: 'lz4'},
  json: {dtypes: ['str'], defaultDtype: 'str', sampleCompressions: ['none'], defaultChunkCompression: 'lz4'},
  image: {dtypes: ['u8'], defaultDtype: 'u8', sampleCompressions: ['none', 'jpeg', 'png'], defaultChunkCompression: 'none'},
  bbox: {dtypes: NUMERIC, defaultDtype: 'f32', sampleCompressions: ['none'], defaultChunkCompression: 'lz4'},
  embedding: {dtypes: NUMERIC, defaultDtype: 'f32', sampleCompressions: ['none'], defaultChunkCompression: 'lz4'},
  binary: {dtypes: ['u8'], defaultDtype: 'u8', sampleCompressions: ['none'], defaultChunkCompression: 'none'},
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/
const KNOWN_KEYS = new Set(['name', 'htype', 'dtype', 'classNames', 'sampleCompression', 'chunkCompression', 'maxChunkBytes', 'rank'])

const isHtype = (s: string): s is Htype => (HTYPES as readonly string[]).includes(s)
const list = (xs: readonly string[]) => xs.join(', ')

function specError(name: string, what: string, hint: string, data: Record<string, unknown> = {}): InvalidTensorSpecError {
  return new InvalidTensorSpecError(`tensor '${name}': ${what}`, {hint, data: {tensor: name, ...data}})
}

export function validateTensorName(name: string, allowReserved = false): void {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new InvalidTensorSpecError(`invalid tensor name ${(typeof name === 'string' ? JSON.stringify(name) : describeValue(name))}: expected a letter or '_' then up to 127 letters, digits, '_', '.' or '-'`, {
      hint: "use a name like 'images', 'labels' or 'box.xyxy'",
      data: {tensor: name},
    })
  }
  if (name.startsWith('_') && !allowReserved) {
    throw specError(name, "names starting with '_' are reserved for lake's hidden tensors", "rename it, e.g. without the leading '_'")
  }
}

export function createTensorMeta(name: string, opts: TensorMetaOptions): TensorMeta {
  validateTensorName(name, opts.allowReserved)
  const htype = opts.htype
  if (typeof htype !== 'string' || !isHtype(htype)) {
    throw specError(name, `unknown htype ${describeValue(htype)}`, `valid htypes: ${list(HTYPES)}`, {htype})
  }
  const rule = RULES[htype]

  const dtype = opts.dtype ?? rule.defaultDtype
  if (!isDtype(dtype)) throw specError(name, `unknown dtype ${describeValue(dtype)}`, `valid dtypes: ${list(DTYPES)}`, {dtype})
  if (!rule.dtypes.includes(dtype)) {
    throw specError(name, `htype ${htype} cannot hold dtype ${dtype}`, `valid dtypes for ${htype}: ${list(rule.dtypes)}`, {htype, dtype})
  }

  const sampleCompression = opts.sampleCompression ?? rule.sampleCompressions[0]
  if (!(rule.sampleCompressions as string[]).includes(sampleCompression)) {
    throw specError(name, `htype ${htype} cannot use sample compression ${describeValue(sampleCompression)}`,
      `valid sample compressions for ${htype}: ${list(rule.sampleCompressions)}`, {sampleCompression})
  }

  const chunkCompression = opts.chunkCompression ?? rule.defaultChunkCompression
  if (chunkCompression !== 'none' && chunkCompression !== 'lz4') {
    throw specError(name, `unknown chunk compression ${describeValue(chunkCompression)}`, 'valid chunk compressions: none, lz4', {chunkCompression})
  }

  const maxChunkBytes = opts.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES
  if (!Number.isSafeInteger(maxChunkBytes) || maxChunkBytes < 1 || maxChunkBytes > MAX_MAX_CHUNK_BYTES) {
    throw specError(name, `maxChunkBytes must be an integer from 1 to ${MAX_MAX_CHUNK_BYTES}, got ${maxChunkBytes}`,
      `the default is ${DEFAULT_MAX_CHUNK_BYTES} (4 MiB)`, {maxChunkBytes})
  }

  // fields in a fixed order and absent rather than undefined: the meta is hashed as encoded
  const meta: TensorMeta = {name, htype, dtype} as TensorMeta
  if (opts.classNames !== undefined) {
    if (htype !== 'class_label') throw specError(name, `class names only apply to htype class_label, not ${htype}`, 'drop the class names or use --htype class_label')
    meta.classNames = checkClassNames(name, [], opts.classNames)
  }
  meta.sampleCompression = sampleCompression as SampleCompression
  meta.chunkCompression = chunkCompression
  meta.maxChunkBytes = maxChunkBytes
  if (opts.rank !== undefined) {
    if (htype !== 'generic') throw specError(name, `a fixed rank only applies to htype generic, not ${htype}`, 'embedding is always 1-d, bbox [4] or [n, 4], class_label a scalar or a 1-d list')
    if (!Number.isInteger(opts.rank) || opts.rank < 0 || opts.rank > MAX_RANK) {
      throw specError(name, `rank must be an integer from 0 to ${MAX_RANK}, got ${opts.rank}`, 'rank 0 = scalars, 1 = vectors, 2 = matrices...')
    }
    meta.rank = opts.rank
  }
  return meta
}

/**
 * `existing` + the new names not already present, in order; names must be non-empty strings.
 * A repeat is an error in a spec, but skipped when appending (an importer passes what it saw).
 */
function checkClassNames(tensor: string, existing: readonly string[], names: unknown, skipRepeats = false): string[] {
  if (!Array.isArray(names)) throw specError(tensor, 'class names must be a list of strings', 'e.g. ["cat", "dog"]')
  const out = [...existing]
  const seen = new Set(existing)
  for (const [i, n] of names.entries()) {
    if (typeof n !== 'string' || n.length === 0) {
      throw specError(tensor, `class name ${i} must be a non-empty string, got ${describeValue(n)}`, 'e.g. ["cat", "dog"]')
    }
    if (seen.has(n)) {
      if (skipRepeats) continue
      throw specError(tensor, `class name ${JSON.stringify(n)} appears twice`, 'each class name must be unique')
    }
    seen.add(n)
    out.push(n)
  }
  return out
}

/**
 * A new meta with `names` appended to the class names (known ones and repeats are skipped, order
 * kept), so existing indices keep their meaning. Importers call it when they meet a new class.
 */
export function withClassNames(meta: TensorMeta, names: readonly string[]): TensorMeta {
  if (meta.htype !== 'class_label') {
    throw specError(meta.name, `class names only apply to htype class_label, not ${meta.htype}`, 'create the tensor with --htype class_label')
  }
  const classNames = checkClassNames(meta.name, meta.classNames ?? [], names, true)
  return createTensorMeta(meta.name, {...meta, classNames, allowReserved: true})
}

/** The index of a class name, or undefined when the tensor does not know it. */
export function classIndex(meta: TensorMeta, name: string): number | undefined {
  const i = meta.classNames?.indexOf(name) ?? -1
  return i >= 0 ? i : undefined
}

/**
 * Validates a meta read back from storage. Unknown keys mean a newer writer (refused rather than
 * silently dropped, since re-encoding without them would change the meta's hash).
 */
export function parseTensorMeta(raw: unknown, objectId = 'tensor meta'): TensorMeta {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || typeof (raw as {name?: unknown}).name !== 'string') {
    throw new CorruptObjectError(`${objectId}: not a tensor meta object`, {data: {object: objectId}})
  }
  const unknown = Object.keys(raw).filter(k => !KNOWN_KEYS.has(k))
  if (unknown.length > 0) {
    throw new FormatVersionError(`${objectId}: unknown tensor meta fields ${list(unknown)}`, {
      hint: 'this dataset was written by a newer lake; upgrade lake',
      data: {object: objectId, fields: unknown},
    })
  }
  const {name, ...rest} = raw as TensorMeta
  try {
    return createTensorMeta(name, {...rest, allowReserved: true})
  } catch (e) {
    if (e instanceof LakeError) throw new CorruptObjectError(`${objectId}: invalid tensor meta: ${e.message}`, {data: {object: objectId}})
    throw e
  }
}

export const htypeDefaults = (htype: Htype): Readonly<HtypeRule> => RULES[htype]
