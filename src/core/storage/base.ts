// The checking half of every provider: public methods validate keys, ranges and options once,
// here, then call a provider's protected `_method` hook (the abstract-level pattern). A provider
// therefore only ever sees valid keys and never has to re-check a closed store.
import {CorruptObjectError, ObjectNotFoundError, PreconditionFailedError, StorageError} from '../errors.js'
import {assertKey, assertPrefix} from './keys.js'
import type {ListedObject, ObjectStore, PutOptions, StoreCapabilities} from './types.js'

/** Reads in flight ahead of a scan on a local store (memory, a disk). */
export const LOCAL_READ_AHEAD = 4

export abstract class BaseStore implements ObjectStore {
  abstract readonly url: string
  abstract readonly supports: StoreCapabilities
  /** Local providers: a few reads ahead hide a disk's latency (remote providers ask for more). */
  readonly readAhead: number = LOCAL_READ_AHEAD
  private closed = false

  protected abstract _get(key: string): Promise<Uint8Array>
  /** Called with a valid range; returns null when the object is shorter than offset + length. */
  protected abstract _getRange(key: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array | null>
  protected abstract _put(key: string, bytes: Uint8Array, opts: PutOptions): Promise<{etag: string}>
  protected abstract _exists(key: string): Promise<boolean>
  protected abstract _touch(key: string): Promise<boolean>
  protected abstract _head(key: string): Promise<{etag: string; size: number} | null>
  /** Yields in ascending key order (JS string order, the same as S3's for ASCII keys). */
  protected abstract _list(prefix: string): AsyncIterable<ListedObject>
  protected abstract _delete(key: string): Promise<void>
  protected abstract _close(): Promise<void>
  /** Providers whose puts are durable when they resolve have nothing to flush. */
  protected async _flush(): Promise<void> {}

  async get(key: string): Promise<Uint8Array> {
    this.checkOpen()
    assertKey(key)
    return this._get(key)
  }

  async getRange(key: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    this.checkOpen()
    assertKey(key)
    if (!isCount(offset) || !isCount(length)) {
      throw new StorageError(`invalid range of ${JSON.stringify(key)}: offset ${offset}, length ${length} (both must be integers >= 0)`, {data: {key, offset, length}})
    }
    if (into !== undefined && !(into instanceof Uint8Array && into.byteLength >= length)) {
      throw new StorageError(`read of ${length} bytes of ${JSON.stringify(key)}: the buffer to read into is smaller`, {data: {key, length}})
    }
    const bytes = await this._getRange(key, offset, length, into)
    if (bytes === null) {
      throw new CorruptObjectError(`object ${JSON.stringify(key)} in ${this.url} is shorter than ${offset + length} bytes (read of ${length} at ${offset})`, {
        hint: 'the object was truncated or the reference to it is wrong; run `lake fsck`',
        data: {key, offset, length},
      })
    }
    return bytes
  }

  async put(key: string, bytes: Uint8Array, opts: PutOptions = {}): Promise<{etag: string}> {
    this.checkOpen()
    assertKey(key)
    if (!(bytes instanceof Uint8Array)) throw new StorageError(`put ${JSON.stringify(key)}: bytes must be a Uint8Array`, {data: {key}})
    this.checkPutOptions(key, opts)
    return this._put(key, bytes, opts)
  }

  async flush(): Promise<void> {
    this.checkOpen()
    return this._flush()
  }

  async exists(key: string): Promise<boolean> {
    this.checkOpen()
    assertKey(key)
    return this._exists(key)
  }

  async touch(key: string): Promise<boolean> {
    this.checkOpen()
    assertKey(key)
    return this._touch(key)
  }

  async head(key: string): Promise<{etag: string; size: number} | null> {
    this.checkOpen()
    assertKey(key)
    return this._head(key)
  }

  async *list(prefix = ''): AsyncIterable<ListedObject> {
    this.checkOpen()
    assertPrefix(prefix)
    yield* this._list(prefix)
  }

  async delete(key: string): Promise<void> {
    this.checkOpen()
    assertKey(key)
    await this._delete(key)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this._close()
  }

  protected checkOpen(): void {
    if (this.closed) throw new StorageError(`store ${this.url} is closed`, {data: {url: this.url}})
  }

  private checkPutOptions(key: string, opts: PutOptions): void {
    const {ifNoneMatch, ifMatch} = opts
    if (ifNoneMatch === undefined && ifMatch === undefined) return
    if (ifNoneMatch !== undefined && ifMatch !== undefined) throw new StorageError(`put ${JSON.stringify(key)}: ifNoneMatch and ifMatch cannot be combined`, {data: {key}})
    if (ifNoneMatch !== undefined && ifNoneMatch !== '*') throw new StorageError(`put ${JSON.stringify(key)}: ifNoneMatch must be '*'`, {data: {key}})
    if (ifMatch !== undefined && (typeof ifMatch !== 'string' || ifMatch === '')) throw new StorageError(`put ${JSON.stringify(key)}: ifMatch must be a non-empty etag`, {data: {key}})
    // Silently ignoring a condition would turn a compare-and-swap into a blind overwrite.
    if (!this.supports.conditionalWrite) {
      throw new StorageError(`put ${JSON.stringify(key)}: ${this.url} does not support conditional writes`, {
        hint: 'check store.supports.conditionalWrite before passing ifMatch/ifNoneMatch',
        data: {key},
      })
    }
  }
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0
}

export function notFound(url: string, key: string): ObjectNotFoundError {
  return new ObjectNotFoundError(`object ${JSON.stringify(key)} not found in ${url}`, {data: {key, url}})
}

/** Throws unless the key's current etag (null: absent) satisfies the put's condition. */
export function checkPrecondition(url: string, key: string, currentEtag: string | null, opts: PutOptions): void {
  if (opts.ifNoneMatch === '*' && currentEtag !== null) throw alreadyExists(url, key)
  if (opts.ifMatch !== undefined && currentEtag !== opts.ifMatch) {
    const now = currentEtag === null ? 'it does not exist' : `its etag is ${currentEtag}`
    throw new PreconditionFailedError(`put ${JSON.stringify(key)} in ${url}: ${now}, expected ${opts.ifMatch}`, {
      hint: PRECONDITION_HINT,
      data: {key, etag: currentEtag, expected: opts.ifMatch},
    })
  }
}

const PRECONDITION_HINT = 'another writer changed it first; re-read it and retry'

/** The failure of put(key, bytes, {ifNoneMatch: '*'}) on an existing key. */
export function alreadyExists(url: string, key: string): PreconditionFailedError {
  return new PreconditionFailedError(`put ${JSON.stringify(key)} in ${url}: it already exists (ifNoneMatch '*')`, {hint: PRECONDITION_HINT, data: {key}})
}
