// The dataset every corruption case damages a copy of, and what is known about it before any
// damage: each object's kind and size, which commits (and whether the staged state) reach it,
// and the sha256 of every sample of every version, to tell a correct read from a wrong one.
// Small chunks (chunk.size 4096) give many chunks of each codec; raw binary chunks are read by
// range (checked by crc only), lz4 chunks whole.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {createHash} from 'node:crypto'
import {Repo} from '../../../src/core/repo/repo.js'
import {Version} from '../../../src/index.js'
import {appendValues, createTensor, deleteRows, updateValue} from '../../../src/core/ops/edit.js'
import {commit} from '../../../src/core/ops/commit.js'
import {createBranch, createTag} from '../../../src/core/ops/refs.js'
import {checkout} from '../../../src/core/ops/checkout.js'
import {decodeCommit} from '../../../src/core/version/commit.js'
import {decodeRoot, type VersionRoot} from '../../../src/core/dataset/version-root.js'
import {decodeNode} from '../../../src/core/index/decode.js'
import {INNER_KIND} from '../../../src/core/index/node.js'
import {readStaged} from '../../../src/core/version/source.js'
import {objectBytes, storedObjects} from '../../helpers/object-files.js'

export type Kind = 'commit' | 'root' | 'node' | 'chunk'

export interface ObjectInfo {
  hash: string
  kind: Kind
  /** Whether it lies in a pack (index nodes, roots, commits) or is a file of its own (chunks). */
  packed: boolean
  size: number
  /** For chunks: whether the payload is lz4 (read whole) or raw (read by range). */
  lz4?: boolean
  /** Commits whose version contains the object (a commit: itself), sorted. */
  commits: string[]
  staged: boolean
}

export interface Fixture {
  /** The pristine dataset directory (copied for each case). */
  dir: string
  commits: string[]
  stagedRoot: string
  objects: ObjectInfo[]
  /** Version (commit id or 'staged') → tensor → sha256 of each sample's stored bytes. */
  samples: Map<string, Map<string, string[]>>
  /** Version → tensor → what Version.column returned, as text (see columnText). */
  columns: Map<string, Map<string, string>>
}

/** A column read as comparable text (typed arrays and bigints included). */
export function columnText(value: unknown): string {
  const plain = ArrayBuffer.isView(value) ? Array.from(value as unknown as ArrayLike<unknown>) : value
  return JSON.stringify(plain, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

export async function makeFixture(): Promise<Fixture> {
  const dir = path.join(fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'lake-corrupt-fixture-'))), 'ds')
  const repo = await Repo.init(dir)
  const commits: string[] = []
  try {
    await repo.setConfig('chunk.size', '4096')
    await createTensor(repo, 'labels', {htype: 'class_label', classNames: ['cat', 'dog', 'bird']})
    await createTensor(repo, 'caption', {htype: 'text'})
    await createTensor(repo, 'blob', {htype: 'binary'})
    await createTensor(repo, 'emb', {htype: 'embedding', chunkCompression: 'none'})
    const n = 600
    await appendValues(repo, 'labels', Array.from({length: n}, (_, i) => i % 3))
    await appendValues(repo, 'caption', Array.from({length: n}, (_, i) => `caption number ${i}: ${'abc'.repeat(i % 5)}`))
    await appendValues(repo, 'blob', Array.from({length: n}, (_, i) => Buffer.from(`blob ${i} `.repeat(1 + (i % 4)))))
    await appendValues(repo, 'emb', Array.from({length: n}, (_, i) => [i, i * 0.5, -i]))
    commits.push((await commit(repo, {message: 'first'})).commit)
    await createTag(repo, 'v1')
    await updateValue(repo, 'caption', 5, 'updated caption')
    await updateValue(repo, 'blob', 300, Buffer.from('updated blob'))
    await deleteRows(repo, 10, 20)
    commits.push((await commit(repo, {message: 'second'})).commit)
    await createBranch(repo, 'side')
    await checkout(repo, 'side')
    await appendValues(repo, 'caption', ['side one', 'side two'])
    commits.push((await commit(repo, {message: 'on side'})).commit)
    await checkout(repo, 'main')
    await appendValues(repo, 'labels', [2, 1])
    await appendValues(repo, 'blob', [Buffer.from('third commit blob')])
    commits.push((await commit(repo, {message: 'third'})).commit)
    // Uncommitted: the staged state reaches objects no commit does.
    await appendValues(repo, 'caption', ['staged only'])
  } finally {
    await repo.close()
  }
  return describe(dir, commits)
}

/** Walks every version independently of fsck: object kinds, who reaches what, sample hashes. */
async function describe(dir: string, commits: string[]): Promise<Fixture> {
  const repo = await Repo.open(dir)
  try {
    const stagedRoot = (await repo.withDb(readStaged))!.root
    const info = new Map<string, {kind: Kind; commits: Set<string>; staged: boolean}>()
    const mark = (hash: string, kind: Kind, by: string) => {
      const entry = info.get(hash) ?? {kind, commits: new Set<string>(), staged: false}
      if (by === 'staged') entry.staged = true
      else entry.commits.add(by)
      info.set(hash, entry)
    }
    const samples = new Map<string, Map<string, string[]>>()
    const columns = new Map<string, Map<string, string>>()
    const walkRoot = async (rootHash: string, by: string) => {
      mark(rootHash, 'root', by)
      const root: VersionRoot = decodeRoot(await repo.objects.get(rootHash), rootHash)
      const stack = Object.values(root.tensors).map((t) => t.index)
      while (stack.length > 0) {
        const hash = stack.pop()!
        mark(hash, 'node', by)
        const node = decodeNode(hash, await repo.objects.get(hash))
        if (node.kind === INNER_KIND) stack.push(...node.children)
        else for (const c of node.chunkTable) mark(c, 'chunk', by)
      }
      const byTensor = new Map<string, string[]>()
      for (const [name, t] of Object.entries(root.tensors)) {
        const hashes: string[] = []
        for await (const {bytes} of repo.data.readRange(t, 0, t.length)) hashes.push(sha(bytes))
        byTensor.set(name, hashes)
      }
      samples.set(by, byTensor)
      const version = new Version(by, root, repo.data)
      columns.set(by, new Map(await Promise.all(Object.keys(root.tensors).map(async (name) => [name, columnText(await version.column(name))] as [string, string]))))
    }
    for (const id of commits) {
      mark(id, 'commit', id)
      await walkRoot(decodeCommit(await repo.objects.get(id), id).root, id)
    }
    await walkRoot(stagedRoot, 'staged')
    const objects: ObjectInfo[] = []
    const stored = storedObjects(dir)
    for (const [hash, e] of info) {
      const o = stored.get(hash)
      if (!o) throw new Error(`fixture: ${e.kind} ${hash} is not stored`)
      if (o.copies !== 1) throw new Error(`fixture: ${e.kind} ${hash} is stored ${o.copies} times`)
      objects.push({
        hash, kind: e.kind, packed: o.packed, size: o.length,
        ...(e.kind === 'chunk' ? {lz4: objectBytes(o, 5, 6)[0] === 1} : {}),
        commits: e.kind === 'commit' ? [hash] : [...e.commits].sort(), staged: e.kind !== 'commit' && e.staged,
      })
    }
    objects.sort((a, b) => (a.hash < b.hash ? -1 : 1))
    return {dir, commits, stagedRoot, objects, samples, columns}
  } finally {
    await repo.close()
  }
}
