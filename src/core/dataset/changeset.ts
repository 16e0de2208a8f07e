// Building a change to a version: sample bytes are packed into chunks and written as they fill
// (objects first), and the change is kept as positional edits per tensor. Applying it to a version
// root edits only the touched index pages. The same change can be re-applied to a newer staged
// state when it only appends (another process staged meanwhile): see ops/stage.ts.
import {crc32} from 'node:zlib'
import {IndexOutOfRangeError, InvalidTensorSpecError, TensorExistsError} from '../errors.js'
import {ChunkBuilder} from '../format/chunk.js'
import type {TensorMeta} from '../format/tensor-meta.js'
import {buildIndex, editIndex, type IndexEntry} from '../index/index.js'
import type {DataStore} from './store.js'
import {changeChunkBuffers} from './scan-buffers.js'
import {tensorMap, type TensorState, type VersionRoot} from './version-root.js'
import type {TensorChange} from '../events/records.js'

type Located = Omit<IndexEntry, 'id'>

export interface Changeset {
  creates: TensorMeta[]
  metas: Map<string, TensorMeta>
  appends: Map<string, IndexEntry[]>
  updates: Map<string, Map<number, Located>>
  deletes: Map<string, Set<number>>
  objects: string[]
}

export const isAppendOnly = (cs: Changeset) => cs.updates.size === 0 && cs.deletes.size === 0

// A sample's entry is made when its bytes go into a chunk (so its place in the change is the
// order of the writes), with `chunk` filled in once that chunk is stored and named: until the
// change is finished, entries may still have chunk ''. One object a sample: a change of a
// million labels keeps them all, and every extra one surviving a young-generation GC is copied.
const UNNAMED = ''

const MAX_PUTS_IN_FLIGHT = 4
/** Stored chunks' buffers at least this large go back to the pool (smaller ones are not worth keeping). */
const POOLED_MIN = 1024 * 1024

export class ChangeBuilder {
  private readonly cs: Changeset = {creates: [], metas: new Map(), appends: new Map(), updates: new Map(), deletes: new Map(), objects: []}
  private readonly builders = new Map<string, {builder: ChunkBuilder; pending: Located[]}>()
  private readonly puts = new Set<Promise<void>>()
  private putError: unknown
  /** Buffers of chunks of large samples, reused once a chunk is stored (see ChunkBufferPool): the process's. */
  private readonly chunkBuffers = changeChunkBuffers

  constructor(readonly store: DataStore, readonly base: VersionRoot) {}

  hasTensor(name: string): boolean {
    return name in this.base.tensors || this.cs.metas.has(name)
  }

  meta(name: string): TensorMeta {
    return this.cs.metas.get(name) ?? this.store.tensor(this.base, name).meta
  }

  /** Length of the tensor as this change leaves it (base - deletes + appends). */
  length(name: string): number {
    const base = this.base.tensors[name]?.length ?? 0
    return base - (this.cs.deletes.get(name)?.size ?? 0) + (this.cs.appends.get(name)?.length ?? 0)
  }

  baseLength(name: string): number {
    return this.base.tensors[name]?.length ?? 0
  }

  tensorNames(): string[] {
    return [...new Set([...Object.keys(this.base.tensors), ...this.cs.metas.keys()])].sort()
  }

  createTensor(meta: TensorMeta): void {
    if (this.hasTensor(meta.name)) throw new TensorExistsError(`tensor '${meta.name}' already exists`)
    this.cs.creates.push(meta)
    this.cs.metas.set(meta.name, meta)
  }

  /** Replaces a tensor's meta (e.g. class names learned during an import). */
  setMeta(meta: TensorMeta): void {
    const old = this.meta(meta.name)
    if (old.htype !== meta.htype || old.dtype !== meta.dtype) {
      throw new InvalidTensorSpecError(`tensor '${meta.name}' cannot change from ${old.htype}/${old.dtype} to ${meta.htype}/${meta.dtype}`)
    }
    this.cs.metas.set(meta.name, meta)
    const created = this.cs.creates.findIndex((m) => m.name === meta.name)
    if (created >= 0) this.cs.creates[created] = meta
  }

  async append(tensor: string, bytes: Uint8Array, id: bigint): Promise<void> {
    let list = this.cs.appends.get(tensor)
    if (!list) this.cs.appends.set(tensor, (list = []))
    // Reserve the position now: the write may wait for a chunk to be stored.
    const at = list.length
    list.push(undefined as unknown as IndexEntry)
    list[at] = await this.write(tensor, bytes, id)
  }

  async update(tensor: string, index: number, bytes: Uint8Array): Promise<void> {
    this.checkIndex(tensor, index)
    const map = this.cs.updates.get(tensor) ?? new Map<number, Located>()
    this.cs.updates.set(tensor, map)
    // the write's order decides which of two updates of one sample wins (not the order in which
    // their chunks happen to be stored)
    const loc: Located = await this.write(tensor, bytes)
    map.set(index, loc)
  }

