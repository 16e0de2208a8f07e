// The crash harness's record of what each version holds: a file set (relative path → sha256 of
// the bytes) per commit, the bytes themselves in a content pool, and the edits that make the next
// version. Versions are added with `lake add DIR` (files mode), so an export of a commit must be
// byte-identical to its record.
import {createHash} from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'

export type FileSet = Map<string, string>

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

export class ContentPool {
  private readonly bytes = new Map<string, Buffer>()

  /**
   * `largeChance`: the share of new contents that are over 1 MiB (objects that large take the
   * file store's other durability path: made durable in the background as soon as written).
   */
  constructor(
    private readonly rand: () => number,
    private readonly opts: {largeChance?: number} = {},
  ) {}

  /** New random bytes (small, but for the share asked for: a trial should cost start-up time, not I/O). */
  fresh(): string {
    const large = this.opts.largeChance !== undefined && this.rand() < this.opts.largeChance
    const size = large ? 1024 * 1024 + Math.floor(this.rand() * 256 * 1024) : 200 + Math.floor(this.rand() * 2800)
    const b = Buffer.alloc(size)
    for (let i = 0; i < size; i += 4) b.writeUInt32LE(Math.floor(this.rand() * 2 ** 32), Math.min(i, size - 4))
    const h = sha(b)
    this.bytes.set(h, b)
    return h
  }

  get(hash: string): Buffer {
    const b = this.bytes.get(hash)
    if (!b) throw new Error(`no bytes for ${hash}`)
    return b
  }
}

/**
 * Edits the files under `prefix` (each branch owns one prefix, so merges never conflict): adds
 * 1-3 files, rewrites 1-2, deletes 0-1. Returns the new set; `files` is not changed.
 */
export function mutate(files: FileSet, prefix: string, pool: ContentPool, rand: () => number, tag: string): FileSet {
  const out = new Map(files)
  // (the files added here are neither rewritten nor deleted below: a change always adds something;
  // it once added one file, rewrote it and deleted it, a change of nothing — seed 66142106, S3)
  const own = () => [...out.keys()].filter((p) => p.startsWith(prefix) && !p.includes(`/${tag}-`))
  const adds = 1 + Math.floor(rand() * 3)
  for (let i = 0; i < adds; i++) out.set(`${prefix}d${Math.floor(rand() * 4)}/${tag}-${i}.bin`, pool.fresh())
  for (let i = 0, n = 1 + Math.floor(rand() * 2); i < n; i++) {
    const mine = own()
    if (mine.length > 0) out.set(mine[Math.floor(rand() * mine.length)], pool.fresh())
  }
  const mine = own()
  if (mine.length > adds + 4 && rand() < 0.6) out.delete(mine[Math.floor(rand() * mine.length)])
  return out
}

/** What merging `theirs` (owning `theirPrefix`) into ours gives: their files under their prefix, ours elsewhere. */
export function merged(ours: FileSet, theirs: FileSet, theirPrefix: string): FileSet {
  const out: FileSet = new Map([...ours].filter(([p]) => !p.startsWith(theirPrefix)))
  for (const [p, h] of theirs) if (p.startsWith(theirPrefix)) out.set(p, h)
  return out
}

/** Makes `dir` hold exactly `files` (rewriting only what differs). */
export async function writeFileSet(dir: string, files: FileSet, pool: ContentPool): Promise<void> {
  const present = await hashTree(dir).catch(() => new Map<string, string>())
  for (const [p, h] of present) if (files.get(p) !== h) await fs.rm(path.join(dir, p), {force: true})
  for (const [p, h] of files) {
    if (present.get(p) === h) continue
    await fs.mkdir(path.dirname(path.join(dir, p)), {recursive: true})
    await fs.writeFile(path.join(dir, p), pool.get(h))
  }
}

/** relative path ('/') → sha256, for every file under dir. */
export async function hashTree(dir: string): Promise<FileSet> {
  const out: FileSet = new Map()
  for (const rel of (await fs.readdir(dir, {recursive: true})) as string[]) {
    const full = path.join(dir, rel)
    if ((await fs.stat(full)).isFile()) out.set(rel.split(path.sep).join('/'), sha(await fs.readFile(full)))
  }
  return out
}

/** The differences between two file sets, for assertion messages ('' when equal). */
export function fileSetDiff(actual: FileSet, expected: FileSet): string {
  const lines: string[] = []
  for (const [p, h] of expected) if (actual.get(p) !== h) lines.push(`${actual.has(p) ? 'changed' : 'missing'} ${p}`)
  for (const p of actual.keys()) if (!expected.has(p)) lines.push(`extra ${p}`)
  return lines.slice(0, 10).join(', ') + (lines.length > 10 ? ` (+${lines.length - 10})` : '')
}

/** A version's files as the record keeps them (path → sha256), read sample by sample in-process. */
export async function versionFiles(v: {length(t: string): number; readRange(t: string, s: number, e: number): Promise<unknown[]>}): Promise<FileSet> {
  const paths = (await v.readRange('path', 0, v.length('path'))) as string[]
  const contents = (await v.readRange('content', 0, v.length('content'))) as Uint8Array[]
  return new Map(paths.map((p, i) => [p, sha(contents[i])]))
}
