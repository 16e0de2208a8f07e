// A real S3 endpoint for tests: s3rver on 127.0.0.1 (random port, temp dir) behind a small HTTP
// proxy that makes it behave like AWS where the storage contract depends on it:
//  - conditional writes: s3rver ignores If-None-Match / If-Match on PUT. The proxy checks them
//    itself (a HEAD to s3rver for the key) and answers 412 PreconditionFailed like AWS (404
//    NoSuchKey for If-Match on a missing key), holding the key's write lock from the check through
//    the forwarded PUT, so check-and-put is atomic as on AWS;
//  - atomic objects: s3rver writes an object's file in place, so a concurrent GET can read half of
//    it. The proxy holds a per-key readers/writer lock across each request, so a reader sees the
//    old or the new object, as on AWS.
// Three deviations are corrected inside s3rver's store, since no proxy can fix them from outside:
// it answers a PUT before the object's file is fully written, it lists in directory order rather
// than key order, and a self-copy (how S3Store.touch refreshes LastModified) keeps the old mtime.
// The proxy (s3-proxy.ts) also logs every request (tests count them) and can inject faults.
// Server and proxy run in a child process: s3rver installs process-wide handlers, and the CAS
// tests' thousand requests go faster with the server on another core than the client's.
import {createHash, randomBytes} from 'node:crypto'
import {fork, type ChildProcess} from 'node:child_process'
import {createWriteStream, existsSync} from 'node:fs'
import {mkdir, mkdtemp, rename, rm, utimes, writeFile} from 'node:fs/promises'
import type http from 'node:http'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {Readable, Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {fileURLToPath} from 'node:url'
import S3rver from 's3rver'
import {S3Store, type S3StoreOptions} from '../../src/core/storage/s3.js'
import type {StoreFixture} from '../storage/contract.js'
import {CasProxy, type Chaos, type ChaosReport, type Fault, type FaultMatch, type ProxiedRequest} from './s3-proxy.js'

export type {Chaos, ChaosKind, ChaosReport, Fault, FaultMatch, ProxiedRequest} from './s3-proxy.js'
export {CHAOS_KINDS} from './s3-proxy.js'

// s3rver keeps several files per object and rewrites them on every PUT: a RAM disk when there is
// one keeps the contract suite's thousand-request CAS test fast (LAKE_TEST_TMP overrides).
const FAST_TMP = process.env.LAKE_TEST_TMP ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir())

// The SDK warns once per process on Node 20; the warning is about future SDK releases, not lake.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

/** s3rver's store as far as the corrections below touch it. */
interface S3rverStore {
  rootDirectory: string
  listObjects(bucket: string, options: {maxKeys?: number}): Promise<{objects: Array<{key: string}>; isTruncated: boolean}>
  copyObject(srcBucket: string, srcKey: string, destBucket: string, destKey: string, metadata: unknown): Promise<unknown>
  putObject(object: {bucket: string; key: string; content: Readable | Buffer; metadata: Record<string, string>}): Promise<{size: number; md5: string}>
  putPart(bucket: string, uploadId: string, partNumber: number, content: Readable): Promise<{size: number; md5: string}>
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>
  getResourcePath(bucket: string, key: string | undefined, resource: string): string
  getBucket(name: string): Promise<unknown>
  getSubresource(bucket: string, key: string | undefined, type: string): Promise<unknown>
}

/** Caches a lookup once it found something. */
function remember(cache: Map<string, Promise<unknown>>, key: string, lookup: Promise<unknown>): Promise<unknown> {
  cache.set(key, lookup)
  lookup.then(found => found ?? cache.delete(key), () => cache.delete(key))
  return lookup
}

/**
 * s3rver answers a PUT when its hashing stream ends, before the file stream has flushed: a GET
 * right after the answer can read a short file (and a multipart upload can assemble short parts).
 * These writes finish the file (temp file, then rename) before answering.
 */
