// A copy of HEAD and the refs as the event database held them when a lake process last closed it,
// so that resolving a branch or tag name (what opening a version needs) costs a few file reads
// instead of a LevelDB open: LevelDB rewrites its MANIFEST and fsyncs it and CURRENT on every
// open, 5-20 ms of a 20 ms budget for reading a column of an old version.
//
// The copy is valid only for the exact database files it was made from. It is written while the
// database is still open (so under LevelDB's lock, after the session's last write) with the name,
// size, inode, mtime and ctime of every file of .lake/db but LOCK and LOG*; a reader uses it only
// when all of those are still the same. LevelDB never rewrites a file in place: each open starts
// a new log and MANIFEST and replaces CURRENT (a new inode), writes append, compactions add files.
// So any change since (another process's open or write, a compaction, a repair, damage to a file)
// makes the copy unusable, and the reader opens LevelDB as before: it can never answer for a state
// other than the current one, and damage to .lake/db is still met by LevelDB (and fsck). Not
// durable, never part of the dataset's state; deleting it only costs the next reader an open.
//
// File .lake/cache/refs: sha256 hex of the rest, "\n", then JSON
// {"v": 1, "db": "<name size ino mtimeNs ctimeNs>\n…", "head": {branch, commit}, "refs": {"heads/main": id, …}}.
import {mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {decode} from '../codec.js'
import {sha256hex} from '../hash.js'
import type {EventDb} from './db.js'
import type {HeadState} from './records.js'

const VERSION = 1
/**
 * A database with more refs than this gets no snapshot (its readers open LevelDB, as before): each
 * session rewrites the snapshot with every ref in it, a cost that must not grow with a CI job's
 * thousands of tags.
 */
export const MAX_SNAPSHOT_REFS = 1000

export interface RefSnapshot {
  head: HeadState
  /** 'heads/<branch>' | 'tags/<tag>' | 'remotes/<remote>/<branch>' → commit id */
  refs: Record<string, string>
}

/** Where the snapshot of the event database at `dbDir` (.lake/db) lives: .lake/cache/refs. */
export function refSnapshotFile(dbDir: string): string {
  return join(dirname(dbDir), 'cache', 'refs')
}

/** The identity of the database's files now, or undefined when they cannot all be read. */
export function dbFiles(dbDir: string): string | undefined {
  try {
    const names = readdirSync(dbDir)
      .filter((name) => name !== 'LOCK' && !name.startsWith('LOG'))
      .sort()
    const lines: string[] = []
    for (const name of names) {
      const st = statSync(join(dbDir, name), {bigint: true})
      if (!st.isFile()) return undefined
      lines.push(`${name} ${st.size} ${st.ino} ${st.mtimeNs} ${st.ctimeNs}`)
    }
    return lines.join('\n')
  } catch {
    return undefined
  }
}

/**
 * Records HEAD and the refs of `db` (open, at `dbDir`) for readers to come. Call it after the
 * session's last write and before closing. Failures are ignored: it is only a shortcut. Returns
 * the identity of the database's files it recorded (dbFiles), when it got that far.
 */
export async function writeRefSnapshot(db: EventDb, dbDir: string): Promise<string | undefined> {
  try {
    const headBytes = await db.state.get('head')
    const head: HeadState = headBytes ? decode<HeadState>(headBytes) : {branch: 'main', commit: null}
    const refs: Record<string, string> = {}
    let count = 0
    for await (const [key, value] of db.refs.iterator({limit: MAX_SNAPSHOT_REFS + 1})) {
      refs[key] = decode<string>(value)
      count++
    }
    if (count > MAX_SNAPSHOT_REFS) {
      rmSync(refSnapshotFile(dbDir), {force: true}) // stale now; no reader should read and hash it
      return undefined
    }
    const files = dbFiles(dbDir)
    if (files === undefined) return undefined
    const json = JSON.stringify({v: VERSION, db: files, head: {branch: head.branch, commit: head.commit}, refs})
    const file = refSnapshotFile(dbDir)
    mkdirSync(dirname(file), {recursive: true})
    // one name: writers hold the database's lock, so one at a time (a crash's leftover is reused)
    const temp = `${file}.tmp`
    writeFileSync(temp, `${sha256hex(Buffer.from(json))}\n${json}`)
    // the old one removed first: ext4 starts writing back a file renamed over another (its
    // protection for files replaced without an fsync), which made this rename 5x slower here, and
    // up to ~2 ms on a busy journal; a reader in between finds none and opens the database
    rmSync(file, {force: true})
    renameSync(temp, file)
    return files
  } catch {
    // a read-only dataset, a full disk: readers open the database, as without a snapshot
    return undefined
  }
}

/** HEAD and the refs, when the snapshot is intact and made from the database files as they are now. */
export function readRefSnapshot(dbDir: string): RefSnapshot | undefined {
  let text: string
  try {
    text = readFileSync(refSnapshotFile(dbDir), 'utf8')
  } catch {
    return undefined
  }
  const newline = text.indexOf('\n')
  if (newline !== 64) return undefined
  const json = text.slice(65)
  if (sha256hex(Buffer.from(json)) !== text.slice(0, 64)) return undefined
  let snap: {v?: unknown; db?: unknown; head?: HeadState; refs?: Record<string, string>}
  try {
    snap = JSON.parse(json)
  } catch {
    return undefined
  }
  if (snap.v !== VERSION || typeof snap.db !== 'string' || !snap.head || !snap.refs) return undefined
  // last: the files are compared after the snapshot was read, so a change in between is seen
  if (snap.db !== dbFiles(dbDir)) return undefined
  return {head: snap.head, refs: snap.refs}
}
