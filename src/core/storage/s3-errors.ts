// Turning AWS SDK failures into lake errors a user can act on. The SDK's own messages are terse
// ("UnknownError" for a HEAD's 403) and some carry request details, so each failure class gets a
// message of our own naming the store and endpoint, a hint, and a `reason` tests can assert on.
// No message ever includes credentials: they are not ours to print, and text that came from the
// SDK or the server is scrubbed of anything that looks like a key or a signature.
import {LakeError, PreconditionFailedError, StorageError} from '../errors.js'

export interface S3ErrorContext {
  /** s3://bucket/prefix */
  url: string
  bucket: string
  /** How to name the endpoint in a message (see endpointLabel). */
  endpoint: string
  /** Static credentials given in options, scrubbed like those in the environment. */
  secrets?: string[]
}

export type S3FailureReason = 'no-such-bucket' | 'access-denied' | 'no-credentials' | 'unreachable' | 'connection-lost' | 'wrong-region' | 'service-unavailable' | 'untrusted-certificate' | 'request-failed'

interface SdkError {
  name?: string
  Code?: string
  code?: string
  message?: string
  $metadata?: {httpStatusCode?: number; attempts?: number}
  cause?: unknown
  errors?: unknown[]
}

const ACCESS_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidToken', 'ExpiredToken', 'TokenRefreshRequired', 'AllAccessDisabled', 'AccountProblem', 'Forbidden'])
const REGION_CODES = new Set(['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException'])
// Node's codes for a server certificate it does not accept (OpenSSL's verify results, and the name check).
const TLS_CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE', 'ERR_TLS_CERT_ALTNAME_INVALID',
])
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED'])
/** Codes of a connection that was made and then broke (the others: it could not be made, or timed out). */
const BROKEN_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED'])
const CREDENTIAL_HINT = 'check the credentials lake finds through the AWS SDK (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws/credentials, or an instance role) and their permissions: s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket (without ListBucket, S3 answers 403 for a missing key)'

export function httpStatus(err: unknown): number | undefined {
  return (err as SdkError)?.$metadata?.httpStatusCode
}

/** The S3 error code (NoSuchKey, PreconditionFailed, ...) or the SDK's error name. */
export function errorCode(err: unknown): string {
  const e = err as SdkError
  return e?.Code ?? e?.name ?? 'Error'
}

export function attempts(err: unknown): number {
  return (err as SdkError)?.$metadata?.attempts ?? 1
}

/** A missing key (HEAD answers a bare 404 'NotFound'; a missing bucket is NOT this). */
export function isMissingKey(err: unknown): boolean {
  const code = errorCode(err)
  return code === 'NoSuchKey' || code === 'NotFound' || (httpStatus(err) === 404 && code !== 'NoSuchBucket' && code !== 'NoSuchUpload')
}

/** A conditional write that lost: 412, or 409 when a concurrent conditional write was in progress. */
export function isPreconditionFailure(err: unknown): boolean {
  const code = errorCode(err)
  return code === 'PreconditionFailed' || code === 'ConditionalRequestConflict' || httpStatus(err) === 412
}

export function isInvalidRange(err: unknown): boolean {
  return errorCode(err) === 'InvalidRange' || httpStatus(err) === 416
}

export function preconditionFailed(ctx: S3ErrorContext, key: string, what: string, data: Record<string, unknown>): PreconditionFailedError {
  return new PreconditionFailedError(`put ${JSON.stringify(key)} in ${ctx.url}: ${what}`, {
    hint: 'another writer changed it first; re-read it and retry',
    data: {key, ...data},
  })
}

