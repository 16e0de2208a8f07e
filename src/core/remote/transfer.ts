// Copying versions between object databases (push: local → remote; fetch/clone: remote → local).
// Objects are copied children first, so "the destination has X" always means it has everything X
// reaches: the walk stops at the first object the destination already holds, and a push of k
// changed samples copies O(k) chunks and index pages.
import {decodeNode} from '../index/index.js'
import {decodeCommit} from '../version/commit.js'
import {decodeRoot} from '../dataset/version-root.js'
import type {ObjectDb} from '../storage/objects.js'

export interface CommitInfo {
  id: string
  parents: string[]
  time: number
}

export interface TransferResult {
  /** Commits new to the destination side, parents before children. */
  commits: CommitInfo[]
  objects: number
  bytes: number
}

export interface TransferOptions {
  /** 'all' copies every object the commits reach; 'commits' copies commit objects only (lazy clone). */
  depth: 'all' | 'commits'
  /** True when the walk can stop at this commit (the destination side knows it and its history). */
  known: (id: string) => Promise<boolean>
  onProgress?: (objects: number, bytes: number) => void
  concurrency?: number
}

export async function transfer(src: ObjectDb, dst: ObjectDb, tips: string[], opts: TransferOptions): Promise<TransferResult> {
  const result: TransferResult = {commits: [], objects: 0, bytes: 0}
  const copy = async (hash: string, bytes: Uint8Array, standalone = false) => {
    await dst.put(bytes, {standalone})
    result.objects++
    result.bytes += bytes.byteLength
    opts.onProgress?.(result.objects, result.bytes)
  }

  // 1. The new commits, parents first (iterative post-order DFS: histories can be long).
  const seen = new Set<string>()
  const order: {id: string; bytes: Uint8Array; parents: string[]; time: number}[] = []
  const stack: {id: string; expanded: boolean; bytes?: Uint8Array}[] = tips.map((id) => ({id, expanded: false}))
  while (stack.length > 0) {
    const top = stack[stack.length - 1]
    if (top.expanded) {
      stack.pop()
      const c = decodeCommit(top.bytes!, top.id)
      order.push({id: top.id, bytes: top.bytes!, parents: c.parents, time: c.time})
      continue
    }
    if (seen.has(top.id) || (await opts.known(top.id))) {
      seen.add(top.id)
      stack.pop()
      continue
    }
    seen.add(top.id)
    top.expanded = true
    top.bytes = await src.get(top.id)
    for (const p of decodeCommit(top.bytes, top.id).parents) if (!seen.has(p)) stack.push({id: p, expanded: false})
  }

  // 2. Their contents, children before parents, then the commit object itself.
  const limit = opts.concurrency ?? 8
  const copyTree = async (hash: string, kind: 'root' | 'node' | 'chunk'): Promise<void> => {
    if (await dst.has(hash)) return
    const bytes = await src.get(hash)
    // Only a leaf's chunks go in parallel: that bounds the chunks in memory to `limit`.
    if (kind === 'root') {
      for (const t of Object.values(decodeRoot(bytes, hash).tensors)) await copyTree(t.index, 'node')
    } else if (kind === 'node') {
      const node = decodeNode(hash, bytes)
      if (node.kind === 'leaf') await pool(node.chunkTable.map((c) => () => copyTree(c, 'chunk')), limit)
      else for (const c of node.children) await copyTree(c, 'node')
    }
    await copy(hash, bytes, kind === 'chunk')
  }
  for (const c of order) {
    if (opts.depth === 'all') await copyTree(decodeCommit(c.bytes, c.id).root, 'root')
    if (!(await dst.has(c.id))) await copy(c.id, c.bytes)
    result.commits.push({id: c.id, parents: c.parents, time: c.time})
  }
  return result
}

/** Runs tasks with at most `limit` in flight. */
async function pool(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]()
  }
  await Promise.all(Array.from({length: Math.min(limit, tasks.length)}, worker))
}
