// fsck: re-hash every object, check that everything a ref, the reflog or the staged state reaches
// is present and decodes, and that the event chain is unbroken. Objects nothing reaches (left by an
// interrupted command) are counted as dangling, not as problems. Each problem names the damaged
// object and the commits whose version contains it (and whether the staged state does), so a
// user knows which versions to restore, e.g. from a remote.
import fs from 'node:fs/promises'
import path from 'node:path'
import type {Repo} from '../repo/repo.js'
import {rebuildProjections, verifyChain, verifyProjections} from '../events/log.js'
import {closeLingeringEventDb, repairLevelFiles} from '../events/db.js'
import {checkLevelTables} from '../events/level-files.js'
import {CorruptObjectError, LockTimeoutError} from '../errors.js'
import {reachabilityStarts, STAGED, walkReachable, type ObjectKind} from './reach.js'

export interface FsckProblem {
  object: string
  problem: string
  /** Commits whose version reaches the object (a damaged commit names itself); sorted. */
  commits: string[]
  /** The staged state reaches the object. */
  staged: boolean
}

export interface FsckResult {
  ok: boolean
  checked: number
  problems: FsckProblem[]
  dangling: number
}

export async function fsck(repo: Repo, opts: {onProgress?: (done: number) => void} = {}): Promise<FsckResult> {
  // fsck looks at the files as they are: not through a database the resident process kept open
  await closeLingeringEventDb()
  // A damaged LevelDB table can abort the process inside LevelDB: check them before opening it.
  const tables = await checkLevelTables(repo.dbPath)
  if (tables.length > 0) return {ok: false, checked: 0, problems: tables.map((p) => ({...p, commits: [], staged: false})), dangling: 0}
  // a long-lived store (a Dataset open for hours) checks the packs there are now, not those it read
  repo.store.refresh?.()
  const found: {object: string; problem: string}[] = []
  const {starts, chain, projections} = await repo.withDb(async (db) => ({starts: await reachabilityStarts(db), chain: await verifyChain(db), projections: await verifyProjections(db)}))
  found.push(...chain.problems, ...projections)
  const referrers = new Map<string, string[]>()
  const {kinds: reached, problems: unreadable} = await walkReachable(repo, starts, referrers)
  found.push(...unreadable)
  const bad = new Set(unreadable.map((p) => p.object))

  // Re-hash every stored object.
  let checked = 0
  let dangling = 0
  for await (const {hash} of repo.objects.list()) {
    checked++
    if (checked % 256 === 0) opts.onProgress?.(checked)
    if (bad.has(hash)) continue
    const verdict = await repo.objects.verify(hash)
    if (verdict === 'corrupt') found.push({object: hash, problem: `${reached.get(hash) ?? 'object'} corrupt: its bytes do not match its hash`})
    if (!reached.has(hash)) dangling++
  }
  // A pack whose index is damaged (fs store): its objects read as missing (reported above with the
  // commits they affect); the pack itself is named too, so the damage is found where it is.
  found.push(...(repo.store.damaged?.() ?? []))
  const problems = found.map((p) => ({...p, ...affected(p.object, reached, referrers)}))
  return {ok: problems.length === 0, checked, problems, dangling}
}

/**
 * The commits whose version reaches `object`: up the referrer edges from the object to the first
 * commit on each path (a commit's own referrers are its children, whose versions do not contain
 * it, so the walk stops there).
 */
function affected(object: string, kinds: Map<string, ObjectKind>, referrers: Map<string, string[]>): {commits: string[]; staged: boolean} {
  const commits = new Set<string>()
  let staged = false
  const seen = new Set<string>([object])
  const queue = [object]
  while (queue.length > 0) {
    const hash = queue.pop()!
    if (kinds.get(hash) === 'commit') {
      commits.add(hash)
      continue
    }
    for (const by of referrers.get(hash) ?? []) {
      if (by === STAGED) staged = true
      else if (!seen.has(by)) {
        seen.add(by)
        queue.push(by)
      }
    }
  }
  return {commits: [...commits].sort(), staged}
}

export interface RepairResult {
  /** LevelDB's own files had to be rebuilt (the database did not open, or had damaged tables). */
  levelRepaired: boolean
  /** Events replayed into the rebuilt projections. */
  events: number
}

/**
 * `lake fsck --repair`: makes the event database usable again when its log is intact. If LevelDB
 * cannot open it, LevelDB's repair rebuilds its manifest first; then every projection (refs,
 * HEAD, the staged state, reflog, commit graph) is rebuilt from the log in one batch. A log whose
 * hash chain is broken is refused: its history cannot be trusted, and replaying it would hide that.
 */
export async function repairEventDb(repo: Repo): Promise<RepairResult> {
  await closeLingeringEventDb() // (LevelDB's repair needs the database closed)
  let levelRepaired = false
  // LevelDB's repair reads every table file in the directory, listed or not.
  const damaged = await checkLevelTables(repo.dbPath, {all: true})
  if (damaged.length > 0) {
    // Kept, not deleted: moved out of LevelDB's sight so that its repair rebuilds without them.
    const aside = path.join(repo.lakeDir, `db-damaged-${Date.now()}`)
    await fs.mkdir(aside, {recursive: true})
    for (const p of damaged) {
      const name = p.object.split(' ').pop()!
      await fs.rename(path.join(repo.dbPath, name), path.join(aside, name))
    }
  }
  const opens = damaged.length === 0 && (await repo.withDb(async () => true).catch((error: unknown) => {
    if (error instanceof LockTimeoutError) throw error
    return false
  }))
  if (!opens) {
    await repairLevelFiles(repo.dbPath)
    levelRepaired = true
  }
  const events = await repo.withDb(async (db) => {
    // The tip is a projection too: a tip that does not match is what the rebuild fixes.
    const broken = (await verifyChain(db)).problems.filter((p) => p.object !== 'event-log')
    if (broken.length > 0) {
      throw new CorruptObjectError(`the event log itself is damaged (${broken[0].object}: ${broken[0].problem}); it cannot be replayed`, {
        hint: 'clone the dataset again from a remote, or restore .lake/db from a backup',
      })
    }
    return rebuildProjections(db)
  })
  return {levelRepaired, events}
}