async function writeWhole(path: string, content: Readable | Buffer): Promise<{size: number; md5: string}> {
  await mkdir(dirname(path), {recursive: true})
  const md5 = createHash('md5')
  let size = 0
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  const source = Buffer.isBuffer(content) ? Readable.from([content]) : content
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      md5.update(chunk)
      size += chunk.length
      done(null, chunk)
    },
  })
  await pipeline(source, hashing, createWriteStream(temp))
  await rename(temp, path)
  return {size, md5: md5.digest('hex')}
}

function correctS3rver(store: S3rverStore): void {
  // Not a correction, a speed-up: s3rver looks up the bucket and its cors/website configuration
  // on disk for every request (a third of its time here); the tests never change either.
  const getBucket = store.getBucket.bind(store)
  const buckets = new Map<string, Promise<unknown>>()
  store.getBucket = name => buckets.get(name) ?? remember(buckets, name, getBucket(name))
  const getSubresource = store.getSubresource.bind(store)
  const configs = new Map<string, Promise<unknown>>()
  store.getSubresource = (bucket, key, type) => {
    if (key !== undefined) return getSubresource(bucket, key, type)
    const id = `${bucket} ${type}`
    if (!configs.has(id)) configs.set(id, getSubresource(bucket, key, type))
    return configs.get(id)!
  }
  store.putObject = async object => {
    const result = await writeWhole(store.getResourcePath(object.bucket, object.key, 'object'), object.content)
    await store.putMetadata(object.bucket, object.key, object.metadata, result.md5)
    return result
  }
  store.putPart = async (bucket, uploadId, partNumber, content) => {
    const result = await writeWhole(join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId, String(partNumber)), content)
    await writeFile(join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId, `${partNumber}.md5`), result.md5)
    return result
  }
  const list = store.listObjects.bind(store)
  store.listObjects = async (bucket, options) => {
    const all = await list(bucket, {...options, maxKeys: Infinity})
    // S3 lists in UTF-8 byte order (the same as JS order for the ASCII keys of these tests).
    const sorted = all.objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    const maxKeys = options.maxKeys ?? Infinity
    return {...all, objects: sorted.slice(0, maxKeys), isTruncated: sorted.length > maxKeys}
  }
  const copy = store.copyObject.bind(store)
  store.copyObject = async (srcBucket, srcKey, destBucket, destKey, metadata) => {
    if (srcBucket === destBucket && srcKey === destKey) {
      const now = new Date()
      await utimes(store.getResourcePath(srcBucket, srcKey, 'object'), now, now)
    }
    return copy(srcBucket, srcKey, destBucket, destKey, metadata)
  }
}

/** The child process: s3rver plus the proxy, driven by messages from S3TestServer. */
async function serve(bucket: string): Promise<void> {
  const dir = await mkdtemp(join(FAST_TMP, 'lake-s3rver-'))
  const server = new S3rver({port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{name: bucket}]})
  correctS3rver(server.store)
  const {port} = await server.run()
  const proxy = new CasProxy({host: '127.0.0.1', port})
  const proxyPort = await proxy.listen()
  const stop = async () => {
    await proxy.close()
    server.httpServer?.closeAllConnections()
    await server.close().catch(() => {})
    await rm(dir, {recursive: true, force: true})
    process.exit(0)
  }
  process.on('disconnect', () => void stop())
  process.on('message', (message: ServerCommand) => {
    const reply = (value?: unknown) => process.send!({id: message.id, value})
    if (message.type === 'requests') reply(proxy.requests.filter(r => r.key.startsWith(message.prefix ?? '')))
    else if (message.type === 'clear') reply(void (proxy.requests.length = 0))
    else if (message.type === 'fault') reply(proxy.injectFault(message.match, message.fault))
    else if (message.type === 'chaos') reply(proxy.startChaos(message.plan))
    else if (message.type === 'chaos-end') reply(proxy.stopChaos(message.prefix))
    else if (message.type === 'stop') void stop()
  })
  process.send!({ready: true, endpoint: `http://127.0.0.1:${proxyPort}`, rawEndpoint: `http://127.0.0.1:${port}`})
}

type ServerCommand = {id: number} & ({type: 'requests'; prefix?: string} | {type: 'clear'} | {type: 'fault'; match: FaultMatch; fault: Fault} | {type: 'chaos'; plan: Chaos} | {type: 'chaos-end'; prefix: string} | {type: 'stop'})

