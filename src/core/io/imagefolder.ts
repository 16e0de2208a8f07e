// The torchvision ImageFolder layout: root/<class>/<image>. Class names are the directory names,
// sorted, so label i means the same class here as in torchvision's ImageFolder.
//
// The layout is enforced, not guessed at: a file directly under root, a directory below a class
// directory, or a non-image file in a class directory is an error naming it (use --format files
// for arbitrary trees). Hidden entries (names starting with ".", e.g. .DS_Store, .git) are
// ignored at every level.
import {readdir, stat} from 'node:fs/promises'
import {extname, join} from 'node:path'
import {BadInputFileError} from '../errors.js'
import {walkFiles} from './files.js'
import {fsError, statInput} from './input.js'

export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png']

export interface ImageFile {
  /** Path relative to root, "/"-separated: "<class>/<file>". */
  relPath: string
  absPath: string
  className: string
}

const LAYOUT_HINT = 'an image folder holds <root>/<class>/<image>; use --format files to import any other tree'

export function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(name).toLowerCase())
}

export function isHiddenName(name: string): boolean {
  return name.startsWith('.')
}

/** The images under `root`, sorted by relPath (so grouped by class, classes in label order). */
export async function* walkImageFolder(root: string): AsyncGenerator<ImageFile> {
  for await (const {relPath, absPath} of walkFiles(root)) {
    const names = relPath.split('/')
    if (names.some(isHiddenName)) continue
    const shown = join(root, relPath)
    if (names.length === 1) throw layoutError(shown, 'file directly under the image folder root')
    if (names.length > 2) throw layoutError(shown, 'nested below a class directory')
    if (!isImageName(relPath)) throw layoutError(shown, `not an image (${IMAGE_EXTENSIONS.join(', ')})`)
    yield {relPath, absPath, className: names[0]}
  }
}

/** The class names (directories directly under root), sorted; empty class directories count. */
export async function imageFolderClasses(root: string): Promise<string[]> {
  const info = await statInput(root)
  if (!info.isDirectory()) throw new BadInputFileError(`${root}: not a directory`, {data: {file: root}})
  let names: string[]
  try {
    names = (await readdir(root)).filter((name) => !isHiddenName(name))
  } catch (err) {
    throw fsError(err, root)
  }
  const classes: string[] = []
  for (const name of names) {
    const shown = join(root, name)
    const entry = await stat(shown).catch((err) => {
      throw fsError(err, shown)
    })
    if (!entry.isDirectory()) throw layoutError(shown, 'file directly under the image folder root')
    classes.push(name)
  }
  return classes.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

function layoutError(file: string, what: string): BadInputFileError {
  return new BadInputFileError(`${file}: ${what}`, {hint: LAYOUT_HINT, data: {file}})
}
