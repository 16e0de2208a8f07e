// Where an S3 store lives and how its client is made: the s3://bucket/prefix URL, and an S3Client
// configured from options, LAKE_S3_ENDPOINT and otherwise the SDK's own chain (AWS_REGION,
// AWS_ENDPOINT_URL, AWS_PROFILE, ~/.aws/config and credentials, instance roles). Credentials are
// never read here: the SDK's default provider finds them, and only the SDK holds them.
import type {S3Client} from '@aws-sdk/client-s3'

type Sdk = typeof import('@aws-sdk/client-s3')
let sdkPromise: Promise<Sdk> | undefined
/** The AWS SDK, loaded on the first S3 request: commands on local datasets never pay for it. */
export const s3sdk = (): Promise<Sdk> => (sdkPromise ??= import('@aws-sdk/client-s3'))
import {StorageError} from '../errors.js'
import {useExtraCas} from './extra-ca.js'
import {assertPrefix} from './keys.js'
import {redactUrl} from './redact.js'

export interface S3StoreOptions {
  /** An S3-compatible endpoint (MinIO, R2, Ceph, a local server); default $LAKE_S3_ENDPOINT, else the SDK's chain. */
  endpoint?: string
  /** Path-style URLs (endpoint/bucket/key); default true when an endpoint is given, as local servers expect. */
  forcePathStyle?: boolean
  /** Default: the SDK's (AWS_REGION, the profile's region), else 'us-east-1'. */
  region?: string
  /** Static credentials (tests, embedding apps); default: the SDK's default provider chain. */
  credentials?: {accessKeyId: string; secretAccessKey: string; sessionToken?: string}
  /** Attempts per request, retried with backoff on 5xx, throttling and network errors (default 4). */
  maxAttempts?: number
  /** Time to establish a connection before the attempt fails (default 5 s). */
  connectionTimeoutMs?: number
  /** Longest one attempt may take from start to end; then it fails and is retried (default 5 min). */
  requestTimeoutMs?: number
  /** An attempt whose socket is silent this long fails and is retried (default $LAKE_S3_TIMEOUT seconds, else 30 s). */
  idleTimeoutMs?: number
  /** Requests in flight at once, per store (default 16). */
  maxConcurrency?: number
  /** Puts larger than this use a multipart upload (default 16 MiB). */
  multipartThresholdBytes?: number
  /** Part size of multipart uploads (default 8 MiB; grown to stay under S3's 10,000 parts). */
  partSizeBytes?: number
  /** Keys per ListObjectsV2 page (default 1000, S3's maximum). */
  listPageSize?: number
}

export interface S3Location {
  bucket: string
  /** Key prefix inside the bucket: '' or ending in '/'. */
  prefix: string
  /** The normalized URL: s3://bucket or s3://bucket/prefix. */
  url: string
}

export const DEFAULT_REGION = 'us-east-1'
const URL_HINT = "write it as s3://bucket or s3://bucket/prefix (bucket names: 3-63 lowercase letters, digits, '.' and '-')"

export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(url)
  const bucket = match?.[1] ?? ''
  if (!match || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
    throw new StorageError(`invalid S3 URL ${JSON.stringify(redactUrl(url))}: no valid bucket name`, {hint: URL_HINT, data: {url: redactUrl(url)}})
  }
  const path = (match[2] ?? '').replace(/\/+$/, '')
  const prefix = path === '' ? '' : `${path}/`
  try {
    assertPrefix(prefix)
  } catch (err) {
    throw new StorageError(`invalid S3 URL ${JSON.stringify(redactUrl(url))}: bad prefix ${JSON.stringify(path)}`, {hint: `${URL_HINT}; ${(err as StorageError).hint}`, data: {url: redactUrl(url)}})
  }
  return {bucket, prefix, url: path === '' ? `s3://${bucket}` : `s3://${bucket}/${path}`}
}

/** The endpoint given to lake itself, if any; AWS_ENDPOINT_URL and profiles are the SDK's business. */
export function explicitEndpoint(opts: S3StoreOptions): string | undefined {
  const endpoint = opts.endpoint ?? process.env.LAKE_S3_ENDPOINT
  return endpoint === undefined || endpoint === '' ? undefined : endpoint
}

/** How error messages name the endpoint: without any user:password part of the URL. */
export function endpointLabel(opts: S3StoreOptions, region: string | undefined): string {
  const endpoint = explicitEndpoint(opts) ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL
  if (endpoint) {
    try {
      const parsed = new URL(endpoint)
      parsed.username = ''
      parsed.password = ''
      return parsed.href.replace(/\/$/, '')
    } catch {
      return 'the configured endpoint (not a valid URL)'
    }
  }
  return `AWS S3 (${region ?? DEFAULT_REGION})`
}

export async function createS3Client(opts: S3StoreOptions): Promise<{client: S3Client; region: string}> {
  const endpoint = explicitEndpoint(opts)
  if (endpoint !== undefined && !/^https?:\/\/[^/]/i.test(endpoint)) {
    throw new StorageError(`invalid S3 endpoint ${JSON.stringify(endpointLabel(opts, undefined))}: it must be an http:// or https:// URL`, {
      hint: 'set LAKE_S3_ENDPOINT to the server URL, e.g. http://127.0.0.1:9000',
    })
  }
  // LAKE_EXTRA_CA_CERTS for the S3 endpoint and the credential services (read at the first TLS connection)
  await useExtraCas()
  const region = opts.region ?? (await sdkRegion())
  const client = new (await s3sdk()).S3Client({
    region,
    ...(endpoint !== undefined ? {endpoint} : {}),
    forcePathStyle: opts.forcePathStyle ?? endpoint !== undefined,
    followRegionRedirects: true,
    ...(opts.credentials ? {credentials: opts.credentials} : {}),
    maxAttempts: opts.maxAttempts ?? 4,
    requestHandler: {
      connectionTimeout: opts.connectionTimeoutMs ?? 5_000,
      socketTimeout: opts.idleTimeoutMs ?? envTimeoutMs() ?? 30_000,
      requestTimeout: opts.requestTimeoutMs ?? 5 * 60_000,
      // Without it the SDK only logs a warning when requestTimeout passes, and a hung server hangs lake.
      throwOnRequestTimeout: true,
      // A little above the pool's limit: a multipart upload's parts and a retry's new socket fit.
      httpAgent: {keepAlive: true, maxSockets: (opts.maxConcurrency ?? 16) + 4},
      httpsAgent: {keepAlive: true, maxSockets: (opts.maxConcurrency ?? 16) + 4},
    },
  })
  return {client, region}
}

/**
 * LAKE_S3_TIMEOUT (seconds): how long a request may wait on a silent connection before it is
 * abandoned and retried. Lower it where a stalled server should be given up on quickly.
 */
function envTimeoutMs(): number | undefined {
  const raw = process.env.LAKE_S3_TIMEOUT
  if (raw === undefined || raw === '') return undefined
  const seconds = Number(raw)
  return Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : undefined
}

// The SDK resolves the region from AWS_REGION and the profile, and fails the first request when
// it finds none; lake falls back to us-east-1 instead: S3-compatible servers accept any region, and
// on AWS the client follows the redirect to the bucket's own region (followRegionRedirects).
async function sdkRegion(): Promise<string> {
  const probe = new (await s3sdk()).S3Client({})
  try {
    return (await probe.config.region()) || DEFAULT_REGION
  } catch {
    return DEFAULT_REGION
  } finally {
    probe.destroy()
  }
}
