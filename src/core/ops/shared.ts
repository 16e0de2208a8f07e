// Datasets whose objects live on shared storage (init --storage s3://...): that location is also
// remote 'origin', and every move of a local branch (commit, merge, fast-forward) moves the branch
// there first, by compare-and-swap from the commit it moves from, so other machines see it and
// two writers never lose a commit.
import type {Repo} from '../repo/repo.js'
import {RemoteMovedError} from '../errors.js'
import {branchRef} from '../events/records.js'
import {Remote} from '../remote/remote.js'

export async function moveSharedBranch(repo: Repo, branch: string, parent: string | null, commit: string): Promise<void> {
  if (!repo.sharedOrigin) return
  const remote = new Remote('origin', repo.sharedOrigin, repo.store)
  const there = await remote.readRef(branchRef(branch))
  if (there?.commit === commit) return // already there (a pull fast-forwarding to what the storage has)
  // A branch the storage does not have yet (a new local branch) is created there, from any parent.
  if (there !== null && there.commit !== parent) {
    throw new RemoteMovedError(`branch '${branch}' on ${repo.sharedOrigin} moved to ${there.commit.slice(0, 12)} since this dataset's last sync`, {
      hint: "pull first ('lake pull'), then try again",
    })
  }
  await remote.casRef(branchRef(branch), commit, there?.etag ?? null)
}
