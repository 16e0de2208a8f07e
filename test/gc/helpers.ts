// For the gc tests: every commit a branch, tag or reflog entry reaches, with what it
// materializes. (Where objects lie, their sizes and ages: ../helpers/object-files.ts.)
import type {Dataset} from '../../src/index.js'
import {materialize} from '../merge/helpers.js'

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
