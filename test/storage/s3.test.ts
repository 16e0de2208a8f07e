import assert from 'node:assert/strict'
import {createServer} from 'node:net'
import {CachedStore} from '../../src/core/storage/cache.js'
import {ObjectDb} from '../../src/core/storage/objects.js'
import {openStore} from '../../src/core/storage/open.js'
import {S3Store} from '../../src/core/storage/s3.js'
import {useS3Server, type ProxiedRequest} from '../helpers/s3.js'
import {collect, rejectsWithCode, runStoreContract} from './contract.js'
import {tempDir} from './helpers.js'

const bytesOf = (text: string) => new TextEncoder().encode(text)
const textOf = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const MiB = 1024 * 1024

describe('S3Store on s3rver over HTTP', () => {
  const s3 = useS3Server()

  // The one contract, through the proxy that enforces conditional writes (incl. the CAS races).
  runStoreContract('s3 (s3rver behind the conditional-write proxy)', () => s3.makeStore())

  /** What the proxy saw for the store's keys, as 'METHOD key?query [range]' lines. */
  const seen = async (prefix: string) => (await s3.requests(prefix)).map(describeRequest)
  /** ListObjectsV2 requests for exactly this S3 prefix. */
  const listings = async (prefix: string) => (await s3.requests()).filter(r => r.query.includes('list-type=2') && new URLSearchParams(r.query).get('prefix') === prefix)

  describe('compare-and-swap over real HTTP', () => {
    it('raw s3rver lets a stale If-Match and a second If-None-Match through; the proxy refuses both', async () => {
      // Why the proxy exists: without it, the contract's CAS tests would pass a store that loses writes.
      for (const raw of [true, false]) {
        const {store} = await s3.makeStore({raw})
        try {
          const first = await store.put('ref', bytesOf('v1'), {ifNoneMatch: '*'})
          await store.put('ref', bytesOf('v2'), {ifMatch: first.etag})
          const stale = store.put('ref', bytesOf('stale'), {ifMatch: first.etag})
          const again = store.put('ref', bytesOf('again'), {ifNoneMatch: '*'})
          if (raw) {
            await stale
            await again
            assert.equal(textOf(await store.get('ref')), 'again', 's3rver ignores both conditions')
          } else {
            await rejectsWithCode(stale, 'PRECONDITION_FAILED')
            await rejectsWithCode(again, 'PRECONDITION_FAILED')
            assert.equal(textOf(await store.get('ref')), 'v2')
          }
        } finally {
          await store.close()
        }
      }
    })

    it('sends the conditions as S3 headers: If-None-Match: * and a quoted If-Match etag', async () => {
      const {store, prefix} = await s3.makeStore()
      const {etag} = await store.put('ref', bytesOf('v1'), {ifNoneMatch: '*'})
      await store.put('ref', bytesOf('v2'), {ifMatch: etag})
      const puts = (await s3.requests(prefix)).filter(r => r.method === 'PUT')
      assert.deepEqual(puts.map(r => [r.ifNoneMatch, r.ifMatch, r.status]), [['*', undefined, 200], [undefined, `"${etag}"`, 200]])
      await store.close()
    })

    it('a conditional put whose answer was lost is recognized as done when its retry finds its own bytes', async () => {
      const {store, prefix} = await s3.makeStore()
      await s3.injectFault({method: 'PUT', keyEndsWith: '/ref'}, 'drop-response')
      const {etag} = await store.put('ref', bytesOf('mine'), {ifNoneMatch: '*'})
      // First attempt applied but unanswered, the retry refused (412), then one HEAD to check.
      assert.deepEqual(await seen(prefix), [`PUT ${prefix}ref 0`, `PUT ${prefix}ref 412`, `HEAD ${prefix}ref 200`])
      assert.equal((await store.head('ref'))?.etag, etag)
      assert.equal(textOf(await store.get('ref')), 'mine')
      await store.close()
    })

    it('a multipart upload carries its condition to CompleteMultipartUpload', async () => {
      const {store, prefix} = await s3.makeStore({multipartThresholdBytes: 6 * MiB, partSizeBytes: 5 * MiB})
      const big = new Uint8Array(11 * MiB).fill(3)
      await store.put('objects/big', big, {ifNoneMatch: '*'})
      await rejectsWithCode(store.put('objects/big', big.fill(4), {ifNoneMatch: '*'}), 'PRECONDITION_FAILED')
      assert.equal((await store.getRange('objects/big', 11 * MiB - 1, 1))[0], 3)
      const completes = (await s3.requests(prefix)).filter(r => r.method === 'POST' && r.query.includes('uploadId'))
      assert.deepEqual(completes.map(r => [r.ifNoneMatch, r.status]), [['*', 200], ['*', 412]])
      await store.close()
    })
  })

  describe('requests', () => {
    it('one request per operation; getRange is one ranged GET', async () => {
      const {store, prefix} = await s3.makeStore()
      const data = new Uint8Array(MiB).map((_, i) => i % 256)
      await store.put('objects/k', data)
      assert.deepEqual(await store.getRange('objects/k', 1000, 10), data.slice(1000, 1010))
      await store.get('objects/k')
      await store.head('objects/k')
      await store.touch('objects/k')
      await collect(store.list('objects/'))
      await store.delete('objects/k')
      assert.equal(await store.exists('objects/k'), false)
      assert.equal(await store.exists('objects/k'), false)
      assert.deepEqual(await seen(prefix), [
        `PUT ${prefix}objects/k 200`,
        `GET ${prefix}objects/k bytes=1000-1009 206`,
        `GET ${prefix}objects/k 200`,
        `HEAD ${prefix}objects/k 200`,
        `PUT ${prefix}objects/k copy 200`,
        `DELETE ${prefix}objects/k 204`,
        // The first 404 of HEAD asks once whether the bucket exists (HEAD ${bucket}, not under the prefix).
        `HEAD ${prefix}objects/k 404`,
        `HEAD ${prefix}objects/k 404`,
      ])
      assert.equal((await listings(`${prefix}objects/`)).length, 1)
      await store.close()
    })

    it('a zero-length range is a HEAD (S3 has no empty range)', async () => {
      const {store, prefix} = await s3.makeStore()
      await store.put('k', bytesOf('0123456789'))
      assert.equal((await store.getRange('k', 10, 0)).length, 0)
      assert.deepEqual((await seen(prefix)).slice(1), [`HEAD ${prefix}k 200`])
      await store.close()
    })

    it('lists page by page, in key order, and strips the prefix', async () => {
      const {store, prefix} = await s3.makeStore({listPageSize: 2})
      const keys = ['e', 'a/1', 'c', 'b', 'a/2']
      for (const key of keys) await store.put(key, bytesOf(key))
      assert.deepEqual((await collect(store.list(''))).map(o => o.key), [...keys].sort())
      assert.equal((await listings(prefix)).length, 3)
      const whole = new S3Store(`s3://${s3.bucket}`, s3.storeOptions())
      assert.deepEqual((await collect(whole.list(prefix))).map(o => o.key), [...keys].sort().map(k => prefix + k))
      await whole.close()
      await store.close()
    })

    it('round-trips a large object (> 16 MiB) through a multipart upload', async function () {
      this.timeout(60_000)
      const {store, prefix} = await s3.makeStore()
      const large = new Uint8Array(17 * MiB).map((_, i) => (i * 7 + (i >> 20)) & 0xff)
      const {etag} = await store.put('objects/large', large)
      assert.deepEqual(await store.get('objects/large'), large)
      assert.deepEqual(await store.head('objects/large'), {etag, size: large.length})
      const across = 8 * MiB - 5
      assert.deepEqual(await store.getRange('objects/large', across, 10), large.slice(across, across + 10))
      const upload = (await seen(prefix)).slice(0, 5).map(line => line.replace(/uploadId=\w+/, 'uploadId=U'))
      assert.equal(upload[0], `POST ${prefix}objects/large?uploads= 200`)
      assert.deepEqual(upload.slice(1, 4).sort(), [1, 2, 3].map(n => `PUT ${prefix}objects/large?partNumber=${n}&uploadId=U 200`))
      assert.equal(upload[4], `POST ${prefix}objects/large?uploadId=U 200`)
      await store.close()
    })
  })

  describe('behind a CachedStore', () => {
    it('hits make no HTTP request; a verified chunk serves all its ranges from disk', async () => {
      const {dir, cleanup} = await tempDir()
      const {store, prefix} = await s3.makeStore()
      const cache = new CachedStore(store, {dir, maxBytes: 64 * MiB})
      try {
        const db = new ObjectDb(cache, {cacheBytes: 0})
        const chunk = new Uint8Array(2 * MiB).map((_, i) => (i * 13) & 0xff)
        const hash = await db.put(chunk)
        const commit = await db.put(bytesOf('a small commit object'))
        await s3.clearRequests()
        for (let epoch = 0; epoch < 3; epoch++) {
          assert.equal(textOf(await db.get(commit)), 'a small commit object')
          for (let at = 0; at < chunk.length; at += 256 * 1024) assert.deepEqual(await db.getRange(hash, at, 100), chunk.slice(at, at + 100))
        }
        // Epoch 1: the commit (GET), the chunk (HEAD for its size, then GET whole); epochs 2-3: none.
        assert.deepEqual((await seen(prefix)).map(line => line.replace(/[0-9a-f]{62}/, 'H')), [
          `GET ${prefix}objects/${commit.slice(0, 2)}/H 200`,
          `HEAD ${prefix}objects/${hash.slice(0, 2)}/H 200`,
          `GET ${prefix}objects/${hash.slice(0, 2)}/H 200`,
        ])
      } finally {
        await cache.close()
        await cleanup()
      }
    })
  })

  describe('failures', () => {
    it('retries a 503 SlowDown and succeeds', async () => {
      const {store, prefix} = await s3.makeStore()
      await store.put('k', bytesOf('v'))
      await s3.injectFault({method: 'GET', keyEndsWith: '/k'}, {status: 503, code: 'SlowDown'})
      assert.equal(textOf(await store.get('k')), 'v')
      assert.deepEqual((await seen(prefix)).slice(1), [`GET ${prefix}k 503`, `GET ${prefix}k 200`])
      await store.close()
    })

    it('gives up after maxAttempts on a failing service, with a clear error', async () => {
      const {store} = await s3.makeStore({maxAttempts: 2})
      for (let i = 0; i < 2; i++) await s3.injectFault({method: 'GET', keyEndsWith: '/k'}, {status: 500, code: 'InternalError'})
      const err = await failure(store.get('k'))
      assert.equal(err.code, 'STORAGE_ERROR')
      assert.equal(err.data?.reason, 'service-unavailable')
      assert.equal(err.data?.attempts, 2)
      await store.close()
    })

    it('a body cut short (the connection breaks mid-answer) is read again: get and getRange return the right bytes', async () => {
      const {store, prefix} = await s3.makeStore()
      const value = new Uint8Array(64 * 1024).map((_, i) => (i * 7) % 251)
      await store.put('k', value)
      await s3.injectFault({method: 'GET', keyEndsWith: '/k'}, 'truncate-body')
      assert.deepEqual(await store.get('k'), value)
      await s3.injectFault({method: 'GET', keyEndsWith: '/k'}, 'truncate-body')
      assert.deepEqual(await store.getRange('k', 1000, 20_000), value.slice(1000, 21_000))
      // each read: the cut answer, then the whole one (the SDK alone would have failed the read)
      assert.deepEqual((await seen(prefix)).slice(1), [`GET ${prefix}k 200`, `GET ${prefix}k 200`, `GET ${prefix}k bytes=1000-20999 206`, `GET ${prefix}k bytes=1000-20999 206`])
      await store.close()
    })

    it('a body cut short on every attempt: a clear error saying where it broke, after maxAttempts', async () => {
      const {store} = await s3.makeStore({maxAttempts: 2})
      await store.put('k', new Uint8Array(10_000))
      for (let i = 0; i < 2; i++) await s3.injectFault({method: 'GET', keyEndsWith: '/k'}, 'truncate-body')
      const err = await failure(store.get('k'))
      assert.deepEqual([err.code, err.data?.reason, err.data?.attempts], ['STORAGE_ERROR', 'connection-lost', 2])
      assert.ok(err.message.includes('broke while the answer was being received') && err.message.includes(s3.endpoint), err.message)
      assert.ok(err.hint)
      await store.close()
    })

    it('a connection reset before the answer, on every attempt: the error says it broke, not that the endpoint is unreachable', async () => {
      const {store} = await s3.makeStore({maxAttempts: 2})
      await store.put('k', bytesOf('v'))
      for (let i = 0; i < 2; i++) await s3.injectFault({method: 'HEAD', keyEndsWith: '/k'}, 'drop-response')
      const err = await failure(store.head('k'))
      // the SDK names a reset 'TimeoutError' (to retry it); the message must not say 'timed out'
      assert.deepEqual([err.code, err.data?.reason, err.data?.attempts], ['STORAGE_ERROR', 'connection-lost', 2])
      assert.ok(err.message.includes('broke before the answer came (ECONNRESET, 2 attempts)') && err.message.includes(s3.endpoint), err.message)
      await store.close()
    })

    it('a missing bucket is named, for reads, HEADs, writes and listings', async () => {
      const store = new S3Store('s3://no-such-bucket/data', s3.storeOptions())
      for (const attempt of [() => store.get('k'), () => store.head('k'), () => store.exists('k'), () => store.put('k', bytesOf('v')), () => collect(store.list(''))]) {
        const err = await failure(attempt())
        assert.equal(err.code, 'STORAGE_ERROR')
        assert.equal(err.data?.reason, 'no-such-bucket')
        assert.ok(err.message.includes('"no-such-bucket"') && err.message.includes(s3.endpoint), err.message)
        assert.ok(err.hint?.includes('LAKE_S3_ENDPOINT'))
      }
      await store.close()
    })

    it('an unreachable endpoint fails fast after bounded retries, naming the endpoint', async () => {
      const port = await closedPort()
      const endpoint = `http://127.0.0.1:${port}`
      const store = new S3Store('s3://bucket/x', {...s3.storeOptions(), endpoint})
      const started = Date.now()
      const err = await failure(store.get('k'))
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`)
      assert.equal(err.code, 'STORAGE_ERROR')
      assert.equal(err.data?.reason, 'unreachable')
      assert.equal(err.data?.attempts, 4)
      assert.ok(err.message.includes(endpoint), err.message)
      assert.ok(err.hint?.includes('LAKE_S3_ENDPOINT'))
      await store.close()
    })

    it('a server that accepts connections but never answers times out (requestTimeoutMs), bounded by maxAttempts', async () => {
      const silent = createServer(() => {})
      await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
      const endpoint = `http://127.0.0.1:${(silent.address() as {port: number}).port}`
      const store = new S3Store('s3://bucket/x', {...s3.storeOptions(), endpoint, requestTimeoutMs: 200, maxAttempts: 2})
      try {
        const started = Date.now()
        const err = await failure(store.get('k'))
        assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`)
        assert.deepEqual([err.code, err.data?.reason, err.data?.attempts], ['STORAGE_ERROR', 'unreachable', 2])
        assert.ok(err.message.includes(endpoint) && err.message.includes('timed out'), err.message)
      } finally {
        await store.close()
        silent.close()
      }
    })

    it('409 ConditionalRequestConflict (a concurrent conditional write on AWS) is a lost condition', async () => {
      const {store} = await s3.makeStore()
      const {etag} = await store.put('ref', bytesOf('v1'))
      await s3.injectFault({method: 'PUT', keyEndsWith: '/ref'}, {status: 409, code: 'ConditionalRequestConflict'})
      await rejectsWithCode(store.put('ref', bytesOf('v2'), {ifMatch: etag}), 'PRECONDITION_FAILED')
      await store.close()
    })

    it('no credentials anywhere: a clear error (and the region falls back to us-east-1)', async () => {
      const saved = {...process.env}
      for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key]
      Object.assign(process.env, {AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_EC2_METADATA_DISABLED: 'true'})
      const store = new S3Store(`s3://${s3.bucket}/x`, {endpoint: s3.endpoint})
      try {
        const err = await failure(store.get('k'))
        assert.deepEqual([err.code, err.data?.reason], ['STORAGE_ERROR', 'no-credentials'])
        assert.ok(err.hint?.includes('AWS_PROFILE'))
      } finally {
        await store.close()
        for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
        Object.assign(process.env, saved)
      }
    })

    it('refused credentials are reported without ever showing them', async () => {
      const credentials = {accessKeyId: 'AKIAEXAMPLEUNKNOWN01', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'}
      const store = new S3Store(`s3://${s3.bucket}/x`, {...s3.storeOptions(), credentials})
      // GET gets an XML error (InvalidAccessKeyId); HEAD a bare 403.
      for (const attempt of [() => store.get('k'), () => store.head('k')]) {
        const err = await failure(attempt())
        assert.equal(err.code, 'STORAGE_ERROR')
        assert.equal(err.data?.reason, 'access-denied')
        const shown = `${err.message} ${err.hint} ${JSON.stringify(err.data)} ${err.stack}`
        for (const secret of [credentials.accessKeyId, credentials.secretAccessKey]) assert.ok(!shown.includes(secret), `leaked: ${shown}`)
      }
      await store.close()
    })

    // s3rver checks that the access key id exists but does not verify V4 signatures, so a right
    // key id with a wrong secret is accepted there; AWS answers SignatureDoesNotMatch (mapped like
    // InvalidAccessKeyId above).
    it('a wrong secret key is refused (not checkable: s3rver does not verify V4 signatures)')
  })

  describe('openStore and URLs', () => {
    it('openStore(s3://bucket/prefix) opens an S3Store configured from LAKE_S3_ENDPOINT and the SDK env', async () => {
      const saved = {...process.env}
      Object.assign(process.env, {LAKE_S3_ENDPOINT: s3.endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1'})
      try {
        const store = openStore(`s3://${s3.bucket}/opened/`)
        assert.ok(store instanceof S3Store)
        assert.equal(store.url, `s3://${s3.bucket}/opened`)
        await store.put('k', bytesOf('v'))
        assert.equal(textOf(await store.get('k')), 'v')
        await store.close()
      } finally {
        for (const key of ['LAKE_S3_ENDPOINT', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) {
          if (saved[key] === undefined) delete process.env[key]
          else process.env[key] = saved[key]
        }
      }
    })

    it('normalizes and refuses URLs', () => {
      const store = new S3Store('s3://my-bucket/a/b/')
      assert.deepEqual([store.url, store.bucket, store.prefix], ['s3://my-bucket/a/b', 'my-bucket', 'a/b/'])
      assert.equal(new S3Store('s3://my-bucket').prefix, '')
      for (const url of ['s3://', 's3://Bad_Bucket/x', 's3://ab', 's3://bucket/a//b', 's3://bucket/../x', 's3://bucket/.lake-tmp-1']) {
        assert.throws(() => openStore(url), {code: 'STORAGE_ERROR'}, url)
      }
    })

    it('refuses an endpoint that is not an http(s) URL, on first use', async () => {
      const store = new S3Store('s3://bucket', {endpoint: 'localhost:9000', credentials: s3.credentials})
      await rejectsWithCode(store.get('k'), 'STORAGE_ERROR')
      await store.close()
    })
  })
})

function describeRequest(r: ProxiedRequest): string {
  const query = r.query.replace(/[?&]x-id=[A-Za-z]+/, '').replace(/^&/, '?')
  const copy = r.method === 'PUT' && r.query.includes('CopyObject') ? ' copy' : ''
  return `${r.method} ${r.key}${query ? (query.startsWith('?') ? query : `?${query}`) : ''}${copy}${r.range ? ` ${r.range}` : ''} ${r.status}`
}

async function failure(promise: Promise<unknown>): Promise<{code: string; message: string; hint?: string; data?: Record<string, unknown>; stack?: string}> {
  try {
    await promise
  } catch (err) {
    return err as {code: string; message: string}
  }
  throw new assert.AssertionError({message: 'expected a failure'})
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}
  await new Promise(resolve => server.close(resolve))
  return port
}
