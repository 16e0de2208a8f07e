// Finding the dataset like git finds a repository: -C DIR / LAKE_DIR, else the nearest .lake/ at or
// above the working directory.
import fs from 'node:fs'
import path from 'node:path'
import {NotADatasetError} from '../errors.js'

export const LAKE_DIRNAME = '.lake'

export function startDir(explicit?: string): string {
  return path.resolve(explicit ?? process.env.LAKE_DIR ?? process.cwd())
}

export function findDatasetRoot(explicit?: string): string {
  const start = startDir(explicit)
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, LAKE_DIRNAME, 'config.json'))) return dir
    if (path.dirname(dir) === dir) break
  }
  throw new NotADatasetError(`not a lake dataset (or any parent up to /): ${start}`, {hint: "create one with 'lake init', or point at one with -C DIR or LAKE_DIR"})
}
