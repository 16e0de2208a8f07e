// `lake gc`: delete the objects nothing keeps alive (no branch, tag, HEAD, reflog entry or staged
// state reaches them). Objects younger than the grace period are kept whatever they are: another
// process may have just written them and not yet appended the event that references them (a
// writer that finds its object already stored touches it, see storage/objects.ts).
import type {Repo} from '../repo/repo.js'
import {CHUNK_MAGIC} from '../format/chunk.js'
import {decode} from '../codec.js'
import {UsageError} from '../errors.js'
import {reachabilityStarts, walkReachable, type Starts} from './reach.js'
import {liveLeases} from './lease.js'

export const DEFAULT_GRACE_MS = 60 * 60 * 1000

export interface GcResult {
  deleted: number
  freedBytes: number
  dryRun: boolean
  /** Unreachable objects per kind (what they were), with their bytes. */
  byKind: Record<string, {objects: number; bytes: number}>
  /** Unreachable but younger than the grace period: kept. */
  keptYoung: {objects: number; bytes: number}
  reachable: number
  /** Commands writing right now: gc deleted nothing and reports what it would have deleted. */
  deferredBy?: string[]
}

/** '1h', '30m', '2d', '45s', 'now' → milliseconds. */
export function parseGrace(text: string): number {
  if (text === 'now') return 0
  const m = /^(\d+)(s|m|h|d)$/.exec(text)
  if (!m) throw new UsageError(`bad --prune value '${text}'`, {hint: "use 'now' or an age like 30m, 1h, 2d"})
  return Number(m[1]) * {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}[m[2] as 's' | 'm' | 'h' | 'd']
}

/**
 * Runs under the dataset lock from start to end, so no command can stage or commit in between;
 * and while another command holds a write lease (it has written objects that its event will
 * reference), nothing is deleted at all: see ops/lease.ts.
 */
export async function gc(repo: Repo, opts: {dryRun?: boolean; graceMs?: number} = {}): Promise<GcResult> {
  return repo.withDb(async (db) => {
    const writers = await liveLeases(db)
    return collect(repo, await reachabilityStarts(db), {...opts, deferred: writers.length > 0 ? writers.map((w) => `${w.action} (pid ${w.pid})`) : undefined})
  })
}

async function collect(repo: Repo, starts: Starts, opts: {dryRun?: boolean; graceMs?: number; deferred?: string[]}): Promise<GcResult> {
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS
  const started = Date.now()
  const {kinds} = await walkReachable(repo, starts)
  const result: GcResult = {deleted: 0, freedBytes: 0, dryRun: !!opts.dryRun || !!opts.deferred, byKind: {}, keptYoung: {objects: 0, bytes: 0}, reachable: kinds.size, ...(opts.deferred ? {deferredBy: opts.deferred} : {})}
  for await (const {hash, size, mtimeMs} of repo.objects.list()) {
    if (kinds.has(hash)) continue
    if (mtimeMs > started - graceMs) {
      result.keptYoung.objects++
      result.keptYoung.bytes += size
      continue
    }
    const kind = await kindOf(repo, hash, size)
    const k = (result.byKind[kind] ??= {objects: 0, bytes: 0})
    k.objects++
    k.bytes += size
    if (!result.dryRun) await repo.objects.delete(hash)
    result.deleted++
    result.freedBytes += size
  }
  // (a file store drops packed objects by rewriting their packs: once, here, for all of them)
  if (!result.dryRun && result.deleted > 0) await repo.objects.flush()
  // Temp files of interrupted writes (fs store), older than the grace period.
  if (!result.dryRun && repo.store.cleanupTemp) {
    const swept = await repo.store.cleanupTemp(Math.max(graceMs, 60_000))
    if (swept.files) result.byKind['interrupted write'] = {objects: swept.files, bytes: swept.bytes}
  }
  return result
}

const MAGIC = Buffer.from(CHUNK_MAGIC)

/** What an unreachable object was, for the per-kind report (chunk, index node, root, commit). */
async function kindOf(repo: Repo, hash: string, size: number): Promise<string> {
  try {
    const head = await repo.objects.getRange(hash, 0, Math.min(size, 4))
    if (Buffer.from(head).equals(MAGIC)) return 'chunk'
    if (size > 4 * 1024 * 1024) return 'other'
    const kind = decode<{kind?: unknown}>(await repo.objects.get(hash))?.kind
    return kind === 'index-leaf' || kind === 'index-inner' ? 'index node' : typeof kind === 'string' ? kind : 'other'
  } catch {
    return 'unreadable'
  }
}