/** The lake error for a failed request `op` ('read', 'write', 'list', ...) of `key`. */
export function s3Failure(ctx: S3ErrorContext, op: string, key: string | undefined, err: unknown): LakeError {
  if (err instanceof LakeError) return err
  const code = errorCode(err)
  const status = httpStatus(err)
  const tries = attempts(err)
  const what = key === undefined ? `${op} in ${ctx.url}` : `${op} ${JSON.stringify(key)} in ${ctx.url}`
  const data = {url: ctx.url, key, s3Code: code, httpStatus: status, attempts: tries}
  const fail = (reason: S3FailureReason, message: string, hint: string) => new StorageError(message, {hint, data: {...data, reason}})

  if (code === 'NoSuchBucket') {
    return fail('no-such-bucket', `cannot ${what}: bucket ${JSON.stringify(ctx.bucket)} does not exist at ${ctx.endpoint}`, `create the bucket first (aws s3 mb s3://${ctx.bucket}) or check the URL; for a local S3-compatible server, check LAKE_S3_ENDPOINT`)
  }
  if (code === 'CredentialsProviderError' || /could not load credentials/i.test(messageOf(err))) {
    return fail('no-credentials', `cannot ${what}: no S3 credentials found`, CREDENTIAL_HINT)
  }
  if (ACCESS_CODES.has(code) || status === 403) {
    return fail('access-denied', `cannot ${what}: ${ctx.endpoint} refused the credentials or their permissions (${code === 'Unknown' ? 'HTTP 403' : code})`, CREDENTIAL_HINT)
  }
  if (REGION_CODES.has(code) || status === 301) {
    return fail('wrong-region', `cannot ${what}: the bucket is in another region than the client's (${code})`, "set AWS_REGION (or the profile's region) to the bucket's region")
  }
  const certificate = [...causes(err)].map((e) => e.code).find((c) => typeof c === 'string' && TLS_CERTIFICATE_CODES.has(c))
  if (certificate !== undefined) {
    return fail('untrusted-certificate', `cannot ${what}: the TLS certificate of ${ctx.endpoint} is not trusted (${certificate})`, certificateHint(certificate))
  }
  const network = networkCode(err)
  // The server was reached but the connection broke: not the same advice as a closed port.
  const attemptsText = `${tries} attempt${tries === 1 ? '' : 's'}`
  if (network !== undefined && (err as {$bodyRead?: boolean}).$bodyRead) {
    return fail('connection-lost', `cannot ${what}: the connection to the S3 endpoint ${ctx.endpoint} broke while the answer was being received (${network}, ${attemptsText})`, 'the network or the S3 service is failing; try again')
  }
  if (network !== undefined && BROKEN_CONNECTION_CODES.has(network)) {
    return fail('connection-lost', `cannot ${what}: the connection to the S3 endpoint ${ctx.endpoint} broke before the answer came (${network}, ${attemptsText})`, 'the network or the S3 service is failing; try again')
  }
  if (network !== undefined) {
    return fail('unreachable', `cannot ${what}: cannot reach the S3 endpoint ${ctx.endpoint} (${network}, ${tries} attempt${tries === 1 ? '' : 's'})`, 'check that the server is running and reachable, and that LAKE_S3_ENDPOINT (or AWS_ENDPOINT_URL) names it')
  }
  if (status !== undefined && (status >= 500 || status === 429 || code === 'SlowDown')) {
    return fail('service-unavailable', `cannot ${what}: the S3 service failed (${code}, HTTP ${status}) after ${tries} attempt${tries === 1 ? '' : 's'}`, 'the service is overloaded or failing; try again later')
  }
  const detail = scrub(messageOf(err), ctx.secrets)
  return fail('request-failed', `cannot ${what}: ${code}${status === undefined ? '' : ` (HTTP ${status})`}${detail && detail !== code ? `: ${detail}` : ''}`, 'see the S3 error code above; lake passes S3 errors it does not know through unchanged')
}

/** The network failure (ECONNRESET, 'timed out', ...) somewhere in an error's causes, if any. */
export function networkCode(err: unknown): string | undefined {
  for (const e of causes(err)) {
    // The SDK names a reset connection 'TimeoutError' too (so that it is retried): the code says which.
    if (typeof e.code === 'string' && BROKEN_CONNECTION_CODES.has(e.code)) return e.code
    if (e.name === 'TimeoutError' || e.code === 'ETIMEDOUT') return 'timed out'
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code
  }
  return undefined
}

function certificateHint(code: string): string {
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return "the server's certificate is outside its validity period: renew it, or check this machine's clock"
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'the certificate does not name the host lake connected to: check the host in LAKE_S3_ENDPOINT (or AWS_ENDPOINT_URL)'
  const given = process.env.NODE_EXTRA_CA_CERTS || process.env.LAKE_EXTRA_CA_CERTS
  return given
    ? `the CA that signed it is not in ${given} (NODE_EXTRA_CA_CERTS) nor among Node's: add it to that file`
    : "if the endpoint (or a proxy on the way) uses its own certificate authority, name that CA's PEM file in NODE_EXTRA_CA_CERTS"
}

/** An error, then its causes (and an AggregateError's errors), breadth first. */
function* causes(err: unknown): Generator<SdkError> {
  const seen = new Set<unknown>()
  const queue: unknown[] = [err]
  while (queue.length > 0) {
    const e = queue.shift() as SdkError | undefined
    if (!e || typeof e !== 'object' || seen.has(e)) continue
    seen.add(e)
    yield e
    queue.push(e.cause, ...(Array.isArray(e.errors) ? e.errors : []))
  }
}

function messageOf(err: unknown): string {
  const message = (err as SdkError)?.message
  return typeof message === 'string' ? message : String(err)
}

/** Removes what could be a credential from server- or SDK-provided text. */
export function scrub(text: string, extraSecrets: string[] = []): string {
  const secrets = [...extraSecrets, process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY, process.env.AWS_SESSION_TOKEN].filter((s): s is string => typeof s === 'string' && s.length >= 4)
  let out = text
  for (const secret of secrets) out = out.split(secret).join('[redacted]')
  return out
    .replace(/\b(?:AKIA|ASIA)[A-Z0-9]{12,}\b/g, '[redacted]')
    .replace(/(Credential|Signature|X-Amz-Credential|X-Amz-Signature|X-Amz-Security-Token)=[^\s,&"]+/gi, '$1=[redacted]')
    .slice(0, 300)
}
