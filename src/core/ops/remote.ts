// `lake remote add|remove|list`: named locations of other copies of the dataset (config, like git).
import type {Repo} from '../repo/repo.js'
import {RemoteExistsError, UnknownRemoteError, UsageError} from '../errors.js'
import {Remote} from '../remote/remote.js'
import {openStore} from '../storage/open.js'

export const DEFAULT_REMOTE = 'origin'

export function checkRemoteName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new UsageError(`bad remote name '${name}'`, {hint: 'letters, digits, . _ - (e.g. origin)'})
}

export async function remoteAdd(repo: Repo, name: string, url: string) {
  checkRemoteName(name)
  if (repo.config.remotes?.[name]) throw new RemoteExistsError(`remote '${name}' already exists (${repo.config.remotes[name]})`, {hint: `remove it first with 'lake remote remove ${name}'`})
  const store = openStore(url) // refuses bad URLs before anything is written
  await store.close()
  await repo.updateConfig((c) => {
    c.remotes = {...c.remotes, [name]: url}
  })
  return {name, url}
}

export async function remoteRemove(repo: Repo, name: string) {
  const url = repo.config.remotes?.[name]
  if (!url) throw new UnknownRemoteError(`no remote named '${name}'`, {hint: "see 'lake remote list'"})
  if (repo.config.objectsFrom === name) {
    throw new UsageError(`remote '${name}' holds objects this lazy clone has not fetched`, {hint: "fetch everything first ('lake fetch --full'), or keep the remote"})
  }
  await repo.updateConfig((c) => {
    delete c.remotes![name]
  })
  return {name, url}
}

export function remoteList(repo: Repo) {
  return {remotes: Object.entries(repo.config.remotes ?? {}).map(([name, url]) => ({name, url}))}
}

export function openRemote(repo: Repo, name = DEFAULT_REMOTE): Remote {
  const url = repo.config.remotes?.[name]
  if (!url) {
    throw new UnknownRemoteError(`no remote named '${name}'`, {hint: `add one with 'lake remote add ${name} s3://bucket/prefix' (or a path)`})
  }
  return Remote.open(name, url)
}
