// S3 (and S3-compatible servers) as an ObjectStore: s3://bucket/prefix, key k is the S3 object
// <prefix>k. Conditional writes are S3's own (PutObject/CompleteMultipartUpload with If-None-Match
// '*' or If-Match <etag>), so refs move by compare-and-swap with no lock server. Every request
// goes through a bounded pool and the SDK's retry strategy (backoff on 5xx, throttling, network
// errors and timeouts); failures become lake errors naming the store and the endpoint.
import {createHash} from 'node:crypto'
import type {S3Client} from '@aws-sdk/client-s3'
import {LakeError, StorageError} from '../errors.js'
import {BaseStore, notFound} from './base.js'
import {assertKey} from './keys.js'
import {createS3Client, endpointLabel, parseS3Url, s3sdk, type S3StoreOptions} from './s3-config.js'
import {attempts, isInvalidRange, isMissingKey, isPreconditionFailure, networkCode, preconditionFailed, s3Failure, type S3ErrorContext} from './s3-errors.js'
import {RequestPool} from './s3-pool.js'
import type {ListedObject, PutOptions, StoreCapabilities} from './types.js'

export type {S3StoreOptions} from './s3-config.js'

const MiB = 1024 * 1024
/** S3's smallest part (all but the last) and its largest part count. */
const MIN_PART_BYTES = 5 * MiB
const MAX_PARTS = 10_000
const UPLOAD_QUEUE_SIZE = 4

interface Body {
  transformToByteArray(): Promise<Uint8Array>
}

export class S3Store extends BaseStore {
  readonly url: string
  readonly bucket: string
  /** Prefix of every key inside the bucket: '' or ending in '/'. */
  readonly prefix: string
  readonly supports: StoreCapabilities = {conditionalWrite: true, list: true, rangeRead: true}
  /**
   * A scan keeps the request pool full: each read waits a round trip (and on a server, its time to
   * first byte) that only parallel requests hide. 16 × 4 MiB chunks in flight is a bounded 64 MiB.
   */
  override readonly readAhead: number
  private readonly opts: S3StoreOptions
  private readonly pool: RequestPool
  private readonly maxAttempts: number
  private readonly multipartThreshold: number
  private connecting: Promise<S3Client> | null = null
  private region: string | undefined
  private bucketSeen = false
  private closing = false
  /**
   * A listing page is a snapshot, fetched ahead of the caller. While listings run, this store's own
   * deletes are noted (key → sequence number) so that a listing skips a key deleted after its page
   * was fetched, as the other providers do; another process's deletes it cannot know of.
   */
  private deletedWhileListing = new Map<string, number>()
  private listings = 0
  private writeSequence = 0

  constructor(url: string, opts: S3StoreOptions = {}) {
    super()
    const location = parseS3Url(url)
    this.url = location.url
    this.bucket = location.bucket
    this.prefix = location.prefix
    this.opts = {...opts}
    this.maxAttempts = opts.maxAttempts ?? 4
    this.pool = new RequestPool(opts.maxConcurrency ?? 16)
    this.readAhead = this.pool.limit
    this.multipartThreshold = opts.multipartThresholdBytes ?? 16 * MiB
  }

  protected async _get(key: string): Promise<Uint8Array> {
    try {
      return (await this.getObject(key)).bytes
    } catch (err) {
      if (isMissingKey(err)) throw notFound(this.url, key)
      throw this.failure('read', key, err)
    }
  }

  protected async _getRange(key: string, offset: number, length: number): Promise<Uint8Array | null> {
    // S3 has no empty range: a size check says whether `offset` lies inside the object.
    if (length === 0) {
      const head = await this._head(key)
      if (head === null) throw notFound(this.url, key)
      return offset <= head.size ? new Uint8Array(0) : null
    }
    try {
      const {bytes, contentRange} = await this.getObject(key, `bytes=${offset}-${offset + length - 1}`)
      // 206 names where its bytes start; a 200 (a server that ignores Range) is the whole object.
      const start = contentRange === undefined ? 0 : Number(/^bytes (\d+)-/.exec(contentRange)?.[1])
      return this.window(key, bytes, offset - start, length)
    } catch (err) {
      // 416: the range starts at or past the end, which the contract calls a short object.
      if (isInvalidRange(err)) return null
      if (isMissingKey(err)) throw notFound(this.url, key)
      throw this.failure('read', key, err)
    }
  }

  /**
   * A GetObject with its whole body. The SDK retries a request until its answer's headers arrive;
   * the body is read after that, out of its reach, so a connection that breaks or stalls mid-body
   * (or a body shorter than its Content-Length) would fail the read at once. Such reads are
   * retried here, with the same bounded attempts and backoff.
   */
  private getObject(key: string, range?: string): Promise<{bytes: Uint8Array; contentRange?: string}> {
    return this.request(async client => {
      for (let attempt = 1; ; attempt++) {
        const response = await client.send(new (await s3sdk()).GetObjectCommand({Bucket: this.bucket, Key: this.s3Key(key), Range: range}))
        try {
          const bytes = await bytesOf(response.Body)
          if (response.ContentLength !== undefined && bytes.length !== response.ContentLength) {
            throw Object.assign(new Error(`the answer ended after ${bytes.length} of ${response.ContentLength} bytes`), {code: 'ECONNRESET'})
          }
          return {bytes, contentRange: response.ContentRange}
        } catch (err) {
          if (networkCode(err) === undefined) throw err
          if (attempt >= this.maxAttempts) throw bodyFailure(err, attempt)
          await sleep(backoffMs(attempt))
        }
      }
    })
  }

