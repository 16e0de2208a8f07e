// `lake add --format auto`: picks a reader from the path alone. Files go by extension; a
// directory is an image folder when it looks exactly like one, else a plain file tree.
import type {Dirent} from 'node:fs'
import {readdir, stat} from 'node:fs/promises'
import {extname, join} from 'node:path'
import {BadInputFileError} from '../errors.js'
import {isHiddenName, isImageName} from './imagefolder.js'
import {fsError, statInput} from './input.js'

export type InputFormat = 'files' | 'imagefolder' | 'csv' | 'jsonl' | 'npy'
export const INPUT_FORMATS: readonly InputFormat[] = ['files', 'imagefolder', 'csv', 'jsonl', 'npy']

const BY_EXTENSION: Readonly<Record<string, InputFormat>> = {
  '.csv': 'csv', '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.npy': 'npy',
}

/** The format `--format auto` means for `path`. Missing path: FileNotFoundError. */
export async function detectFormat(path: string): Promise<InputFormat> {
  const info = await statInput(path)
  if (info.isDirectory()) return (await isImageFolderLayout(path)) ? 'imagefolder' : 'files'
  const format = BY_EXTENSION[extname(path).toLowerCase()]
  if (format === undefined) {
    throw new BadInputFileError(`${path}: cannot tell the format from its name`, {
      hint: `pass --format ${INPUT_FORMATS.join('|')} (csv, jsonl/ndjson and npy are recognised by extension)`,
      data: {file: path},
    })
  }
  return format
}

/**
 * Whether `dir` holds only class directories that hold only images, with at least one image.
 * Hidden entries are ignored. Stops at the first entry that does not fit; reads directory
 * listings only (no file contents), and stats only symlinks.
 */
export async function isImageFolderLayout(dir: string): Promise<boolean> {
  const classes = await list(dir)
  if (classes.length === 0) return false
  let images = 0
  for (const entry of classes) {
    const classDir = join(dir, entry.name)
    if (!(await isKind(classDir, entry, 'dir'))) return false
    const files = await list(classDir)
    for (const file of files) {
      if (!isImageName(file.name) || !(await isKind(join(classDir, file.name), file, 'file'))) return false
      images++
    }
  }
  return images > 0
}

async function isKind(path: string, entry: Dirent, kind: 'dir' | 'file'): Promise<boolean> {
  // Dirent types are free; only a symlink needs a stat to learn what it points to.
  const info = entry.isSymbolicLink() ? await stat(path).catch(() => undefined) : entry
  if (info === undefined) return false
  return kind === 'dir' ? info.isDirectory() : info.isFile()
}

async function list(dir: string): Promise<Dirent[]> {
  try {
    return (await readdir(dir, {withFileTypes: true})).filter((e) => !isHiddenName(e.name))
  } catch (err) {
    throw fsError(err, dir)
  }
}
