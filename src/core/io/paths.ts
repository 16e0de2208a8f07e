// Relative paths that come from data (file names stored in a dataset, class names) are joined
// onto a directory only through here. A dataset can come from anyone (clone, pull), so a stored
// name like "../../.bashrc" must never reach outside the export directory.
import {isAbsolute, join, relative, resolve, sep} from 'node:path'
import {UnsafePathError} from '../errors.js'

const HINT = 'stored paths must be relative, use "/" between names, and stay inside the target directory'

/**
 * Checks that `relPath` is a canonical relative posix path: non-empty names separated by single
 * "/", no "." or ".." (nor names of only dots and spaces), no backslash, no NUL, no drive letter.
 * Returns its names.
 */
export function checkRelPath(relPath: string): string[] {
  const refuse = (why: string) => new UnsafePathError(`unsafe path ${JSON.stringify(relPath)}: ${why}`, {hint: HINT, data: {path: relPath}})
  if (relPath === '') throw refuse('empty')
  if (relPath.includes('\0')) throw refuse('contains a NUL byte')
  if (relPath.includes('\\')) throw refuse('contains a backslash')
  if (relPath.startsWith('/')) throw refuse('absolute')
  if (hasDriveLetter(relPath)) throw refuse('starts with a drive letter')
  const names = relPath.split('/')
  for (const name of names) {
    if (name === '..') throw refuse('goes up with ".."')
    // Windows drops trailing dots and spaces from a name, so "..." or ".. " would mean "..".
    if (/^[. ]+$/.test(name) && name !== '.') throw refuse('a name of only dots and spaces (Windows reads it as "." or "..")')
    // "a//b", "a/./b" and "a/" are refused rather than normalised: one stored name, one file.
    if (name === '' || name === '.') throw refuse('not in canonical form')
  }
  return names
}

function hasDriveLetter(p: string): boolean {
  const c = p.charCodeAt(0)
  const isLetter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
  return isLetter && p[1] === ':'
}

/** `root` joined with `relPath`, refused (UnsafePathError) unless it stays inside root. */
export function safeJoin(root: string, relPath: string): string {
  const names = checkRelPath(relPath)
  const base = resolve(root)
  const joined = join(base, ...names)
  // Belt and braces: the name checks above already exclude every way out.
  if (!isInside(base, joined) || joined === base) {
    throw new UnsafePathError(`unsafe path ${JSON.stringify(relPath)}: leaves ${root}`, {hint: HINT, data: {path: relPath}})
  }
  return joined
}

/** Whether `child` is `parent` or below it (both absolute and normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child)
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel))
}
