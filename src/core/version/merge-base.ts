// Merge bases: the best common ancestors of two commits, found like git's paint-down: walk both
// histories newest generation first, painting each commit with the side(s) it is reachable from;
// a commit painted by both is a base and everything below it is stale. The walk stops when only
// stale commits are left, so it reads the commits between the tips and their bases, not the whole
// history.
import type {CommitGraphEntry} from '../events/projections.js'

const OURS = 1
const THEIRS = 2
const STALE = 4

export async function mergeBases(graph: (id: string) => Promise<CommitGraphEntry | undefined>, a: string, b: string): Promise<string[]> {
  if (a === b) return [a]
  const flags = new Map<string, number>()
  const gens = new Map<string, number>()
  const queue: string[] = []
  const push = async (id: string, f: number) => {
    const old = flags.get(id) ?? 0
    if ((old | f) === old) return
    flags.set(id, old | f)
    if (!gens.has(id)) gens.set(id, (await graph(id))?.gen ?? 0)
    if (!queue.includes(id)) queue.push(id)
  }
  await push(a, OURS)
  await push(b, THEIRS)
  const bases: string[] = []
  while (queue.some((id) => ((flags.get(id) ?? 0) & STALE) === 0)) {
    // Newest generation first; ties by id so the walk is deterministic.
    let best = 0
    for (let i = 1; i < queue.length; i++) {
      const gi = gens.get(queue[i])!
      const gb = gens.get(queue[best])!
      if (gi > gb || (gi === gb && queue[i] < queue[best])) best = i
    }
    const [id] = queue.splice(best, 1)
    let f = flags.get(id)!
    if ((f & (OURS | THEIRS)) === (OURS | THEIRS) && (f & STALE) === 0) {
      bases.push(id)
      f |= STALE
      flags.set(id, f)
    }
    const entry = await graph(id)
    for (const p of entry?.parents ?? []) await push(p, f)
  }
  return bases.sort((x, y) => gens.get(y)! - gens.get(x)! || (x < y ? -1 : 1))
}

/** The one base a merge uses: the highest generation, then the smallest id (docs/ARCHITECTURE.md). */
export async function mergeBase(graph: (id: string) => Promise<CommitGraphEntry | undefined>, a: string, b: string): Promise<string | null> {
  const bases = await mergeBases(graph, a, b)
  return bases[0] ?? null
}
