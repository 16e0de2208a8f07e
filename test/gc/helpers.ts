// For the gc tests: the object files of a dataset, making them look old, and every commit a
// branch, tag or reflog entry reaches, with what it materializes.
import fs from 'node:fs'
import path from 'node:path'
import type {Dataset} from '../../src/index.js'
import {materialize} from '../merge/helpers.js'

/** Object hash → size of every object file under .lake/objects. */
export function objectFiles(dir: string): Map<string, number> {
  const root = path.join(dir, '.lake', 'objects')
  const out = new Map<string, number>()
  if (!fs.existsSync(root)) return out
  for (const sub of fs.readdirSync(root)) {
    if (!/^[0-9a-f]{2}$/.test(sub)) continue
    for (const name of fs.readdirSync(path.join(root, sub))) {
      if (/^[0-9a-f]{62}$/.test(name)) out.set(sub + name, fs.statSync(path.join(root, sub, name)).size)
    }
  }
  return out
}

export const objectPath = (dir: string, hash: string) => path.join(dir, '.lake', 'objects', hash.slice(0, 2), hash.slice(2))

/** Sets the mtime of these objects (default: all) `ageMs` into the past. */
export function backdate(dir: string, ageMs: number, hashes: Iterable<string> = objectFiles(dir).keys()): void {
  const then = new Date(Date.now() - ageMs)
  for (const h of hashes) fs.utimesSync(objectPath(dir, h), then, then)
}

export const HOUR = 3_600_000

/** Every commit HEAD's reflog, a branch or a tag names, and everything `log --all` lists, with its values. */
export async function reachableVersions(ds: Dataset): Promise<Map<string, Record<string, unknown[]>>> {
  const ids = new Set<string>((await ds.log({all: true})).commits.map((c) => c.commit))
  for (const b of (await ds.branches()).branches) ids.add(b.commit)
  for (const t of (await ds.tags()).tags) ids.add(t.commit)
  for (let n = 0; ; n++) {
    let id: string
    try {
      id = await ds.resolve(`@{${n}}`)
    } catch {
      break
    }
    ids.add(id)
    // Ancestors of reflog entries (a deleted branch's commits are reachable only this way).
    for (const c of (await ds.log({rev: id})).commits) ids.add(c.commit)
  }
  const out = new Map<string, Record<string, unknown[]>>()
  for (const id of [...ids].sort()) out.set(id, await materialize(ds, id))
  return out
}