  delete(tensor: string, index: number): void {
    this.checkIndex(tensor, index)
    const set = this.cs.deletes.get(tensor) ?? new Set<number>()
    this.cs.deletes.set(tensor, set)
    set.add(index)
    this.cs.updates.get(tensor)?.delete(index)
  }

  private checkIndex(tensor: string, index: number) {
    const length = this.baseLength(tensor)
    if (!Number.isInteger(index) || index < 0 || index >= length) {
      throw new IndexOutOfRangeError(`index ${index} is out of range for tensor '${tensor}' (length ${length})`, {
        hint: length ? `valid indices: 0..${length - 1}` : 'the tensor is empty',
      })
    }
  }

  /** Adds the sample to its tensor's chunk; its entry gets the chunk's name once that is stored. */
  private async write(tensor: string, bytes: Uint8Array): Promise<Located>
  private async write(tensor: string, bytes: Uint8Array, id: bigint): Promise<IndexEntry>
  private async write(tensor: string, bytes: Uint8Array, id?: bigint): Promise<Located> {
    let slot = this.builders.get(tensor)
    if (!slot) {
      slot = {builder: new ChunkBuilder(this.meta(tensor), this.chunkBuffers), pending: []}
      this.builders.set(tensor, slot)
    }
    let at = slot.builder.add(bytes)
    if (at === null) {
      await this.flush(tensor)
      at = slot.builder.add(bytes)
      if (at === null) throw new Error('chunk builder refused a sample in an empty chunk')
    }
    const crc = crc32(bytes) >>> 0
    const entry: Located | IndexEntry = id === undefined ? {chunk: UNNAMED, offset: at.offset, length: at.length, crc} : {id, chunk: UNNAMED, offset: at.offset, length: at.length, crc}
    slot.pending.push(entry)
    return entry
  }

  private async flush(tensor: string): Promise<void> {
    const slot = this.builders.get(tensor)
    if (!slot || slot.builder.count === 0) return
    const bytes = slot.builder.finish()
    const pending = slot.pending
    slot.builder = new ChunkBuilder(this.meta(tensor), this.chunkBuffers)
    slot.pending = []
    // The chunk's name is its hash; compute it by writing, and place its samples once it is known.
    // owned: the builder made these bytes for this put alone (hashed off the main thread when large)
    // a raw chunk of large samples lives in a pooled buffer: back to the pool once stored
    const release = (b: Uint8Array) => {
      if (b.byteOffset === 0 && b.buffer instanceof ArrayBuffer && b.buffer.byteLength >= POOLED_MIN) this.chunkBuffers.give(new Uint8Array(b.buffer))
    }
    // standalone: a chunk names no other object, so it may become visible ahead of the change's other objects
    const put = this.store.objects.put(bytes, {owned: true, release, standalone: true}).then((hash) => {
      this.cs.objects.push(hash)
      for (const entry of pending) entry.chunk = hash
    })
    const tracked: Promise<void> = put.catch((error) => {
      this.putError ??= error
    }).finally(() => this.puts.delete(tracked))
    this.puts.add(tracked)
    while (this.puts.size >= MAX_PUTS_IN_FLIGHT) await Promise.race(this.puts)
    if (this.putError) throw this.putError
  }

  /** Writes the last chunks and returns the change (every sample placed in a written chunk). */
  async finish(): Promise<Changeset> {
    for (const tensor of this.builders.keys()) await this.flush(tensor)
    await Promise.all(this.puts)
    if (this.putError) throw this.putError
    return this.cs
  }
}

/** Applies a change to a version root: O(k log n) index pages per touched tensor. */
export async function applyChangeset(store: DataStore, base: VersionRoot, cs: Changeset): Promise<{root: VersionRoot; changes: TensorChange[]}> {
  const tensors = tensorMap(base.tensors)
  const changes: TensorChange[] = []
  const created = new Set(cs.creates.map((m) => m.name))
  for (const meta of cs.creates) {
    const existing = tensors[meta.name]
    if (existing) {
      if (JSON.stringify(existing.meta) !== JSON.stringify(meta)) throw new TensorExistsError(`tensor '${meta.name}' was created meanwhile with another spec`)
      created.delete(meta.name)
      continue
    }
    const empty = await buildIndex(store.nodes, [])
    tensors[meta.name] = {meta, index: empty.root, length: 0}
  }
  const touched = new Set([...cs.metas.keys(), ...cs.appends.keys(), ...cs.updates.keys(), ...cs.deletes.keys()])
  for (const name of [...touched].sort()) {
    const t = tensors[name]
    const appends = cs.appends.get(name) ?? []
    const updates = cs.updates.get(name) ?? new Map()
    const deletes = cs.deletes.get(name) ?? new Set()
    let {index, length} = t
    if (appends.length || updates.size || deletes.size) {
      const edited = await editIndex(store.nodes, t.index, {appends, updates, deletes})
      index = edited.root
      length = edited.length
    }
    tensors[name] = {meta: cs.metas.get(name) ?? t.meta, index, length}
    changes.push({tensor: name, ...(created.has(name) ? {created: true} : {}), added: appends.length, updated: updates.size, deleted: deletes.size})
  }
  return {root: {tensors}, changes}
}
