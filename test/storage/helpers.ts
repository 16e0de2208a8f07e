import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {FsStore, type FsStoreOptions} from '../../src/core/storage/fs.js'
import type {StoreFixture} from './contract.js'

export async function tempDir(): Promise<{dir: string; cleanup: () => Promise<void>}> {
  const dir = await mkdtemp(join(tmpdir(), 'lake-storage-'))
  return {dir, cleanup: () => rm(dir, {recursive: true, force: true})}
}

export async function makeFsStore(opts: FsStoreOptions = {}): Promise<StoreFixture & {store: FsStore; dir: string}> {
  const {dir, cleanup} = await tempDir()
  // A root that does not exist yet: the store makes it on first write.
  const store = new FsStore(join(dir, 'root'), opts)
  return {store, dir: store.root, cleanup}
}
