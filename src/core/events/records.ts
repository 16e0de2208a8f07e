// The event records of the append-only log (docs/FORMAT.md, "Events"). Each names objects by hash
// and never carries sample bytes, so the log stays small. Pure types and helpers: no I/O here.

export const EVENT_FORMAT_VERSION = 1

export interface HeadState {
  /** The checked-out branch, or null when HEAD is detached. */
  branch: string | null
  /** The commit HEAD points at; null on an unborn branch (no commit yet). */
  commit: string | null
}

/** Per-tensor tallies of what a staging operation did (informative; `status` diffs the trees). */
export interface TensorChange {
  tensor: string
  created?: boolean
  added: number
  updated: number
  deleted: number
}

export interface StagedState {
  /** The commit the staged changes sit on (null on an unborn branch). */
  base: string | null
  /** Version-root hash of the staged state (equals the base commit's root when clean). */
  root: string
}

interface RecordBase {
  v: number
  seq: number
  /** Milliseconds since the epoch. */
  time: number
  /** sha256 of the previous record's bytes; '' for the first record. */
  prev: string
}

export type EventBody =
  | {type: 'init'; branch: string; root: string}
  | {type: 'stage'; action: string; base: string | null; root: string; changes: TensorChange[]; objects: string[]}
  | {type: 'staged.reset'; base: string | null; root: string}
  | {type: 'commit'; commit: string; parents: string[]; root: string; branch: string | null; commitTime: number; message: string}
  | {type: 'ref.set'; ref: string; commit: string; old: string | null}
  | {type: 'ref.delete'; ref: string; old: string}
  | {type: 'head.move'; branch: string | null; commit: string | null; from: string | null; root: string; carry: boolean; reason: string}
  /** What a fetch learned: the remote's branch tips (remote-tracking refs) and the commits new here. */
  | {type: 'remote.update'; remote: string; heads: Record<string, string>; removed: string[]; commits: {id: string; parents: string[]; time: number}[]}

export type EventRecord = RecordBase & EventBody

export const branchRef = (name: string) => `heads/${name}`
export const tagRef = (name: string) => `tags/${name}`
export const remoteRef = (remote: string, branch: string) => `remotes/${remote}/${branch}`

const isHashText = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)
const isHashOrNull = (v: unknown) => v === null || isHashText(v)
const isStr = (v: unknown): v is string => typeof v === 'string'
const isStrOrNull = (v: unknown) => v === null || typeof v === 'string'
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
/** A time a Date can hold (reflog and log print them as ISO times). */
const isTime = (v: unknown): v is number => isNum(v) && Math.abs(v) <= 8.64e15
const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
const listOf = (v: unknown, ok: (x: unknown) => boolean) => Array.isArray(v) && v.every(ok)

/** The fields each event type must carry, with the types applyRecord and readers rely on. */
const BODY_CHECKS: Record<EventBody['type'], Record<string, (v: unknown) => boolean>> = {
  init: {branch: isStr, root: isHashText},
  stage: {
    action: isStr, base: isHashOrNull, root: isHashText, objects: (v) => listOf(v, isStr),
    changes: (v) => listOf(v, (c) => isPlain(c) && isStr(c.tensor) && isNum(c.added) && isNum(c.updated) && isNum(c.deleted)),
  },
  'staged.reset': {base: isHashOrNull, root: isHashText},
  commit: {commit: isHashText, parents: (v) => listOf(v, isHashText), root: isHashText, branch: isStrOrNull, commitTime: isTime, message: isStr},
  'ref.set': {ref: isStr, commit: isHashText, old: isHashOrNull},
  'ref.delete': {ref: isStr, old: isStr},
  'head.move': {branch: isStrOrNull, commit: isHashOrNull, from: isHashOrNull, root: isHashText, carry: (v) => typeof v === 'boolean', reason: isStr},
  'remote.update': {
    remote: isStr, removed: (v) => listOf(v, isStr),
    heads: (v) => isPlain(v) && Object.values(v).every(isHashText),
    commits: (v) => listOf(v, (c) => isPlain(c) && isHashText(c.id) && listOf(c.parents, isHashText) && isTime(c.time)),
  },
}

/**
 * Why a decoded record cannot be an event this lake wrote (a field missing or of the wrong type,
 * an unknown type at a known version), or null when it is well formed. The log is read back on
 * every rebuild and by fsck: a damaged or crafted record must be refused, not crash a projection.
 */
export function recordProblem(record: Record<string, unknown>): string | null {
  if (!Number.isSafeInteger(record.seq) || (record.seq as number) < 1) return 'seq'
  if (!isTime(record.time)) return 'time'
  if (!(record.prev === '' || isHashText(record.prev))) return 'prev'
  const checks = BODY_CHECKS[record.type as EventBody['type']]
  if (!Object.hasOwn(BODY_CHECKS, String(record.type)) || !checks) return `unknown event type ${JSON.stringify(record.type)}`
  for (const [field, ok] of Object.entries(checks)) if (!ok(record[field])) return `field '${field}' of a ${String(record.type)} event`
  return null
}
