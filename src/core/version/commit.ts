// The commit object (pure model): parents + version root + message, author, time, code link.
// Its id is the sha256 of its msgpack encoding, like git.
import {decode, encode} from '../codec.js'
import {CorruptObjectError, FormatVersionError} from '../errors.js'

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
  if (!Array.isArray(raw.parents) || typeof raw.root !== 'string' || typeof raw.time !== 'number') {
    throw new CorruptObjectError(`commit ${id} is malformed`)
  }
  return {
    parents: raw.parents as string[],
    root: raw.root,
    message: String(raw.message ?? ''),
    author: raw.author as Author,
    time: raw.time,
    branch: typeof raw.branch === 'string' ? raw.branch : null,
    code: (raw.code as CodeLink | null) ?? null,
  }
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
