// branch and tag: list, create, delete. Refs move only by events (ref.set / ref.delete).
import type {Repo} from '../repo/repo.js'
import {appendEvents} from '../events/log.js'
import {branchRef, tagRef} from '../events/records.js'
import {RefExistsError, UnknownRefError, UsageError, DirtyStateError} from '../errors.js'
import {listRefs, readHead, readRef, revisionSource} from '../version/source.js'
import {resolveRevision} from '../version/resolve.js'
import {validateRefName} from '../version/revision.js'

export function checkRefName(name: string, what: 'branch' | 'tag'): void {
  const why = validateRefName(name, what)
  if (why) throw new UsageError(why, {hint: `choose another ${what} name`})
}

export async function listBranches(repo: Repo) {
  return repo.withDb(async (db) => {
    const head = await readHead(db)
    const branches = (await listRefs(db, 'heads')).map((b) => ({name: b.name, commit: b.commit, current: b.name === head.branch}))
    return {branches}
  })
}

export async function createBranch(repo: Repo, name: string, start = 'HEAD') {
  checkRefName(name, 'branch')
  return repo.withDb(async (db) => {
    if (await readRef(db, branchRef(name))) throw new RefExistsError(`branch '${name}' already exists`, {hint: `delete it first with 'lake branch -d ${name}'`})
    const commit = await resolveRevision(revisionSource(db), start)
    await appendEvents(db, [{type: 'ref.set', ref: branchRef(name), commit, old: null}])
    return {branch: name, commit}
  })
}

export async function deleteBranch(repo: Repo, name: string) {
  return repo.withDb(async (db) => {
    const old = await readRef(db, branchRef(name))
    if (!old) throw new UnknownRefError(`no branch named '${name}'`, {hint: "see 'lake branch'"})
    const head = await readHead(db)
    if (head.branch === name) throw new DirtyStateError(`cannot delete branch '${name}': it is checked out`, {hint: 'check out another branch first'})
    await appendEvents(db, [{type: 'ref.delete', ref: branchRef(name), old}])
    return {deleted: name, commit: old}
  })
}

export async function listTags(repo: Repo) {
  return repo.withDb(async (db) => ({tags: await listRefs(db, 'tags')}))
}

export async function createTag(repo: Repo, name: string, rev = 'HEAD') {
  checkRefName(name, 'tag')
  return repo.withDb(async (db) => {
    if (await readRef(db, tagRef(name))) throw new RefExistsError(`tag '${name}' already exists`, {hint: `delete it first with 'lake tag -d ${name}'`})
    const commit = await resolveRevision(revisionSource(db), rev)
    await appendEvents(db, [{type: 'ref.set', ref: tagRef(name), commit, old: null}])
    return {tag: name, commit}
  })
}

export async function deleteTag(repo: Repo, name: string) {
  return repo.withDb(async (db) => {
    const old = await readRef(db, tagRef(name))
    if (!old) throw new UnknownRefError(`no tag named '${name}'`, {hint: "see 'lake tag'"})
    await appendEvents(db, [{type: 'ref.delete', ref: tagRef(name), old}])
    return {deleted: name, commit: old}
  })
}
