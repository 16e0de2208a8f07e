// fsck: re-hash every object, check that everything a ref, the reflog or the staged state reaches
// is present and decodes, and that the event chain is unbroken. Objects nothing reaches (left by an
// interrupted command) are counted as dangling, not as problems.
import type {Repo} from '../repo/repo.js'
import {verifyChain} from '../events/log.js'
import {reachabilityStarts, walkReachable} from './reach.js'

export interface FsckProblem {
  object: string
  problem: string
}

export interface FsckResult {
  ok: boolean
  checked: number
  problems: FsckProblem[]
  dangling: number
}

export async function fsck(repo: Repo, opts: {onProgress?: (done: number) => void} = {}): Promise<FsckResult> {
  const problems: FsckProblem[] = []
  const {starts, chain} = await repo.withDb(async (db) => ({starts: await reachabilityStarts(db), chain: await verifyChain(db)}))
  problems.push(...chain.problems)
  const {kinds: reached, problems: unreadable} = await walkReachable(repo, starts)
  problems.push(...unreadable)
  const bad = new Set(unreadable.map((p) => p.object))

  // Re-hash every stored object.
  let checked = 0
  let dangling = 0
  for await (const {hash} of repo.objects.list()) {
    checked++
    if (checked % 256 === 0) opts.onProgress?.(checked)
    if (bad.has(hash)) continue
    const verdict = await repo.objects.verify(hash)
    if (verdict === 'corrupt') problems.push({object: hash, problem: `${reached.get(hash) ?? 'object'} corrupt: its bytes do not match its hash`})
    if (!reached.has(hash)) dangling++
  }
  return {ok: problems.length === 0, checked, problems, dangling}
}
