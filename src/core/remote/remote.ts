// A dataset on other storage (S3, a path): the same content-addressed objects under objects/, plus
// refs under refs/heads/<branch> and refs/tags/<tag> (each holds a commit id) and a marker
// lake.json. Refs move only by compare-and-swap (conditional PUT), so two writers never lose a
// commit: the loser is told the remote moved. Readers need no lock.
import {NotARemoteDatasetError, PreconditionFailedError, RemoteMovedError} from '../errors.js'
import {ObjectDb} from '../storage/objects.js'
import {openStore} from '../storage/open.js'
import type {ObjectStore} from '../storage/types.js'

export const REMOTE_FORMAT_VERSION = 1
const MARKER = 'lake.json'
const text = (s: string) => new TextEncoder().encode(s)
const untext = (b: Uint8Array) => new TextDecoder().decode(b)

export interface RemoteRef {
  name: string
  commit: string
  etag: string
}

export class Remote {
  readonly objects: ObjectDb

  constructor(readonly name: string, readonly url: string, readonly store: ObjectStore) {
    this.objects = new ObjectDb(store)
  }

  static open(name: string, url: string): Remote {
    // a file:// remote keeps every object a file of its own (no packs): lakes of any version read
    // it, and its marker's format stays 1
    return new Remote(name, url, openStore(url, {pack: false}))
  }

  /**
   * Writes the marker unless present (idempotent; a push makes an empty location a remote).
   * True when this call wrote it: an init that fails later takes it back (forgetMarker).
   */
  async ensureInitialized(): Promise<boolean> {
    if (await this.store.exists(MARKER)) return false
    try {
      await this.store.put(MARKER, text(JSON.stringify({formatVersion: REMOTE_FORMAT_VERSION}) + '\n'), this.store.supports.conditionalWrite ? {ifNoneMatch: '*'} : {})
      return true
    } catch (error) {
      if (!(error instanceof PreconditionFailedError)) throw error
      return false
    }
  }

  /** Removes the marker this process wrote (an init that failed after writing it); best effort. */
  async forgetMarker(): Promise<void> {
    await this.store.delete(MARKER).catch(() => {})
  }

  async isDataset(): Promise<boolean> {
    return this.store.exists(MARKER)
  }

  async requireDataset(): Promise<void> {
    if (!(await this.isDataset())) {
      throw new NotARemoteDatasetError(`no lake dataset at ${this.url}`, {hint: "push one there first ('lake push'), or check the URL"})
    }
  }

  async listRefs(kind: 'heads' | 'tags'): Promise<RemoteRef[]> {
    const out: RemoteRef[] = []
    for await (const {key} of this.store.list(`refs/${kind}/`)) {
      const ref = await this.readRef(key.slice('refs/'.length))
      if (ref) out.push({...ref, name: key.slice(`refs/${kind}/`.length)})
    }
    return out
  }

  /** `ref` is 'heads/<branch>' or 'tags/<tag>'. */
  async readRef(ref: string): Promise<RemoteRef | null> {
    const head = await this.store.head(`refs/${ref}`)
    if (!head) return null
    const commit = untext(await this.store.get(`refs/${ref}`)).trim()
    // The etag must be of the bytes read: if the ref moved between head and get, read again.
    const again = await this.store.head(`refs/${ref}`)
    if (!again || again.etag !== head.etag) return this.readRef(ref)
    return {name: ref, commit, etag: head.etag}
  }

  /**
   * Moves `ref` to `commit` only if it still is what the caller saw (`expected`: its etag, or null
   * for "must not exist"). Throws RemoteMovedError otherwise.
   */
  async casRef(ref: string, commit: string, expected: string | null): Promise<void> {
    try {
      await this.store.put(`refs/${ref}`, text(commit + '\n'), expected === null ? {ifNoneMatch: '*'} : {ifMatch: expected})
    } catch (error) {
      if (error instanceof PreconditionFailedError) {
        throw new RemoteMovedError(`remote '${this.name}' moved: ${ref} changed since it was read`, {hint: "pull first ('lake pull'), then push again"})
      }
      throw error
    }
  }

  async deleteRef(ref: string): Promise<void> {
    await this.store.delete(`refs/${ref}`)
  }

  close(): Promise<void> {
    return this.store.close()
  }
}