  // Servers may answer more than asked (some return to the end for a one-byte range) or less
  // (the object ends inside the range): take exactly the requested bytes, or report it short.
  private window(key: string, bytes: Uint8Array, at: number, length: number): Uint8Array | null {
    if (!Number.isSafeInteger(at) || at < 0) {
      throw new StorageError(`read ${JSON.stringify(key)} in ${this.url}: the server answered a range that does not contain the one requested`, {
        hint: 'the S3 server handles Range requests wrongly',
        data: {key},
      })
    }
    if (at + length > bytes.length) return null
    return at === 0 && bytes.length === length ? bytes : bytes.slice(at, at + length)
  }

  protected async _put(key: string, bytes: Uint8Array, opts: PutOptions): Promise<{etag: string}> {
    const params = {
      Bucket: this.bucket,
      Key: this.s3Key(key),
      IfNoneMatch: opts.ifNoneMatch,
      IfMatch: opts.ifMatch === undefined ? undefined : `"${opts.ifMatch}"`,
    }
    try {
      const etag = bytes.length > this.multipartThreshold
        ? await this.upload(params, bytes)
        : await this.request(async client => (await client.send(new (await s3sdk()).PutObjectCommand({...params, Body: bytes, ContentLength: bytes.length}))).ETag)
      this.deletedWhileListing.delete(key)
      return {etag: unquote(etag ?? md5hex(bytes))}
    } catch (err) {
      const conditional = opts.ifNoneMatch !== undefined || opts.ifMatch !== undefined
      // If-Match on a missing key: AWS answers 404 NoSuchKey rather than 412.
      if (!conditional || !(isPreconditionFailure(err) || (opts.ifMatch !== undefined && isMissingKey(err)))) throw this.failure('write', key, err)
      // A retried attempt can fail on the state its own first attempt made (whose answer was lost):
      // when the key now holds exactly these bytes, the write did happen.
      if (attempts(err) > 1 && bytes.length <= this.multipartThreshold) {
        const now = await this._head(key)
        if (now !== null && now.size === bytes.length && now.etag === md5hex(bytes)) return {etag: now.etag}
      }
      throw this.lostCondition(key, opts, err)
    }
  }

  private lostCondition(key: string, opts: PutOptions, err: unknown): LakeError {
    const ctx = this.errorContext()
    if (opts.ifNoneMatch === '*') return preconditionFailed(ctx, key, "it already exists (ifNoneMatch '*')", {})
    const what = isMissingKey(err) ? 'it does not exist' : 'its etag changed'
    return preconditionFailed(ctx, key, `${what}, expected ${opts.ifMatch}`, {expected: opts.ifMatch})
  }

  // lib-storage splits the bytes into parts uploaded in parallel and passes the condition on to
  // CompleteMultipartUpload, where S3 checks it; the upload holds one pool slot per parallel part.
  private async upload(params: {Bucket: string; Key: string; IfNoneMatch?: string; IfMatch?: string}, bytes: Uint8Array): Promise<string | undefined> {
    const partSize = Math.max(MIN_PART_BYTES, this.opts.partSizeBytes ?? 8 * MiB, Math.ceil(bytes.length / MAX_PARTS))
    return this.request(async client => {
      const {Upload} = await import('@aws-sdk/lib-storage')
      const upload = new Upload({client, params: {...params, Body: bytes}, partSize, queueSize: UPLOAD_QUEUE_SIZE, leavePartsOnError: false})
      const result = await upload.done()
      return 'ETag' in result ? result.ETag : undefined
    }, UPLOAD_QUEUE_SIZE)
  }

  protected async _exists(key: string): Promise<boolean> {
    return (await this._head(key)) !== null
  }

  protected async _head(key: string): Promise<{etag: string; size: number} | null> {
    try {
      const response = await this.request(async client => client.send(new (await s3sdk()).HeadObjectCommand({Bucket: this.bucket, Key: this.s3Key(key)})))
      return {etag: unquote(response.ETag ?? ''), size: response.ContentLength ?? 0}
    } catch (err) {
      if (!isMissingKey(err)) throw this.failure('stat', key, err)
      // A HEAD's 404 has no body, so it cannot tell a missing key from a missing bucket.
      await this.checkBucket('stat', key)
      return null
    }
  }

