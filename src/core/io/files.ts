// Directory trees in and out: walking a directory to import it (`--format files`), and writing
// files under an export directory. Both sides hold the same line on paths: nothing is read from
// or written to outside the root, whatever symlinks or stored names say.
import {lstatSync, type Dirent} from 'node:fs'
import {lstat, mkdir, opendir, readdir, realpath, stat} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'
import {BadInputFileError, StorageError, TargetNotEmptyError, UnsafePathError} from '../errors.js'
import {writeAtomic, writeError, type ByteSource} from './atomic.js'
import {fsError, statInput} from './input.js'
import {checkRelPath, isInside, safeJoin} from './paths.js'

export interface WalkedFile {
  /** Path relative to the root, "/"-separated. */
  relPath: string
  absPath: string
  /** undefined when the walk did not need a stat to know it is a regular file (readers fstat it) */
  size?: number
}

/** Names never imported: lake's own state and git's. */
export const SKIPPED_NAMES: ReadonlySet<string> = new Set(['.lake', '.git'])

interface Entry {
  name: string
  absPath: string
  kind: 'file' | 'dir'
  size?: number
  /** For directories: the real path, to notice a symlink that loops back to an ancestor. */
  realPath: string
}

/**
 * Every regular file under `root`, sorted by relPath (code-unit order, so the same tree always
 * walks the same way). Symlinks are followed only while they stay inside root; one that leaves
 * it is refused with UnsafePathError. `.lake` and `.git` are skipped; empty directories yield
 * nothing. A name that could not be exported safely again (a backslash, say) is refused here,
 * before it is stored.
 */
export async function* walkFiles(root: string): AsyncGenerator<WalkedFile> {
  const info = await statInput(root)
  if (!info.isDirectory()) throw new BadInputFileError(`${root}: not a directory`, {data: {file: root}})
  const base = resolve(root)
  const realRoot = await realpath(base)
  yield* walkDir({root, realRoot, ancestors: new Set([realRoot])}, base, realRoot, '')
}

interface Walk {
  root: string
  realRoot: string
  ancestors: Set<string>
}

async function* walkDir(walk: Walk, dirPath: string, dirReal: string, prefix: string): AsyncGenerator<WalkedFile> {
  let dirents: Dirent[]
  try {
    dirents = (await readdir(dirPath, {withFileTypes: true})).filter((d) => !SKIPPED_NAMES.has(d.name))
  } catch (err) {
    throw fsError(err, join(walk.root, prefix))
  }
  // a regular file is known from its directory entry (no stat per file: a walk of 20k images made
  // 20k); anything else (a directory, a symlink, a type the file system does not report) is classified
  const entries = await mapBatched(dirents, (d) => (d.isFile() ? Promise.resolve({name: d.name, absPath: join(dirPath, d.name), kind: 'file' as const, realPath: join(dirReal, d.name)}) : classify(walk, dirPath, dirReal, prefix, d.name)))
  // Sorting "a/" (a directory) against "a-b" (a file) as full relPaths do keeps the walk in
  // global relPath order, not merely sorted within each directory.
  const key = (e: Entry) => (e.kind === 'dir' ? e.name + '/' : e.name)
  entries.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
  for (const entry of entries) {
    const relPath = prefix + entry.name
    if (entry.kind === 'file') {
      checkRelPath(relPath)
      yield {relPath, absPath: entry.absPath, ...(entry.size !== undefined ? {size: entry.size} : {})}
      continue
    }
    if (walk.ancestors.has(entry.realPath)) {
      throw new BadInputFileError(`${join(walk.root, relPath)}: symlink loop (it leads back to a directory above it)`, {
        hint: 'remove the link', data: {file: join(walk.root, relPath)},
      })
    }
    walk.ancestors.add(entry.realPath)
    yield* walkDir(walk, entry.absPath, entry.realPath, relPath + '/')
    walk.ancestors.delete(entry.realPath)
  }
}

async function classify(walk: Walk, dirPath: string, dirReal: string, prefix: string, name: string): Promise<Entry> {
  const absPath = join(dirPath, name)
  const shown = join(walk.root, prefix + name)
  try {
    // synchronous: an lstat through the thread pool costs the main thread ~10x the syscall, and a
    // walk of 20k images makes 20k of them
    const info = lstatSync(absPath)
    if (info.isDirectory()) return {name, absPath, kind: 'dir', size: 0, realPath: join(dirReal, name)}
    if (info.isFile()) return {name, absPath, kind: 'file', size: info.size, realPath: join(dirReal, name)}
    if (!info.isSymbolicLink()) throw notRegular(shown)
    let target: string
    try {
      target = await realpath(absPath)
    } catch {
      throw new BadInputFileError(`${shown}: broken symlink`, {hint: 'remove the link or restore its target', data: {file: shown}})
    }
    if (!isInside(walk.realRoot, target)) {
      throw new UnsafePathError(`${shown}: symlink to ${target}, outside ${walk.root}`, {
        hint: 'copy the target into the directory instead of linking to it', data: {path: shown},
      })
    }
    const targetInfo = await stat(target)
    if (targetInfo.isDirectory()) return {name, absPath, kind: 'dir', size: 0, realPath: target}
    if (targetInfo.isFile()) return {name, absPath, kind: 'file', size: targetInfo.size, realPath: target}
    throw notRegular(shown)
  } catch (err) {
    throw fsError(err, shown)
  }
}

