// fsck: re-hash every object, check that everything a ref, the reflog or the staged state reaches
// is present and decodes, and that the event chain is unbroken. Objects nothing reaches (left by an
// interrupted command) are counted as dangling, not as problems.
import type {Repo} from '../repo/repo.js'
import {verifyChain} from '../events/log.js'
import {decodeNode} from '../index/decode.js'
import {decodeCommit} from '../version/commit.js'
import {decodeRoot} from '../dataset/version-root.js'
import {listRefs, readHead, readStaged, reflogCount, revisionSource} from '../version/source.js'
import {LakeError} from '../errors.js'

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

type Kind = 'commit' | 'root' | 'node' | 'chunk'

export async function fsck(repo: Repo, opts: {onProgress?: (done: number) => void} = {}): Promise<FsckResult> {
  const problems: FsckProblem[] = []
  const {starts, stagedRoot, chain} = await repo.withDb(async (db) => {
    const commits = new Set<string>()
    const head = await readHead(db)
    if (head.commit) commits.add(head.commit)
    for (const r of [...(await listRefs(db, 'heads')), ...(await listRefs(db, 'tags'))]) commits.add(r.commit)
    const src = revisionSource(db)
    const n = await reflogCount(db)
    for (let i = 0; i < n; i++) {
      const e = await src.reflog(i)
      if (e?.commit) commits.add(e.commit)
    }
    return {starts: [...commits], stagedRoot: (await readStaged(db))?.root, chain: await verifyChain(db)}
  })
  problems.push(...chain.problems)

  // Walk what is reachable, reading every object through the verifying read path.
  const reached = new Map<string, Kind>()
  const bad = new Set<string>()
  const stack: {hash: string; kind: Kind; from: string}[] = starts.map((hash) => ({hash, kind: 'commit' as Kind, from: 'a ref or the reflog'}))
  if (stagedRoot) stack.push({hash: stagedRoot, kind: 'root', from: 'the staged state'})
  while (stack.length > 0) {
    const {hash, kind, from} = stack.pop()!
    if (reached.has(hash)) continue
    reached.set(hash, kind)
    try {
      if (kind === 'chunk') {
        if (!(await repo.objects.has(hash))) throw new LakeError('OBJECT_NOT_FOUND', 'missing')
        continue // verified with every object below
      }
      const bytes = await repo.objects.get(hash)
      if (kind === 'commit') {
        const c = decodeCommit(bytes, hash)
        for (const p of c.parents) stack.push({hash: p, kind: 'commit', from: `commit ${hash}`})
        stack.push({hash: c.root, kind: 'root', from: `commit ${hash}`})
      } else if (kind === 'root') {
        for (const t of Object.values(decodeRoot(bytes, hash).tensors)) stack.push({hash: t.index, kind: 'node', from: `version root ${hash}`})
      } else {
        const node = decodeNode(hash, bytes)
        if (node.kind === 'leaf') for (const c of node.chunkTable) stack.push({hash: c, kind: 'chunk', from: `index node ${hash}`})
        else for (const c of node.children) stack.push({hash: c, kind: 'node', from: `index node ${hash}`})
      }
    } catch (error) {
      bad.add(hash)
      const code = (error as LakeError).code
      problems.push({object: hash, problem: `${kind} ${code === 'OBJECT_NOT_FOUND' ? 'missing' : (error as Error).message} (reached from ${from})`})
    }
  }

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