  // CopyObject onto itself rewrites the object, which is what gives it a new LastModified; S3
  // refuses a self-copy that changes nothing, hence REPLACE (there is no metadata to keep).
  protected async _touch(key: string): Promise<boolean> {
    const source = `${this.bucket}/${this.s3Key(key).split('/').map(encodeURIComponent).join('/')}`
    try {
      await this.request(async client => client.send(new (await s3sdk()).CopyObjectCommand({Bucket: this.bucket, Key: this.s3Key(key), CopySource: source, MetadataDirective: 'REPLACE'})))
      return true
    } catch (err) {
      if (isMissingKey(err)) return false
      throw this.failure('touch', key, err)
    }
  }

  protected async *_list(prefix: string): AsyncIterable<ListedObject> {
    this.listings++
    try {
      let token: string | undefined
      do {
        const fetchedAt = this.writeSequence
        const page = await this.request(async client => client.send(new (await s3sdk()).ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          ContinuationToken: token,
          MaxKeys: this.opts.listPageSize,
        }))).catch(err => Promise.reject(this.failure('list', undefined, err)))
        for (const object of page.Contents ?? []) {
          const key = (object.Key ?? '').slice(this.prefix.length)
          // Another tool's objects under the prefix ('dir/' markers, odd names) are not lake keys.
          if (!isValidKey(key) || (this.deletedWhileListing.get(key) ?? -1) > fetchedAt) continue
          yield {key, size: object.Size ?? 0, mtimeMs: object.LastModified?.getTime() ?? 0}
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token !== undefined)
    } finally {
      if (--this.listings === 0) this.deletedWhileListing.clear()
    }
  }

  protected async _delete(key: string): Promise<void> {
    try {
      await this.request(async client => client.send(new (await s3sdk()).DeleteObjectCommand({Bucket: this.bucket, Key: this.s3Key(key)})))
    } catch (err) {
      if (!isMissingKey(err)) throw this.failure('delete', key, err)
    }
    if (this.listings > 0) this.deletedWhileListing.set(key, ++this.writeSequence)
  }

  protected async _close(): Promise<void> {
    this.closing = true
    const connecting = this.connecting
    this.connecting = null
    if (connecting) (await connecting.catch(() => null))?.destroy()
  }

  private s3Key(key: string): string {
    return this.prefix + key
  }

  /** Runs one request (or one multipart upload) on the lazily made client, inside the pool. */
  private request<T>(fn: (client: S3Client) => Promise<T>, weight = 1): Promise<T> {
    return this.pool.run(async () => fn(await this.client()), weight)
  }

  private client(): Promise<S3Client> {
    // A request that waited in the pool while the store closed must not make a new client.
    if (this.closing) return Promise.reject(new StorageError(`store ${this.url} is closed`, {data: {url: this.url}}))
    if (!this.connecting) {
      this.connecting = createS3Client(this.opts).then(({client, region}) => {
        this.region = region
        return client
      })
      // A configuration error is reported to every caller, then forgotten, so a fixed env can retry.
      this.connecting.catch(() => (this.connecting = null))
    }
    return this.connecting
  }

  /** Once per store: after a 404 of HEAD, asks whether the bucket itself is there. */
  private async checkBucket(op: string, key: string): Promise<void> {
    if (this.bucketSeen) return
    try {
      await this.request(async client => client.send(new (await s3sdk()).HeadBucketCommand({Bucket: this.bucket})))
      this.bucketSeen = true
    } catch (err) {
      const missing = isMissingKey(err) ? {Code: 'NoSuchBucket', $metadata: {httpStatusCode: 404}} : err
      throw this.failure(op, key, missing)
    }
  }

  private errorContext(): S3ErrorContext {
    const {credentials} = this.opts
    return {
      url: this.url,
      bucket: this.bucket,
      endpoint: endpointLabel(this.opts, this.region),
      secrets: credentials ? [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken ?? ''] : [],
    }
  }

  private failure(op: string, key: string | undefined, err: unknown): LakeError {
    return s3Failure(this.errorContext(), op, key, err)
  }
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

/** Full-jitter exponential backoff, as the SDK's own retries: up to 100 ms × 2^(attempt-1), at most 5 s. */
function backoffMs(attempt: number): number {
  return Math.random() * Math.min(5_000, 100 * 2 ** (attempt - 1))
}

/** A body read that failed on every attempt, marked so the message says where it broke. */
function bodyFailure(err: unknown, attempts: number): unknown {
  return Object.assign(err as object, {$metadata: {...((err as {$metadata?: object}).$metadata ?? {}), attempts}, $bodyRead: true})
}

/** The whole body as a plain Uint8Array the caller owns (the SDK's may be a Buffer). */
async function bytesOf(body: Body | undefined): Promise<Uint8Array> {
  if (body === undefined) return new Uint8Array(0)
  const bytes = await body.transformToByteArray()
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function unquote(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1')
}

/** S3's etag of a single-part upload (without SSE-KMS). */
function md5hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex')
}

function isValidKey(key: string): boolean {
  try {
    assertKey(key)
    return true
  } catch {
    return false
  }
}
