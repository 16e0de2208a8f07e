// What `diff` costs: the objects it reads from storage, counted by a wrapper around the dataset's
// object store (every read that misses the in-memory caches). On tensors of 10k and 50k samples,
// two versions 100 samples apart (40 updates, 30 deletes, 30 appends) and two versions one sample
// apart: diff reads O(change × depth) objects, never sample chunks, nothing of unchanged tensors,
// and the same amount whatever the tensor's length.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {Repo} from '../../src/core/repo/repo.js'
import type {ObjectStore} from '../../src/core/storage/types.js'
import {diff} from '../../src/core/ops/diff.js'
import {loadNode} from '../../src/core/index/cache.js'
import {resolve} from '../../src/core/ops/state.js'
import {Dataset} from '../../src/index.js'
import {FAST_TMP} from '../model/runner.js'
import {hashOfKey, isChunk, storedObjects} from '../helpers/object-files.js'

/** Reads `fn` makes through a freshly opened repo (cold caches): the storage keys, in order. */
async function countReads(dir: string, fn: (repo: Repo) => Promise<unknown>): Promise<string[]> {
  const repo = await Repo.open(dir)
  const keys: string[] = []
  const store = repo.store as {get(key: string): Promise<Uint8Array>; getRange(key: string, offset: number, length: number): Promise<Uint8Array>; visitMany?: ObjectStore['visitMany']}
  const get = store.get.bind(store)
  const getRange = store.getRange.bind(store)
  store.get = (key) => (keys.push(key), get(key))
  store.getRange = (key, offset, length) => (keys.push(key), getRange(key, offset, length))
  // a key visitMany passes on to get is counted there, once
  const visitMany = store.visitMany?.bind(store)
  if (visitMany) {
    store.visitMany = (many, visit) => {
      const from = keys.length
      return visitMany(many, (i, bytes, error) => {
        if (bytes && !keys.includes(many[i], from)) keys.push(many[i])
        visit(i, bytes, error)
      })
    }
  }
  try {
    await fn(repo)
  } finally {
    await repo.close()
  }
  return keys
}

/** The keys of `keys` that are sample chunks (by their magic), wherever the objects lie (a file or a pack). */
function chunkKeys(dir: string, keys: string[]): string[] {
  const stored = storedObjects(dir)
  return keys.filter((key) => {
    const o = stored.get(hashOfKey(key))
    if (!o) throw new Error(`${key} was read but is not stored`)
    return isChunk(o)
  })
}

/** Index nodes of a tensor at `rev`, and the tree's depth. */
async function indexShape(dir: string, rev: string, tensor: string): Promise<{nodes: number; depth: number}> {
  const repo = await Repo.open(dir)
  try {
    const root = await repo.data.getRoot((await repo.data.getCommit(await resolve(repo, rev))).root)
    let nodes = 0
    const walk = async (hash: string): Promise<number> => {
      nodes++
      const node = await loadNode(repo.data.nodes, hash)
      if (node.kind === 'inner') for (const c of node.children) await walk(c)
      return node.level + 1
    }
    const depth = await walk(root.tensors[tensor].index)
    return {nodes, depth}
  } finally {
    await repo.close()
  }
}

interface Built {
  dir: string
  n: number
  shape: {nodes: number; depth: number}
}

/** x and y: n samples each; A → B: 100 changes to x; B → C: one update of x. */
async function build(n: number): Promise<Built> {
  const dir = fs.mkdtempSync(path.join(FAST_TMP, 'lake-diff-cost-'))
  const ds = await Dataset.init(dir)
  try {
    await ds.createTensor('x', {htype: 'generic', dtype: 'i32'})
    await ds.createTensor('y', {htype: 'generic', dtype: 'i32'})
    await ds.append('x', Array.from({length: n}, (_, i) => i))
    await ds.append('y', Array.from({length: n}, (_, i) => -i))
    await ds.commit('A')
    await ds.tag('A')
    const mid = Math.floor(n / 2)
    for (let j = 0; j < 40; j++) await ds.update('x', mid + 50 * j, -1 - j)
    // The 30 deletes are rows of every tensor: y changes too, as it must.
    await ds.deleteRows(Math.floor(n / 4), Math.floor(n / 4) + 30)
    await ds.append('x', Array.from({length: 30}, (_, i) => n + i))
    await ds.commit('B')
    await ds.tag('B')
    await ds.update('x', Math.floor(n / 3), 7)
    await ds.commit('C')
    await ds.tag('C')
  } finally {
    await ds.close()
  }
  return {dir, n, shape: await indexShape(dir, 'B', 'x')}
}

