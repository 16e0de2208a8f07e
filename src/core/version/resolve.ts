// Resolving a revision to a commit id. Every step is O(log history) LevelDB reads: refs and the
// reflog are keyed, prefixes are a range scan, and ~N / @{time} jump along first-parent skip
// pointers (the commit graph index), so nothing replays or scans the whole history.
import {AmbiguousRevisionError, UnknownRevisionError} from '../errors.js'
import type {CommitGraphEntry, ReflogEntry} from '../events/projections.js'
import type {HeadState} from '../events/records.js'
import {parseRevision} from './revision.js'

export interface RevisionSource {
  head(): Promise<HeadState>
  ref(ref: string): Promise<string | undefined>
  /** Up to `limit` commit ids starting with prefix. */
  commitsWithPrefix(prefix: string, limit: number): Promise<string[]>
  graph(id: string): Promise<CommitGraphEntry | undefined>
  /** The n-th previous position of HEAD (0 = now). */
  reflog(n: number): Promise<ReflogEntry | undefined>
}

const unknown = (rev: string, why?: string) =>
  new UnknownRevisionError(`unknown revision '${rev}'${why ? `: ${why}` : ''}`, {hint: "see 'lake log --all', 'lake branch' and 'lake tag'"})

async function resolveBase(src: RevisionSource, rev: string, base: string): Promise<string> {
  if (base === 'HEAD' || base === '@') {
    const head = await src.head()
    if (!head.commit) throw unknown(rev, `HEAD${head.branch ? ` (branch '${head.branch}')` : ''} has no commits yet`)
    return head.commit
  }
  const branch = await src.ref(`heads/${base}`)
  if (branch) return branch
  const tag = await src.ref(`tags/${base}`)
  if (tag) return tag
  // origin/main: a remote-tracking ref (what the last fetch saw).
  if (base.includes('/')) {
    const tracking = await src.ref(`remotes/${base}`)
    if (tracking) return tracking
  }
  if (/^[0-9a-f]{4,64}$/i.test(base)) {
    const matches = await src.commitsWithPrefix(base.toLowerCase(), 10)
    if (matches.length === 1) return matches[0]
    if (matches.length > 1) {
      throw new AmbiguousRevisionError(`ambiguous revision '${rev}': '${base}' matches ${matches.length === 10 ? '10 or more' : matches.length} commits`, {
        hint: `use more digits; candidates: ${matches.slice(0, 5).map((m) => m.slice(0, 12)).join(', ')}`,
      })
    }
  }
  throw unknown(rev)
}

/** The first-parent ancestor n steps back, by binary lifting. */
export async function firstParentAncestor(src: RevisionSource, id: string, n: number, rev = id): Promise<string> {
  let current = id
  let remaining = n
  while (remaining > 0) {
    const entry = await src.graph(current)
    if (!entry) throw unknown(rev, `commit ${current.slice(0, 12)} is not in the commit index`)
    if (entry.depth < remaining) throw unknown(rev, `only ${n - remaining + entry.depth} first-parent ancestors exist`)
    const k = Math.min(Math.floor(Math.log2(remaining)), entry.fp.length - 1)
    current = entry.fp[k]
    remaining -= 2 ** k
  }
  return current
}

/** The newest commit on id's first-parent chain made at or before `time`. */
export async function atOrBefore(src: RevisionSource, id: string, time: number, rev: string): Promise<string> {
  let entry = await src.graph(id)
  if (!entry) throw unknown(rev)
  if (entry.time <= time) return id
  let current = id
  // Times never decrease along first parents, so skip while the target is still newer than `time`.
  for (;;) {
    let moved = false
    for (let k = entry.fp.length - 1; k >= 0; k--) {
      const candidate = await src.graph(entry.fp[k])
      if (candidate && candidate.time > time) {
        current = entry.fp[k]
        entry = candidate
        moved = true
        break
      }
    }
    if (!moved) break
  }
  const parent = entry.fp[0]
  if (!parent) throw unknown(rev, `no commit at or before ${new Date(time).toISOString()}`)
  return parent
}

export async function resolveRevision(src: RevisionSource, rev: string): Promise<string> {
  const ast = parseRevision(rev)
  let current: string
  let steps = ast.steps
  if (ast.base === '') {
    const entry = await src.reflog((steps[0] as {n: number}).n)
    if (!entry) throw unknown(rev, 'the reflog is not that long')
    if (!entry.commit) throw unknown(rev, 'HEAD had no commit then')
    current = entry.commit
    steps = steps.slice(1)
  } else {
    current = await resolveBase(src, rev, ast.base)
  }
  for (const step of steps) {
    if (step.kind === 'ancestor') current = await firstParentAncestor(src, current, step.n, rev)
    else if (step.kind === 'parent') {
      if (step.n === 0) continue
      const entry = await src.graph(current)
      const parent = entry?.parents[step.n - 1]
      if (!parent) throw unknown(rev, `commit ${current.slice(0, 12)} has no parent #${step.n}`)
      current = parent
    } else if (step.kind === 'time') current = await atOrBefore(src, current, step.time, rev)
    else throw unknown(rev, '@{N} is only allowed at the start')
  }
  return current
}
