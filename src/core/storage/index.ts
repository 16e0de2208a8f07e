// The storage layer's public surface: stores by URL, the providers, and content-addressed objects.
export type {ListedObject, ObjectStore, PutOptions, StoreCapabilities} from './types.js'
export {openStore, SUPPORTED_STORE_URLS, type OpenStoreOptions} from './open.js'
export {MemoryStore, dropMemoryStore} from './memory.js'
export {FsStore, type FsStoreOptions} from './fs.js'
export {S3Store, type S3StoreOptions} from './s3.js'
export {CachedStore, type CachedStoreOptions, type CacheStats} from './cache.js'
export {ObjectDb, objectKey, type ListedHash, type ObjectDbOptions} from './objects.js'
export {assertKey, assertPrefix, OBJECTS_PREFIX} from './keys.js'
