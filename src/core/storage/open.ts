// Opening a store by URL: the scheme picks the provider (the commit handler by scheme, as in
// Lance). Synchronous on purpose: providers connect lazily, on their first request.
import {isAbsolute} from 'node:path'
import {fileURLToPath} from 'node:url'
import {StorageError} from '../errors.js'
import {FsStore, type FsStoreOptions} from './fs.js'
import {MemoryStore} from './memory.js'
import {S3Store, type S3StoreOptions} from './s3.js'
import type {ObjectStore} from './types.js'
import {redactUrl} from './redact.js'

export {redactUrl} from './redact.js'

/** Options for whichever provider the URL selects; a provider ignores those that are not its own. */
export type OpenStoreOptions = FsStoreOptions & S3StoreOptions

export const SUPPORTED_STORE_URLS = ['file:///absolute/path', '/absolute/path', 'memory://name', 's3://bucket/prefix'] as const

const SUPPORTED_HINT = `supported storage URLs: ${SUPPORTED_STORE_URLS.join(', ')}`

export function openStore(url: string, opts: OpenStoreOptions = {}): ObjectStore {
  if (typeof url !== 'string' || url === '') throw new StorageError('no storage URL given', {hint: SUPPORTED_HINT, data: {url}})
  // A URL ends up in .lake/config.json, in `remote list` and in messages: credentials in it
  // would leak to all of them. Refused before anything else, and not echoed.
  if (redactUrl(url) !== url) {
    throw new StorageError(`storage URL ${JSON.stringify(redactUrl(url))} holds credentials; lake never takes them from a URL`, {
      hint: 'remove the user:password@ part; S3 credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws/credentials, or an instance role',
    })
  }
  if (url.startsWith('/')) return new FsStore(url, opts)
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase()
  switch (scheme) {
    case 'file':
      return new FsStore(filePath(url), opts)
    case 'memory':
      return new MemoryStore({name: memoryName(url)})
    case 's3':
      return new S3Store(url, opts)
    case undefined:
      throw new StorageError(`storage path ${JSON.stringify(url)} is relative`, {
        hint: `a store must not depend on the current directory: use an absolute path or file:// URL; ${SUPPORTED_HINT}`,
        data: {url},
      })
    default:
      throw new StorageError(`unknown storage scheme '${scheme}:' in ${JSON.stringify(url)}`, {hint: SUPPORTED_HINT, data: {url, scheme}})
  }
}

function filePath(url: string): string {
  let path: string
  try {
    path = fileURLToPath(url)
  } catch (err) {
    throw new StorageError(`invalid file URL ${JSON.stringify(url)}: ${(err as Error).message}`, {hint: 'write it as file:///absolute/path', data: {url}})
  }
  if (!isAbsolute(path)) throw new StorageError(`invalid file URL ${JSON.stringify(url)}: not an absolute path`, {hint: 'write it as file:///absolute/path', data: {url}})
  return path
}

function memoryName(url: string): string {
  const name = url.slice('memory://'.length)
  if (!url.toLowerCase().startsWith('memory://') || name === '') {
    throw new StorageError(`invalid memory store URL ${JSON.stringify(url)}`, {hint: 'write it as memory://name; stores with the same name share their contents', data: {url}})
  }
  return name
}
