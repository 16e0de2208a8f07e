// A local store that reads objects it lacks from another store (a lazy clone reading through to
// its remote) and keeps what it read, so each object crosses the network once. Writes, lists and
// deletes are local: the remote is only ever read here.
import type {ListedObject, ObjectStore, PutOptions} from './types.js'

export class FallbackStore implements ObjectStore {
  readonly supports
  readonly url: string
  /** Reads may go to the remote: as far ahead as the slower of the two wants. */
  readonly readAhead: number

  constructor(readonly local: ObjectStore, readonly remote: ObjectStore, private readonly prefix = 'objects/') {
    this.supports = local.supports
    this.url = local.url
    this.readAhead = Math.max(local.readAhead, remote.readAhead)
  }

  private remoteHas(key: string) {
    return key.startsWith(this.prefix)
  }

  async get(key: string): Promise<Uint8Array> {
    if (!this.remoteHas(key) || (await this.local.exists(key))) return this.local.get(key)
    const bytes = await this.remote.get(key)
    // Objects are named by their hash: ObjectDb verifies what it reads before anyone uses it.
    await this.local.put(key, bytes).catch(() => undefined)
    return bytes
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    if (!this.remoteHas(key) || (await this.local.exists(key))) return this.local.getRange(key, offset, length)
    return this.remote.getRange(key, offset, length)
  }

  put(key: string, bytes: Uint8Array, opts?: PutOptions) {
    return this.local.put(key, bytes, opts)
  }

  async exists(key: string): Promise<boolean> {
    return (await this.local.exists(key)) || (this.remoteHas(key) && (await this.remote.exists(key)))
  }

  touch(key: string): Promise<boolean> {
    return this.local.touch(key)
  }

  head(key: string) {
    return this.local.head(key)
  }

  list(prefix: string): AsyncIterable<ListedObject> {
    return this.local.list(prefix)
  }

  delete(key: string): Promise<void> {
    return this.local.delete(key)
  }

  async close(): Promise<void> {
    await Promise.all([this.local.close(), this.remote.close()])
  }
}