function notRegular(shown: string): BadInputFileError {
  return new BadInputFileError(`${shown}: not a regular file or directory (a socket, pipe or device?)`, {
    hint: 'remove it from the directory before adding', data: {file: shown},
  })
}

// Stats run a few dozen at a time: fast on big directories without opening thousands at once.
async function mapBatched<T, R>(items: T[], fn: (item: T) => Promise<R>, batch = 32): Promise<R[]> {
  const out: R[] = []
  for (let i = 0; i < items.length; i += batch) out.push(...await Promise.all(items.slice(i, i + batch).map(fn)))
  return out
}

/**
 * Writes `bytes` to root/relPath atomically, creating parent directories. Refuses (UnsafePathError)
 * a relPath that leaves root, and a parent that is a symlink to outside root. Returns bytes written.
 */
export async function writeFileUnder(root: string, relPath: string, bytes: ByteSource): Promise<number> {
  const target = safeJoin(root, relPath)
  const base = resolve(root)
  let realRoot: string
  try {
    realRoot = await realpath(base)
  } catch (err) {
    throw fsError(err, root)
  }
  // One directory at a time, checked before going into it: `mkdir -p` would follow a planted
  // symlink and create directories outside root before any check could run.
  let dir = base
  for (const name of checkRelPath(relPath).slice(0, -1)) {
    dir = join(dir, name)
    await enterDirectory(dir, realRoot, relPath)
  }
  const realParent = await realpath(dirname(target)).catch((err: NodeJS.ErrnoException) => {
    throw writeError(err, dirname(target))
  })
  if (!isInside(realRoot, realParent)) throw outside(relPath, realParent)
  return writeAtomic(target, bytes)
}

async function enterDirectory(dir: string, realRoot: string, relPath: string): Promise<void> {
  try {
    let info = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined
      throw err
    })
    if (info === undefined) {
      await mkdir(dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err // another writer made it meanwhile: fine
      })
      info = await lstat(dir)
    }
    if (info.isSymbolicLink()) {
      const real = await realpath(dir)
      if (!isInside(realRoot, real)) throw outside(relPath, real)
      info = await stat(real)
    }
    if (!info.isDirectory()) {
      throw new StorageError(`${dir}: is a file, so ${relPath} cannot be written under it`, {data: {file: dir}})
    }
  } catch (err) {
    if (err instanceof Error && 'syscall' in err) throw writeError(err as NodeJS.ErrnoException, dir)
    throw err
  }
}

function outside(relPath: string, real: string): UnsafePathError {
  return new UnsafePathError(`unsafe path ${JSON.stringify(relPath)}: a symlink leads to ${real}, outside the target`, {
    hint: 'remove the symlink from the target directory', data: {path: relPath},
  })
}

/**
 * Prepares an export directory: creates it when missing (and says so: true); refuses
 * (TargetNotEmptyError) one that holds anything unless `force`. With force nothing is deleted:
 * files the export does not overwrite stay, since wiping a directory named by mistake is not a
 * risk worth a flag.
 */
export async function ensureEmptyTarget(dir: string, force = false): Promise<boolean> {
  const info = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw writeError(err, dir)
  })
  if (info === undefined) {
    await mkdir(dir, {recursive: true}).catch((err: NodeJS.ErrnoException) => {
      throw writeError(err, dir)
    })
    return true
  }
  if (!info.isDirectory()) {
    throw new TargetNotEmptyError(`${dir} exists and is not a directory`, {hint: 'choose another --to directory', data: {path: dir}})
  }
  if (force) return false
  let first
  try {
    const listing = await opendir(dir)
    first = await listing.read()
    await listing.close()
  } catch (err) {
    throw writeError(err as NodeJS.ErrnoException, dir)
  }
  if (first !== null) {
    throw new TargetNotEmptyError(`${dir} is not empty`, {hint: 'export into an empty directory, or use --force to write into it anyway', data: {path: dir}})
  }
  return false
}
