// The commit object (pure model): parents + version root + message, author, time, code link.
// Its id is the sha256 of its msgpack encoding, like git.
import {decode, encode} from '../codec.js'
import {CorruptObjectError, FormatVersionError} from '../errors.js'
import {isHash} from '../hash.js'

export const COMMIT_FORMAT_VERSION = 1

export interface Author {
  name: string
  email: string
}

export interface CodeLink {
  sha: string
  branch: string | null
  dirty: boolean
}

export interface Commit {
  parents: string[]
  root: string
  message: string
  author: Author
  /** Milliseconds since the epoch; never earlier than the first parent's (time travel relies on it). */
  time: number
  /** The branch the commit was made on (null when detached); informative, like a reflog line. */
  branch: string | null
  code: CodeLink | null
}

export function encodeCommit(c: Commit): Uint8Array {
  // Fixed key order: the same commit always hashes the same.
  return encode({
    kind: 'commit',
    v: COMMIT_FORMAT_VERSION,
    parents: c.parents,
    root: c.root,
    message: c.message,
    author: {name: c.author.name, email: c.author.email},
    time: c.time,
    branch: c.branch,
    code: c.code ? {sha: c.code.sha, branch: c.code.branch, dirty: c.code.dirty} : null,
  })
}

export function decodeCommit(bytes: Uint8Array, id: string): Commit {
  let raw: Record<string, unknown>
  try {
    raw = decode<Record<string, unknown>>(bytes)
  } catch {
    throw new CorruptObjectError(`object ${id} is not a valid commit`)
  }
  if (!raw || raw.kind !== 'commit') throw new CorruptObjectError(`object ${id} is not a commit`)
  if (typeof raw.v !== 'number' || raw.v > COMMIT_FORMAT_VERSION) {
    throw new FormatVersionError(`commit ${id} has format version ${String(raw.v)}; this lake reads up to ${COMMIT_FORMAT_VERSION}`, {hint: 'upgrade lake'})
  }
  const bad = malformedField(raw)
  if (bad) throw new CorruptObjectError(`commit ${id} is malformed: ${bad}`, {hint: 'run `lake fsck` to find damaged objects', data: {object: id}})
  return {
    parents: raw.parents as string[],
    root: raw.root as string,
    message: raw.message as string,
    author: raw.author as Author,
    time: raw.time as number,
    branch: raw.branch as string | null,
    code: raw.code as CodeLink | null,
  }
}

// Every field a reader relies on (log, show, merge-base, push) is checked here, once: a crafted
// commit with valid hash but wrong field types must be refused, not crash a later reader.
function malformedField(raw: Record<string, unknown>): string | null {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
  const isStringOrNull = (v: unknown) => v === null || typeof v === 'string'
  if (!Array.isArray(raw.parents) || !raw.parents.every((p) => typeof p === 'string' && isHash(p))) return 'parents'
  if (typeof raw.root !== 'string' || !isHash(raw.root)) return 'root'
  if (typeof raw.message !== 'string') return 'message'
  if (!isObject(raw.author) || typeof raw.author.name !== 'string' || typeof raw.author.email !== 'string') return 'author'
  // Within what a Date can hold: log and show print it as an ISO time.
  if (typeof raw.time !== 'number' || !Number.isFinite(raw.time) || Math.abs(raw.time) > 8.64e15) return 'time'
  if (!isStringOrNull(raw.branch)) return 'branch'
  const code = raw.code
  if (code !== null && (!isObject(code) || typeof code.sha !== 'string' || !isStringOrNull(code.branch) || typeof code.dirty !== 'boolean')) return 'code'
  return null
}

/** How a commit is shown to users and scripts (`log --json`, `show --json`). */
export function commitSummary(id: string, c: Commit) {
  return {
    commit: id,
    parents: c.parents,
    message: c.message,
    author: `${c.author.name} <${c.author.email}>`,
    timestamp: new Date(c.time).toISOString(),
    branch: c.branch,
    code: c.code ? {sha: c.code.sha, dirty: c.code.dirty} : null,
  }
}
