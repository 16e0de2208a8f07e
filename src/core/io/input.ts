// Opening input files and turning the file system's errors into errors a user can act on. Every
// reader in io/ opens through here, so "missing", "is a directory" and "permission denied" read
// the same whichever format was asked for.
import {closeSync, fstatSync, openSync, readSync} from 'node:fs'
import {open, stat, type FileHandle} from 'node:fs/promises'
import {BadInputFileError, FileNotFoundError, LakeError} from '../errors.js'

export interface OpenedInput {
  handle: FileHandle
  size: number
}

/** Opens a regular file for reading; the caller closes the handle. */
export async function openInput(file: string): Promise<OpenedInput> {
  let handle: FileHandle
  try {
    handle = await open(file, 'r')
  } catch (err) {
    throw fsError(err, file)
  }
  try {
    const info = await handle.stat()
    if (!info.isFile()) throw notRegular(file, info.isDirectory())
    return {handle, size: info.size}
  } catch (err) {
    await handle.close()
    throw fsError(err, file)
  }
}

/**
 * The first `max` bytes of a regular file, read synchronously, with whether that is all of it
 * (`wholeOnly`: nothing is read from a larger file): a small CSV's open, stat, read and close
 * through the thread pool cost several times the reads. `into`: read into this buffer (when the
 * bytes fit) instead of new memory. The same errors as openInput.
 */
export function readInputHead(file: string, max: number, opts: {wholeOnly?: boolean; into?: Buffer} = {}): {bytes: Buffer; whole: boolean} {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch (err) {
    throw fsError(err, file)
  }
  try {
    const info = fstatSync(fd)
    if (!info.isFile()) throw notRegular(file, info.isDirectory())
    if (opts.wholeOnly && info.size > max) return {bytes: Buffer.alloc(0), whole: false} // (nothing read)
    const want = Math.min(max, info.size)
    const bytes = opts.into && opts.into.byteLength >= want ? opts.into.subarray(0, want) : Buffer.allocUnsafe(want)
    let at = 0
    while (at < want) {
      const n = readSync(fd, bytes, at, want - at, at)
      if (n === 0) break
      at += n
    }
    return {bytes: bytes.subarray(0, at), whole: info.size <= max && at === info.size}
  } catch (err) {
    throw fsError(err, file)
  } finally {
    closeSync(fd)
  }
}

function notRegular(file: string, directory: boolean): BadInputFileError {
  return new BadInputFileError(`${file}: not a regular file`, {
    hint: directory ? 'pass a file, or --format files / imagefolder for a directory' : undefined,
    data: {file},
  })
}

/** stat that maps ENOENT to FileNotFoundError; other failures become BadInputFileError. */
export async function statInput(file: string) {
  try {
    return await stat(file)
  } catch (err) {
    throw fsError(err, file)
  }
}

/** Maps a Node file-system error (or passes a LakeError through) to a LakeError naming `file`. */
export function fsError(err: unknown, file: string): LakeError {
  if (err instanceof LakeError) return err
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new FileNotFoundError(`${file}: no such file or directory`, {data: {file}})
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new BadInputFileError(`${file}: permission denied`, {data: {file}})
  }
  if (code === 'EISDIR') {
    return new BadInputFileError(`${file}: is a directory`, {data: {file}})
  }
  const detail = err instanceof Error ? err.message : String(err)
  return new BadInputFileError(`${file}: cannot read: ${detail}`, {data: {file}})
}

/** The error every line-oriented reader throws: `data.csv line 7: what went wrong`. */
export function lineError(file: string, line: number, message: string, hint?: string): BadInputFileError {
  return new BadInputFileError(`${file} line ${line}: ${message}`, {hint, data: {file, line}})
}
