// The LevelDB that holds the event log and its projections. LevelDB admits one process at a time,
// so a command opens it only for the short moments of reading state and appending events, and a
// second process waits (bounded by LAKE_LOCK_TIMEOUT) instead of failing at once. A kill -9 leaves
// no stale lock: LevelDB's LOCK is an fcntl lock that the kernel drops with the process.
import {Level} from 'level'
import {setTimeout as sleep} from 'node:timers/promises'
import {LockTimeoutError, StorageError} from '../errors.js'
import {dbFiles, writeRefSnapshot} from './ref-snapshot.js'

type Bytes = Uint8Array
export type LakeLevel = Level<string, Bytes>
/** The part of a LevelDB sublevel lake uses, typed for string keys and byte values. */
export interface Sub {
  get(key: string): Promise<Bytes | undefined>
  iterator(opts?: {gte?: string; gt?: string; lt?: string; lte?: string; reverse?: boolean; limit?: number}): AsyncIterable<[string, Bytes]>
  keys(opts?: {gte?: string; gt?: string; lt?: string; lte?: string; reverse?: boolean; limit?: number}): {all(): Promise<string[]>}
  clear(): Promise<void>
  put(key: string, value: Bytes): Promise<void>
  del(key: string): Promise<void>
}

export interface EventDb {
  level: LakeLevel
  /**
   * Runs before every append (the commit point of every operation): the Repo makes the objects
   * its records will name durable here (ObjectDb.flush), so a power cut never leaves an event
   * naming an object that is not on disk.
   */
  beforeAppend?: () => Promise<void>
  /** seq (16 hex digits) → encoded EventRecord */
  log: Sub
  /** 'tip' (last seq + hash), 'head', 'staged' */
  state: Sub
  /** 'heads/<branch>' | 'tags/<tag>' → commit id (utf8) */
  refs: Sub
  /** counter (16 hex digits) → reflog entry of HEAD */
  reflog: Sub
  /** commit id → commit graph entry (time, first-parent depth, skip pointers) */
  commits: Sub
  /** Write leases of commands that are writing objects right now (not history: see ops/lease.ts). */
  leases: Sub
}

export function lockTimeoutMs(): number {
  const raw = process.env.LAKE_LOCK_TIMEOUT
  if (raw === undefined || raw === '') return 10_000
  const seconds = Number(raw)
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 10_000
}

function wrap(level: LakeLevel): EventDb {
  const sub = (name: string) => level.sublevel<string, Bytes>(name, {valueEncoding: 'view'}) as unknown as Sub
  return {level, log: sub('log'), state: sub('state'), refs: sub('refs'), reflog: sub('reflog'), commits: sub('commits'), leases: sub('leases')}
}

/** LevelDB opens by this process so far (tests check which reads do without one). */
export let eventDbOpens = 0

export async function openEventDb(path: string, opts: {create?: boolean} = {}): Promise<EventDb> {
  const reused = await takeParked(path)
  if (reused) return reused
  eventDbOpens++
  const deadline = Date.now() + lockTimeoutMs()
  let delay = 5
  for (;;) {
    const level = new Level<string, Bytes>(path, {valueEncoding: 'view', createIfMissing: opts.create ?? false})
    try {
      await level.open()
      return wrap(level)
    } catch (error) {
      const code = (error as {cause?: {code?: string}}).cause?.code
      if (code !== 'LEVEL_LOCKED') {
        throw new StorageError(`cannot open the dataset's event log at ${path}: ${(error as Error).cause ?? (error as Error).message}`, {hint: REPAIR_HINT})
      }
      if (Date.now() >= deadline) {
        throw new LockTimeoutError(`another lake process has held the dataset for ${lockTimeoutMs() / 1000} s`, {
          hint: 'wait for it to finish, or raise LAKE_LOCK_TIMEOUT (seconds)',
        })
      }
      await sleep(delay)
      delay = Math.min(delay * 2, 50)
      // (the holder was a session of this process, which has ended and left the database lingering)
      if (parked?.path === path) {
        const taken = await takeParked(path)
        if (taken) return taken
      }
    }
  }
}

/** What to do about a damaged .lake/db: the projections can be rebuilt from an intact log. */
export const REPAIR_HINT = "the dataset's event database (.lake/db) is damaged: run 'lake fsck --repair' to rebuild it from its event log, or clone the dataset again from a remote"

/** Runs fn with the database open, and closes it whatever happens. */
export async function withEventDb<T>(path: string, fn: (db: EventDb) => Promise<T>): Promise<T> {
  const db = await openEventDb(path)
  let ended: EndedSession | undefined
  try {
    const result = await fn(db)
    // the session's last step: later readers may skip the open (events/ref-snapshot.ts)
    ended = {path, files: await writeRefSnapshot(db, path)}
    return result
  } catch (error) {
    throw levelError(error, path)
  } finally {
    await closeEventDb(db, ended)
  }
}