describe('diff: cost follows the change, not the dataset', function () {
  this.timeout(120_000)
  const built: Built[] = []
  before(async () => {
    built.push(await build(10_000), await build(50_000))
  })
  after(() => {
    for (const b of built) fs.rmSync(b.dir, {recursive: true, force: true})
  })

  it('a 100-sample diff reads O(change × depth) objects, no chunks; the same at 10k and 50k samples', async () => {
    const reads: number[] = []
    for (const b of built) {
      let result: Awaited<ReturnType<typeof diff>> | undefined
      const keys = await countReads(b.dir, async (repo) => (result = await diff(repo, 'A', 'B')))
      const x = result!.tensors.find((t) => t.name === 'x')!
      assert.deepEqual([x.added.reduce((s, [p, q]) => s + q - p, 0), x.updated.length, x.deleted.length], [30, 40, 30])
      assert.deepEqual(result!.tensors.map((t) => t.name), ['x', 'y'])
      assert.equal(new Set(keys).size, keys.length, `each object read once (${keys.length} reads)`)
      assert.deepEqual(chunkKeys(b.dir, keys), [], 'no sample chunk is read')
      const {nodes, depth} = b.shape
      // 2 commits + 2 roots, then per tensor and side at most depth nodes per change.
      assert.ok(keys.length <= 4 + 2 * 2 * depth * 100, `${keys.length} reads`)
      // At 50k samples, far from reading the tensors: a fraction of x's index nodes in one version.
      if (b.n >= 50_000) assert.ok(keys.length < nodes / 3, `${b.n} samples: ${keys.length} reads vs ${nodes} index nodes of x`)
      reads.push(keys.length)
      console.log(`      ${b.n} samples (x: ${nodes} index nodes, depth ${depth}): diff A B read ${keys.length} objects`)
    }
    // 5× the samples: about the same reads (leaf boundaries are random, and a deeper tree may add a
    // level per changed path), far from 5×.
    assert.ok(reads[1] <= reads[0] * 2 + 10, `reads at 10k: ${reads[0]}, at 50k: ${reads[1]}`)
  })

  it('a one-sample diff reads 2 commits, 2 roots and one path per side; an unchanged tensor costs nothing', async () => {
    for (const b of built) {
      let result: Awaited<ReturnType<typeof diff>> | undefined
      const keys = await countReads(b.dir, async (repo) => (result = await diff(repo, 'B', 'C')))
      assert.deepEqual(result!.tensors.map((t) => [t.name, t.added, t.updated, t.deleted]), [['x', [], [Math.floor(b.n / 3)], []]])
      assert.ok(keys.length <= 4 + 2 * b.shape.depth, `${b.n} samples: ${keys.length} reads, depth ${b.shape.depth}`)
    }
  })

  it('--values reads only the chunks of the samples it shows', async () => {
    const b = built[1]
    let result: Awaited<ReturnType<typeof diff>> | undefined
    const keys = await countReads(b.dir, async (repo) => (result = await diff(repo, 'A', 'B', {tensor: 'x', values: true, limit: 5})))
    const v = result!.tensors[0].values!
    assert.deepEqual([v.added.length, v.updated.length, v.deleted.length, v.truncated], [5, 5, 5, true])
    const mid = Math.floor(b.n / 2)
    assert.deepEqual(v.updated.map((u) => [u.old, u.new]), [0, 1, 2, 3, 4].map((j) => [mid + 50 * j, -1 - j]))
    const chunks = chunkKeys(b.dir, keys)
    assert.ok(chunks.length >= 1 && chunks.length <= 15, `${chunks.length} chunk reads for 15 values`)
    assert.ok(keys.length < b.shape.nodes / 2, `${keys.length} reads`)
  })

  it('the counting wrapper sees reads: a full scan of x reads every leaf', async () => {
    const b = built[0]
    const keys = await countReads(b.dir, async (repo) => {
      const root = await repo.data.getRoot((await repo.data.getCommit(await resolve(repo, 'B'))).root)
      const t = root.tensors.x
      for await (const _ of repo.data.readRange(t, 0, t.length)) void _
    })
    assert.ok(keys.length >= b.shape.nodes, `${keys.length} reads, ${b.shape.nodes} index nodes`)
  })
})
