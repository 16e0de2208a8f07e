// Storage keys: the one place that says what a key may look like. Every provider validates here,
// so a key that works on memory also works on disk and on S3, and no key can escape a file
// store's root ('..') or collide with a provider's own bookkeeping files ('.lake-*').
import {StorageError} from '../errors.js'

/** Where ObjectDb keeps content-addressed objects; providers may treat keys under it as immutable. */
export const OBJECTS_PREFIX = 'objects/'
/** Segment prefix reserved for providers' own files (temp files, lock files). */
export const INTERNAL_NAME_PREFIX = '.lake-'
/** S3's limit, so that keys stay portable to it. */
export const MAX_KEY_BYTES = 1024
/** Leaves room under the usual 255-byte file-name limit for '.lake-lock-' + the segment. */
export const MAX_SEGMENT_BYTES = 200

const KEY_HINT = "keys are '/'-separated names: no leading or trailing '/', no empty, '.', '..' or '.lake-*' segments, no control characters or '\\'"

export function isInternalName(name: string): boolean {
  return name.startsWith(INTERNAL_NAME_PREFIX)
}

function segmentProblem(segment: string): string | null {
  if (segment === '') return 'it has an empty segment'
  if (segment === '.' || segment === '..') return `it has a '${segment}' segment`
  if (isInternalName(segment)) return `'${INTERNAL_NAME_PREFIX}*' names are reserved for the store`
  if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return `a segment is longer than ${MAX_SEGMENT_BYTES} bytes`
  return null
}

function characterProblem(s: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(s)) return 'it contains a control character'
  if (s.includes('\\')) return "it contains '\\'"
  return null
}

function refuse(what: string, value: unknown, reason: string): never {
  throw new StorageError(`invalid storage ${what} ${JSON.stringify(value)}: ${reason}`, {hint: KEY_HINT, data: {[what]: value}})
}

/**
 * Keys that pass every rule below at a glance: ASCII segments of 1–200 characters that do not start
 * with '.' (so no '.', '..' or '.lake-*'), joined by single '/'. Every object key is one; checking
 * them without splitting saves each read an array and its strings.
 */
const PLAIN_KEY = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}(?:\/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199})*$/

export function assertKey(key: string): void {
  if (isPlainKey(key)) return
  const bad = keyProblem(key)
  if (bad) refuse('key', key, bad)
}

/** True for a key of PLAIN_KEY's shape (which keyProblem then never refuses). */
export function isPlainKey(key: unknown): boolean {
  return typeof key === 'string' && key.length <= MAX_KEY_BYTES && PLAIN_KEY.test(key)
}

/** What is wrong with `key`, every rule checked; null when it is a valid key. */
export function keyProblem(key: unknown): string | null {
  if (typeof key !== 'string' || key === '') return 'a key is a non-empty string'
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `it is longer than ${MAX_KEY_BYTES} bytes`
  if (key.startsWith('/')) return "it starts with '/'"
  return characterProblem(key) ?? key.split('/').map(segmentProblem).find(p => p !== null) ?? null
}

/** A list prefix is a plain string prefix of keys ('objects/a' matches 'objects/ab/…'), so only its complete segments are checked as segments. */
export function assertPrefix(prefix: string): void {
  if (typeof prefix !== 'string') refuse('prefix', prefix, 'a prefix is a string')
  if (prefix === '') return
  if (prefix.startsWith('/')) refuse('prefix', prefix, "it starts with '/'")
  if (Buffer.byteLength(prefix) > MAX_KEY_BYTES) refuse('prefix', prefix, `it is longer than ${MAX_KEY_BYTES} bytes`)
  const complete = prefix.split('/').slice(0, -1)
  const bad = characterProblem(prefix) ?? complete.map(segmentProblem).find(p => p !== null)
  if (bad) refuse('prefix', prefix, bad)
}

/** True when `key` lies under one of `prefixes` (plain string prefixes). */
export function isUnder(key: string, prefixes: readonly string[]): boolean {
  return prefixes.some(prefix => key.startsWith(prefix))
}