/**
 * The resident process (LAKE_DAEMON=1, src/cli/server.ts) keeps the event log of its last command
 * open for a moment instead of closing it, so that the next command on the same dataset (`lake
 * add`, then `commit`, then `tag`) skips LevelDB's close and open: ~10 ms each, and every open
 * turns the last log into a level-0 table. Another process that wants the dataset meanwhile waits, as
 * for any lake process holding it, at most this long more (a command run with LAKE_LOCK_TIMEOUT=0,
 * which asks not to wait, does not linger). A parked database is taken again only
 * when its files are exactly as they were left (dbFiles: not the same path re-initialised, not a
 * file moved by a repair, not a compaction since; any of those costs an open, nothing else).
 */
let lingerMs = 0
let parked: {path: string; db: EventDb; files: string; timer: NodeJS.Timeout} | undefined

/** Sessions that end cleanly from now on leave their database open for `ms` (0: close at once). */
export function lingerEventDbs(ms: number): void {
  lingerMs = ms
}

/** Closes the database a session left open (lingerEventDbs), if any. */
export async function closeLingeringEventDb(): Promise<void> {
  const p = parked
  parked = undefined
  if (p) {
    clearTimeout(p.timer)
    const done: Promise<void> = settleAndClose(p.db.level)
      .catch(() => {})
      .finally(() => {
        if (closing === done) closing = undefined
      })
    closing = done
  }
  await closing
}

/** A lingering database being closed (it may wait up to SETTLE_MS for a compaction): opens wait for it. */
let closing: Promise<void> | undefined

/**
 * The parked database when it is the one at `path`, untouched since; else closes it, and waits for
 * any close under way (this process's lingering database holds LevelDB's lock until it is closed).
 */
async function takeParked(path: string): Promise<EventDb | undefined> {
  const p = parked
  if (!p || p.path !== path || p.db.level.status !== 'open' || dbFiles(path) !== p.files) {
    await closeLingeringEventDb()
    return undefined
  }
  parked = undefined
  clearTimeout(p.timer)
  // (the same sublevels again: new ones each time would pile up on the database)
  return {...p.db, beforeAppend: undefined}
}

/**
 * LevelDB compacts level 0 (a table per session's log) into level 1 in a background thread once
 * there are four such tables, and closing the database abandons a compaction under way. A lake
 * session is a few milliseconds, so its compactions were nearly all abandoned: level 0 grew to
 * over a hundred tables in a 2000-commit history, each read looked in every one, and every write
 * was delayed 1 ms (LevelDB's brake at eight). So a session that leaves a compaction due waits for
 * it, up to SETTLE_MS (a level-0 compaction rewrites at most level 1's ~10 MB), then closes.
 */
const LEVEL0_COMPACTION_TRIGGER = 4
const SETTLE_MS = 1000

/** A session that ended cleanly: its database's path, and its files' identity when already known. */
interface EndedSession {
  path: string
  files?: string
}

/** Ends a session: parks the database when it `ended` cleanly and lingering is on. */
export async function closeEventDb(db: EventDb, ended?: EndedSession): Promise<void> {
  // LAKE_LOCK_TIMEOUT=0 asks other commands to fail at once on a held dataset: then hold it no longer
  const files = lingerMs > 0 && ended !== undefined && lockTimeoutMs() > 0 ? (ended.files ?? dbFiles(ended.path)) : undefined
  if (files === undefined) return settleAndClose(db.level)
  await closeLingeringEventDb()
  const timer = setTimeout(() => void closeLingeringEventDb(), lingerMs)
  timer.unref()
  parked = {path: ended!.path, db, files, timer}
}

async function settleAndClose(level: LakeLevel): Promise<void> {
  try {
    // classic-level's; `level`'s types leave it out
    const property = (level as unknown as {getProperty(name: string): string}).getProperty.bind(level)
    const level0 = () => Number(property('leveldb.num-files-at-level0'))
    if (level0() >= LEVEL0_COMPACTION_TRIGGER) {
      const deadline = Date.now() + SETTLE_MS
      while (level0() >= LEVEL0_COMPACTION_TRIGGER && Date.now() < deadline) await sleep(2)
    }
  } catch {
    // a closed or failed database: nothing to wait for
  }
  await level.close()
}

/** A LevelDB failure (a corrupt block, a missing table file) as a lake error; others unchanged. */
export function levelError(error: unknown, path: string): unknown {
  const code = (error as {code?: unknown})?.code
  if (typeof code !== 'string' || !code.startsWith('LEVEL_')) return error
  const cause = (error as Error).cause
  const detail = cause instanceof Error ? cause.message : (error as Error).message
  return new StorageError(`the dataset's event log at ${path} cannot be read: ${detail}`, {hint: REPAIR_HINT})
}

export const seqKey = (n: number) => n.toString(16).padStart(16, '0')

/**
 * Lets LevelDB rebuild its own bookkeeping (CURRENT, MANIFEST) from the table and log files it
 * finds, when the database no longer opens. Only for `lake fsck --repair`, with no other lake
 * process running: LevelDB's repair takes no lock.
 */
export async function repairLevelFiles(path: string): Promise<void> {
  try {
    await (Level as unknown as {repair(location: string): Promise<void>}).repair(path)
  } catch (error) {
    throw new StorageError(`cannot repair the dataset's event log at ${path}: ${(error as Error).message}`, {
      hint: 'clone the dataset again from a remote, or restore .lake/db from a backup',
    })
  }
}
