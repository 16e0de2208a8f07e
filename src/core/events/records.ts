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
