// Walking a file store's directory tree: the listing (lazy, one directory read at a time, in key
// order) and the sweep of files left behind by crashed writers. Store-internal files ('.lake-*':
// temp files, lock files) are never listed, so a crash can never make them look like objects.
import type {Dirent} from 'node:fs'
import {readdir, stat, unlink} from 'node:fs/promises'
import {join} from 'node:path'
import {breakIfStale} from './fs-lock.js'
import {PACK_DIR} from './fs-pack.js'
import {errno} from './fs-sync.js'
import {INTERNAL_NAME_PREFIX, isInternalName} from './keys.js'
import type {ListedObject} from './types.js'

export const TEMP_PREFIX = `${INTERNAL_NAME_PREFIX}tmp-`
export const LOCK_PREFIX = `${INTERNAL_NAME_PREFIX}lock-`

const GONE = new Set(['ENOENT', 'ENOTDIR'])

async function readDirOrEmpty(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, {withFileTypes: true})
  } catch (err) {
    // A missing directory is an empty listing; it may also vanish while we walk (delete prunes).
    if (GONE.has(errno(err) ?? '')) return []
    throw err
  }
}

/** Lists the keys under `prefix` (a plain string prefix) in ascending key order. */
export async function* listFiles(root: string, prefix: string): AsyncGenerator<ListedObject> {
  const cut = prefix.lastIndexOf('/') + 1
  yield* walk(root, prefix.slice(0, cut), prefix.slice(cut))
}

async function* walk(root: string, dirKey: string, namePrefix: string): AsyncGenerator<ListedObject> {
  const entries = (await readDirOrEmpty(join(root, dirKey)))
    .filter(entry => entry.name.startsWith(namePrefix) && !isInternalName(entry.name))
    // Sorting a directory as 'name/' makes a depth-first walk come out in full-key order ('a.b' < 'a/c').
    .map(entry => ({entry, order: entry.isDirectory() ? `${entry.name}/` : entry.name}))
    .sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0))
  for (const {entry} of entries) {
    const key = dirKey + entry.name
    if (entry.isDirectory()) {
      yield* walk(root, `${key}/`, '')
    } else if (entry.isFile()) {
      const st = await stat(join(root, key)).catch(err => {
        if (GONE.has(errno(err) ?? '')) return null
        throw err
      })
      if (st?.isFile()) yield {key, size: st.size, mtimeMs: st.mtimeMs}
    }
  }
}

/**
 * Removes temp files older than `olderThanMs` (younger ones may be another process's write in
 * progress) and abandoned lock files; returns what it removed.
 */
export async function sweepLeftovers(root: string, olderThanMs: number, lockStaleMs: number): Promise<{files: number; bytes: number}> {
  const removed = {files: 0, bytes: 0}
  const dirs = [root]
  for (let dir = dirs.pop(); dir !== undefined; dir = dirs.pop()) {
    for (const entry of await readDirOrEmpty(dir)) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) {
        // (the pack directory is internal, but a crashed pack write leaves its temp file there)
        if (!isInternalName(entry.name) || entry.name === PACK_DIR) dirs.push(path)
      } else if (entry.name.startsWith(TEMP_PREFIX)) {
        const st = await stat(path).catch(() => null)
        if (!st || Date.now() - st.mtimeMs < olderThanMs) continue
        await unlink(path).then(() => {
          removed.files++
          removed.bytes += st.size
        }, () => {})
      } else if (entry.name.startsWith(LOCK_PREFIX) && !entry.name.endsWith('.break')) {
        // Through breakIfStale, which never removes a lock that a live writer has just taken.
        if ((await breakIfStale(path, lockStaleMs)) === 'broken') removed.files++
      } else if (entry.name.startsWith(LOCK_PREFIX)) {
        // A '.break' file whose breaker crashed (fs-lock.ts).
        const st = await stat(path).catch(() => null)
        if (st && Date.now() - st.mtimeMs >= lockStaleMs) await unlink(path).then(() => void removed.files++, () => {})
      }
    }
  }
  return removed
}