const SERVE_ENV = 'LAKE_TEST_S3_SERVE_BUCKET'
if (process.env[SERVE_ENV] && process.send) void serve(process.env[SERVE_ENV])

export class S3TestServer {
  readonly bucket = 'lake-test'
  readonly credentials = {accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER'}
  /** The proxy: what stores use. */
  endpoint = ''
  /** s3rver itself, without the proxy's conditional writes. */
  rawEndpoint = ''
  private child: ChildProcess | undefined
  private nextId = 0
  private readonly pending = new Map<number, (value: unknown) => void>()
  private stores = 0

  async start(): Promise<void> {
    const child = fork(fileURLToPath(import.meta.url), [], {
      env: {...process.env, [SERVE_ENV]: this.bucket},
      // s3rver's continuation tokens use DES, which OpenSSL 3 only has in its legacy provider.
      execArgv: ['--import', 'tsx', '--openssl-legacy-provider'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.child = child
    const ready = await new Promise<{endpoint: string; rawEndpoint: string}>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', code => reject(new Error(`the s3rver test server exited (${code}) before it was ready`)))
      child.on('message', (message: {ready?: boolean; id?: number; value?: unknown; endpoint: string; rawEndpoint: string}) => {
        if (message.ready) resolve(message)
        else if (message.id !== undefined) this.pending.get(message.id)?.(message.value)
      })
    })
    this.endpoint = ready.endpoint
    this.rawEndpoint = ready.rawEndpoint
  }

  async stop(): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null) return
    const exited = new Promise(resolve => child.once('exit', resolve))
    child.send({id: -1, type: 'stop'})
    await exited
  }

  /** Requests the proxy saw whose key starts with `prefix` (all when omitted), in arrival order. */
  requests(prefix?: string): Promise<ProxiedRequest[]> {
    return this.ask({type: 'requests', prefix}) as Promise<ProxiedRequest[]>
  }

  async clearRequests(): Promise<void> {
    await this.ask({type: 'clear'})
  }

  /** The next request matching `match` meets `fault`. */
  async injectFault(match: FaultMatch, fault: Fault): Promise<void> {
    await this.ask({type: 'fault', match, fault})
  }

  /** Starts seeded random faults on requests under plan.prefix (see Chaos in s3-proxy.ts). */
  async startChaos(plan: Chaos): Promise<void> {
    await this.ask({type: 'chaos', plan})
  }

  /** Stops the faults under `prefix`; returns what they injected. */
  stopChaos(prefix: string): Promise<ChaosReport> {
    return this.ask({type: 'chaos-end', prefix}) as Promise<ChaosReport>
  }

  /** Client options for a store on this server (through the proxy unless `raw`). */
  storeOptions(extra: S3StoreOptions & {raw?: boolean} = {}): S3StoreOptions {
    const {raw, ...rest} = extra
    return {endpoint: raw ? this.rawEndpoint : this.endpoint, region: 'us-east-1', credentials: this.credentials, ...rest}
  }

  /** A store on a fresh prefix of the bucket, so that tests never see each other's keys. */
  async makeStore(extra: S3StoreOptions & {raw?: boolean} = {}): Promise<StoreFixture & {store: S3Store; prefix: string}> {
    const prefix = `t${++this.stores}`
    const store = new S3Store(`s3://${this.bucket}/${prefix}`, this.storeOptions(extra))
    return {store, prefix: `${prefix}/`, cleanup: async () => {}}
  }

  private ask(command: Record<string, unknown>): Promise<unknown> {
    const id = ++this.nextId
    return new Promise(resolve => {
      this.pending.set(id, value => {
        this.pending.delete(id)
        resolve(value)
      })
      this.child!.send({...command, id})
    })
  }
}

/** One server for the enclosing describe block: started before its tests, stopped after them. */
export function useS3Server(): S3TestServer {
  const s3 = new S3TestServer()
  before(async function () {
    this.timeout(30_000)
    await s3.start()
  })
  after(async () => {
    await s3.stop()
  })
  return s3
}
