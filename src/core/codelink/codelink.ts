// The code version beside each data commit: the surrounding git repository's HEAD, branch and
// dirty flag, read with isomorphic-git (no git binary needed). Null outside a git repository.
import fs from 'node:fs'
import path from 'node:path'
import type {CodeLink} from '../version/commit.js'

// isomorphic-git takes a good part of a second to load: only commands that record or read the
// code link pay for it.
const loadGit = async () => (await import('isomorphic-git')).default

/**
 * The nearest directory at or above `dir` holding a `.git` entry (what isomorphic-git's findRoot
 * looks for), found without loading isomorphic-git: outside a git repository nothing loads it.
 */
export async function findGitRoot(dir: string): Promise<string | null> {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.git'))) return d
    if (path.dirname(d) === d) return null
  }
}

export async function readCodeLink(dir: string): Promise<CodeLink | null> {
  const gitdir = await findGitRoot(dir)
  if (!gitdir) return null
  const git = await loadGit()
  let sha: string
  try {
    sha = await git.resolveRef({fs, dir: gitdir, ref: 'HEAD'})
  } catch {
    return null // a repository without commits has no code version to link
  }
  const branch = (await git.currentBranch({fs, dir: gitdir, fullname: false}).catch(() => undefined)) ?? null
  let dirty = false
  try {
    const matrix = await git.statusMatrix({fs, dir: gitdir})
    // [file, head, workdir, stage]: unmodified tracked files are [f, 1, 1, 1]; untracked [f, 0, 2, 0] do not count.
    dirty = matrix.some(([, head, work, stage]) => !(head === 1 && work === 1 && stage === 1) && !(head === 0 && work === 2 && stage === 0))
  } catch {
    dirty = false
  }
  return {sha, branch, dirty}
}

export async function gitAuthor(dir: string): Promise<{name?: string; email?: string}> {
  const gitdir = await findGitRoot(dir)
  if (!gitdir) return {}
  const git = await loadGit()
  try {
    const name = (await git.getConfig({fs, dir: gitdir, path: 'user.name'})) as string | undefined
    const email = (await git.getConfig({fs, dir: gitdir, path: 'user.email'})) as string | undefined
    return {name, email}
  } catch {
    return {}
  }
}
