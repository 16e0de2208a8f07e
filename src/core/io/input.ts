// Opening input files and turning the file system's errors into errors a user can act on. Every
// reader in io/ opens through here, so "missing", "is a directory" and "permission denied" read
// the same whichever format was asked for.
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
    if (!info.isFile()) {
      throw new BadInputFileError(`${file}: not a regular file`, {
        hint: info.isDirectory() ? 'pass a file, or --format files / imagefolder for a directory' : undefined,
        data: {file},
      })
    }
    return {handle, size: info.size}
  } catch (err) {
    await handle.close()
    throw fsError(err, file)
  }
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
