// `lake clone URL [DIR]`: a new dataset whose remote 'origin' is URL, with its branches fetched and
// the default branch (main, else the first) checked out. Lazy by default: commits are copied, and
// sample data is read from the remote on demand and kept locally; --full copies everything.
import {existsSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import path from 'node:path'
import {Repo} from '../repo/repo.js'
import {LAKE_DIRNAME} from '../repo/locate.js'
import {appendEvents} from '../events/log.js'
import {branchRef} from '../events/records.js'
import {NotARemoteDatasetError} from '../errors.js'
import {Remote} from '../remote/remote.js'
import {fetchFrom} from './fetch.js'
import {commitRoot} from './state.js'
import {DEFAULT_REMOTE} from './remote.js'

export interface CloneResult {
  path: string
  remote: string
  url: string
  branch: string | null
  head: string | null
  lazy: boolean
  commits: number
  objects: number
  bytes: number
}

export async function clone(url: string, dir: string | undefined, opts: {full?: boolean; onProgress?: (objects: number, bytes: number) => void} = {}): Promise<CloneResult> {
  const remote = Remote.open(DEFAULT_REMOTE, url)
  try {
    await remote.requireDataset()
    const target = path.resolve(dir ?? defaultDir(url))
    const existed = existsSync(target)
    const repo = await Repo.init(target)
    try {
      await repo.updateConfig((c) => {
        c.remotes = {[DEFAULT_REMOTE]: url}
        if (!opts.full) c.objectsFrom = DEFAULT_REMOTE
      })
      // Reopen so that reads fall through to the remote (lazy) from here on.
      await repo.close()
      const lazyRepo = await Repo.open(target)
      try {
        const fetched = await fetchFrom(lazyRepo, remote, {full: opts.full, onProgress: opts.onProgress})
        const branch = 'main' in fetched.heads ? 'main' : (Object.keys(fetched.heads).sort()[0] ?? null)
        const head = branch ? fetched.heads[branch] : null
        if (branch && head) {
          const root = await commitRoot(lazyRepo, head)
          await lazyRepo.withDb((db) =>
            appendEvents(db, [
              {type: 'ref.set', ref: branchRef(branch), commit: head, old: null},
              {type: 'head.move', branch, commit: head, from: null, root, carry: false, reason: `clone: from ${url}`},
            ]),
          )
        }
        return {path: target, remote: DEFAULT_REMOTE, url, branch, head, lazy: !opts.full, commits: fetched.commits, objects: fetched.objects, bytes: fetched.bytes}
      } finally {
        await lazyRepo.close()
      }
    } catch (error) {
      // A clone that failed half-way leaves nothing behind (a retry would find "a dataset exists"):
      // the directory if the clone made it, else the .lake/ it made there.
      await rm(existed ? path.join(target, LAKE_DIRNAME) : target, {recursive: true, force: true})
      throw error
    }
  } finally {
    await remote.close()
  }
}

function defaultDir(url: string): string {
  const name = url.replace(/\/+$/, '').split('/').pop() ?? ''
  if (!name || name.includes(':')) throw new NotARemoteDatasetError(`cannot name a directory after '${url}'`, {hint: 'lake clone URL DIR'})
  return name
}
