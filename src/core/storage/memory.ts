// In-process ObjectStore: the reference provider for tests. Stores opened with the same name
// share their contents within the process, so a test can close a store and open it again.
import {StorageError} from '../errors.js'
import {sha256hex} from '../hash.js'
import {BaseStore, checkPrecondition, notFound} from './base.js'
import type {ListedObject, PutOptions, StoreCapabilities} from './types.js'

interface MemoryObject {
  bytes: Uint8Array
  etag: string
  mtimeMs: number
}

const objectsByStoreName = new Map<string, Map<string, MemoryObject>>()
let unnamedCount = 0

/**
 * Forgets every memory:// store: a process of its own loses them when it ends, and the resident
 * process of LAKE_DAEMON=1 (cli/server.ts) calls this after each command to do the same.
 */
export function dropAllMemoryStores(): void {
  objectsByStoreName.clear()
}

/** Forgets the contents of memory://name (tests call this in cleanup). */
export function dropMemoryStore(name: string): boolean {
  return objectsByStoreName.delete(name)
}

export class MemoryStore extends BaseStore {
  readonly url: string
  readonly name: string
  readonly supports: StoreCapabilities = {conditionalWrite: true, list: true, rangeRead: true, readInto: true}
  private readonly objects: Map<string, MemoryObject>

  /** Without a name the store gets a fresh unique one (see `url`). */
  constructor(opts: {name?: string} = {}) {
    super()
    if (opts.name !== undefined && (opts.name === '' || /[\s/]/.test(opts.name))) {
      throw new StorageError(`invalid memory store name ${JSON.stringify(opts.name)}`, {hint: 'use a non-empty name without spaces or "/", e.g. memory://test', data: {name: opts.name}})
    }
    this.name = opts.name ?? `unnamed-${++unnamedCount}`
    this.url = `memory://${this.name}`
    let objects = objectsByStoreName.get(this.name)
    if (!objects) objectsByStoreName.set(this.name, (objects = new Map()))
    this.objects = objects
  }

  private find(key: string): MemoryObject {
    const object = this.objects.get(key)
    if (!object) throw notFound(this.url, key)
    return object
  }

  // Copies in and out: the caller may reuse its buffer, and must not be able to change ours.
  protected async _get(key: string): Promise<Uint8Array> {
    return this.find(key).bytes.slice()
  }

  protected async _getRange(key: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array | null> {
    const {bytes} = this.find(key)
    if (offset + length > bytes.length) return null
    if (!into) return bytes.slice(offset, offset + length)
    into.set(bytes.subarray(offset, offset + length))
    return into.subarray(0, length)
  }

  protected async _put(key: string, bytes: Uint8Array, opts: PutOptions): Promise<{etag: string}> {
    const object = {bytes: new Uint8Array(bytes), etag: sha256hex(bytes), mtimeMs: Date.now()}
    // No await between the check and the write: that is what makes the conditional write atomic.
    checkPrecondition(this.url, key, this.objects.get(key)?.etag ?? null, opts)
    this.objects.set(key, object)
    return {etag: object.etag}
  }

  protected async _touch(key: string): Promise<boolean> {
    const object = this.objects.get(key)
    if (object) object.mtimeMs = Date.now()
    return object !== undefined
  }

  protected async _exists(key: string): Promise<boolean> {
    return this.objects.has(key)
  }

  protected async _head(key: string): Promise<{etag: string; size: number} | null> {
    const object = this.objects.get(key)
    return object ? {etag: object.etag, size: object.bytes.length} : null
  }

  protected async *_list(prefix: string): AsyncIterable<ListedObject> {
    const keys = [...this.objects.keys()].filter(key => key.startsWith(prefix)).sort()
    for (const key of keys) {
      // Skips keys deleted while the caller was consuming the listing.
      const object = this.objects.get(key)
      if (object) yield {key, size: object.bytes.length, mtimeMs: object.mtimeMs}
    }
  }

  protected async _delete(key: string): Promise<void> {
    this.objects.delete(key)
  }

  // Contents stay registered under the name so the store can be reopened; dropMemoryStore frees them.
  protected async _close(): Promise<void> {}
}
