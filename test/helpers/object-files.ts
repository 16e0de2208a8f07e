// Where a local dataset's objects lie on disk, for tests that find, read, damage, age or delete
// them by hand. An object is a file of its own (.lake/objects/<2 hex>/<62 hex>: chunks, and every
// object of a dataset of format 1) or a byte range of a pack (.lake/.lake-packs/pack-*.pack: the
// index nodes, roots and commits a command writes; docs/FORMAT.md "Packs"). A pack holds many
// objects: setting its mtime ages all of them, and changing its bytes in place damages only the
// range of the object changed (editInPlace). looseObjectFile(s) makes objects files of their own,
// for a test that damages, truncates, swaps, ages or removes one object alone.
import fs from 'node:fs'
import path from 'node:path'
import {CHUNK_MAGIC} from '../../src/core/format/chunk.js'
import {FsStore} from '../../src/core/storage/fs.js'
import {PACK_DIR, PACK_NAME, readPackIndex} from '../../src/core/storage/fs-pack.js'
import {objectKey} from '../../src/core/storage/objects.js'

const HASH_TAIL = /^[0-9a-f]{62}$/

/** Where one object's bytes lie: its own file, or [offset, offset + length) of a pack. */
export interface StoredObject {
  hash: string
  /** the store key: 'objects/ab/cdef…' */
  key: string
  /** the file holding its bytes (absolute) */
  file: string
  offset: number
  /** the object's size */
  length: number
  packed: boolean
  /** mtime of `file` (gc ages a packed object by its pack's) */
  mtimeMs: number
  /** places holding it: more than 1 after a crash between a pack's write and the unlink of the packs
   * it folded, or when two processes packed the same object */
  copies: number
}

export const lakeDir = (datasetDir: string) => path.join(datasetDir, '.lake')
export const packDir = (datasetDir: string) => path.join(lakeDir(datasetDir), PACK_DIR)
/** The file an object has when it is not packed (whether or not there is one). */
export const objectFile = (datasetDir: string, hash: string) => path.join(lakeDir(datasetDir), ...objectKey(hash).split('/'))
/** 'objects/ab/cdef…' → 'abcdef…' */
export const hashOfKey = (key: string) => key.split('/').slice(-2).join('')

/** The pack files of a dataset (absolute paths), in directory order (the order the store searches them). */
export function packFiles(datasetDir: string): string[] {
  const dir = packDir(datasetDir)
  if (!fs.existsSync(dir)) return []
  return fs.readdirSync(dir).filter((name) => PACK_NAME.test(name)).map((name) => path.join(dir, name))
}

/** Every place holding an object: packs first (in the order the store searches them), then files. */
function places(datasetDir: string): Omit<StoredObject, 'copies'>[] {
  const out: Omit<StoredObject, 'copies'>[] = []
  for (const file of packFiles(datasetDir)) {
    let pack: ReturnType<typeof readPackIndex>
    try {
      pack = readPackIndex(file)
    } catch {
      continue // a damaged index: the store skips the pack too (fsck reports it)
    }
    for (const [key, {offset, length}] of pack.index.entries()) {
      if (key.startsWith('objects/')) out.push({hash: hashOfKey(key), key, file, offset, length, packed: true, mtimeMs: pack.mtimeMs})
    }
  }
  const root = path.join(lakeDir(datasetDir), 'objects')
  if (!fs.existsSync(root)) return out
  for (const sub of fs.readdirSync(root)) {
    if (!/^[0-9a-f]{2}$/.test(sub)) continue
    for (const name of fs.readdirSync(path.join(root, sub))) {
      if (!HASH_TAIL.test(name)) continue
      const file = path.join(root, sub, name)
      const st = fs.statSync(file)
      out.push({hash: sub + name, key: `objects/${sub}/${name}`, file, offset: 0, length: st.size, packed: false, mtimeMs: st.mtimeMs})
    }
  }
  return out
}

/**
 * Every object of a dataset by hash, with where the store reads it from (a pack before its own
 * file, as FsStore does). A pack whose index is damaged is skipped, as the store skips it.
 */
export function storedObjects(datasetDir: string): Map<string, StoredObject> {
  const out = new Map<string, StoredObject>()
  for (const place of places(datasetDir)) {
    const seen = out.get(place.hash)
    if (seen) seen.copies++
    else out.set(place.hash, {...place, copies: 1})
  }
  return out
}

/** Object hash → size of every object of the dataset (files and packed). */
export function objectSizes(datasetDir: string): Map<string, number> {
  return new Map([...storedObjects(datasetDir)].map(([hash, o]) => [hash, o.length]))
}

