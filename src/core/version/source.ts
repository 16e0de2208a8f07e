// RevisionSource over the LevelDB projections.
import {decode} from '../codec.js'
import type {EventDb} from '../events/db.js'
import {seqKey} from '../events/db.js'
import type {CommitGraphEntry, ReflogEntry} from '../events/projections.js'
import type {HeadState, StagedState} from '../events/records.js'
import type {RevisionSource} from './resolve.js'
import type {RefSnapshot} from '../events/ref-snapshot.js'

export async function readHead(db: EventDb): Promise<HeadState> {
  const bytes = await db.state.get('head')
  return bytes ? decode<HeadState>(bytes) : {branch: 'main', commit: null}
}

export async function readStaged(db: EventDb): Promise<StagedState | undefined> {
  const bytes = await db.state.get('staged')
  return bytes ? decode<StagedState>(bytes) : undefined
}

export async function readRef(db: EventDb, ref: string): Promise<string | undefined> {
  const bytes = await db.refs.get(ref)
  return bytes ? decode<string>(bytes) : undefined
}

export async function listRefs(db: EventDb, kind: 'heads' | 'tags' | 'remotes'): Promise<{name: string; commit: string}[]> {
  const out: {name: string; commit: string}[] = []
  for await (const [key, value] of db.refs.iterator({gte: `${kind}/`, lt: `${kind}0`})) {
    out.push({name: key.slice(kind.length + 1), commit: decode<string>(value)})
  }
  return out
}

export async function readGraph(db: EventDb, id: string): Promise<CommitGraphEntry | undefined> {
  const bytes = await db.commits.get(id)
  return bytes ? decode<CommitGraphEntry>(bytes) : undefined
}

export async function reflogCount(db: EventDb): Promise<number> {
  const bytes = await db.state.get('reflogCount')
  return bytes ? decode<number>(bytes) : 0
}

/** What a RevisionSource over a ref snapshot throws for anything but HEAD and refs. */
export class NeedsEventDb extends Error {}

/**
 * A RevisionSource over HEAD and the refs alone (a ref snapshot): enough for HEAD, branch, tag and
 * remote-tracking names; id prefixes, ~N, @{time} and @{N} throw NeedsEventDb.
 */
export function refsOnlySource(snap: RefSnapshot): RevisionSource {
  const needsDb = async (): Promise<never> => {
    throw new NeedsEventDb('this revision needs the event log')
  }
  return {
    head: async () => snap.head,
    ref: async (ref) => (Object.hasOwn(snap.refs, ref) ? snap.refs[ref] : undefined),
    commitsWithPrefix: needsDb,
    graph: needsDb,
    reflog: needsDb,
  }
}

export function revisionSource(db: EventDb): RevisionSource {
  return {
    head: () => readHead(db),
    ref: (ref) => readRef(db, ref),
    async commitsWithPrefix(prefix, limit) {
      return db.commits.keys({gte: prefix, lt: prefix + 'g', limit}).all()
    },
    graph: (id) => readGraph(db, id),
    async reflog(n) {
      const count = await reflogCount(db)
      if (n >= count) return undefined
      const bytes = await db.reflog.get(seqKey(count - 1 - n))
      return bytes ? decode<ReflogEntry>(bytes) : undefined
    },
  }
}