/** Bytes [start, end) of a stored object (default: all of it), read from its file or pack. */
export function objectBytes(o: StoredObject, start = 0, end = o.length): Buffer {
  const length = Math.max(0, Math.min(end, o.length) - start)
  const out = Buffer.alloc(length)
  const fd = fs.openSync(o.file, 'r')
  try {
    let filled = 0
    while (filled < length) {
      const n = fs.readSync(fd, out, filled, length - filled, o.offset + start + filled)
      if (n === 0) break
      filled += n
    }
    return out.subarray(0, filled)
  } finally {
    fs.closeSync(fd)
  }
}

function mustFind(datasetDir: string, hash: string): StoredObject {
  const o = storedObjects(datasetDir).get(hash)
  if (!o) throw new Error(`object ${hash} is in no file and no pack of ${datasetDir}`)
  return o
}

/** The stored bytes of one object. */
export function readObject(datasetDir: string, hash: string): Buffer {
  return objectBytes(mustFind(datasetDir, hash))
}

/** Whether a stored object is a sample chunk (by its magic). */
export function isChunk(o: StoredObject): boolean {
  return objectBytes(o, 0, 4).toString('latin1') === CHUNK_MAGIC
}

/**
 * Changes an object's bytes where they lie (in its file, or inside its pack: the pack's index and
 * every other object in it stay as they were). `edit` changes the bytes in place; their length stays.
 */
export function editInPlace(o: StoredObject, edit: (bytes: Buffer) => void): void {
  const bytes = objectBytes(o)
  edit(bytes)
  if (bytes.length !== o.length) throw new Error('editInPlace cannot change an object’s length')
  const fd = fs.openSync(o.file, 'r+')
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, o.offset)
  } finally {
    fs.closeSync(fd)
  }
}

/** Removes objects from the dataset (from their packs, which are rewritten without them, or their files), through the store. */
export async function removeObjects(datasetDir: string, hashes: Iterable<string>): Promise<void> {
  const store = new FsStore(lakeDir(datasetDir))
  const removed = [...hashes]
  try {
    for (const hash of removed) await store.delete(objectKey(hash))
  } finally {
    await store.close() // the flush rewrites the packs that held them
  }
  const left = storedObjects(datasetDir)
  for (const hash of removed) if (left.has(hash)) throw new Error(`object ${hash} is still stored after its delete`)
}

export const removeObject = (datasetDir: string, hash: string) => removeObjects(datasetDir, [hash])

/**
 * Makes objects files of their own, as they were before packs, and returns their paths: the
 * packed ones are read, removed from their packs through the store (one rewrite of each pack)
 * and written to the files they would have had without packs. A test may then damage, truncate,
 * remove, swap or age such a file as it would any object file. The packs they were in are
 * rewritten (new names and mtimes: every object left in them looks young); no object's bytes change.
 */
export async function looseObjectFiles(datasetDir: string, hashes: Iterable<string>): Promise<Map<string, string>> {
  const all = storedObjects(datasetDir)
  const out = new Map<string, string>()
  const moving = new Map<string, Buffer>()
  for (const hash of hashes) {
    const o = all.get(hash)
    if (!o) throw new Error(`object ${hash} is in no file and no pack of ${datasetDir}`)
    out.set(hash, objectFile(datasetDir, hash))
    if (o.packed) moving.set(hash, objectBytes(o))
  }
  if (moving.size === 0) return out
  await removeObjects(datasetDir, moving.keys())
  for (const [hash, bytes] of moving) {
    const file = out.get(hash)!
    fs.mkdirSync(path.dirname(file), {recursive: true})
    fs.writeFileSync(file, bytes)
  }
  const now = storedObjects(datasetDir)
  for (const hash of moving.keys()) {
    const o = now.get(hash)
    if (!o || o.packed || o.copies !== 1) throw new Error(`object ${hash} did not become a file of its own`)
  }
  return out
}

/** looseObjectFiles for one object: the path of its file. */
export async function looseObjectFile(datasetDir: string, hash: string): Promise<string> {
  return (await looseObjectFiles(datasetDir, [hash])).get(hash)!
}

/**
 * Sets the mtime of the files and packs holding these objects (default: all) `ageMs` into the
 * past. A pack holds many objects, so this ages every object of each pack it sets: returns the
 * hashes of every object aged (a superset of `hashes` when some share a pack with others).
 */
export function backdate(datasetDir: string, ageMs: number, hashes?: Iterable<string>): Set<string> {
  const then = new Date(Date.now() - ageMs)
  const all = places(datasetDir)
  const wanted = hashes === undefined ? undefined : new Set(hashes)
  const stored = new Set(all.map((p) => p.hash))
  for (const hash of wanted ?? []) if (!stored.has(hash)) throw new Error(`object ${hash} is in no file and no pack of ${datasetDir}`)
  // (every copy of an object: the store ages it by the youngest)
  const files = new Set(all.filter((p) => !wanted || wanted.has(p.hash)).map((p) => p.file))
  for (const file of files) fs.utimesSync(file, then, then)
  return new Set(all.filter((p) => files.has(p.file)).map((p) => p.hash))
}
