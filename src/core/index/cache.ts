// Reading nodes: verify, decode, cache. Nodes are immutable and named by their hash, so a decoded
// node can be cached by hash forever; the cache rides on the NodeIO so every index function that
// takes `io` shares it without another parameter.
import {Lru} from '../lru.js'
import {sha256hex} from '../hash.js'
import {corrupt, decodeNode} from './decode.js'
import {lastIdOf, type IndexNode} from './node.js'
import type {NodeIO, NodeRef} from './types.js'

const DECODED = Symbol('lake.index.decodedNodes')

interface NodeCache {
  decoded: Lru<string, IndexNode>
  /** Reads in flight, so concurrent readers of one node share one fetch and one decode. */
  loading: Map<string, Promise<IndexNode>>
}

type CachedNodeIO = NodeIO & {[DECODED]: NodeCache}

export interface NodeCacheOptions {
  /** Most decoded nodes kept (default 4096: ~1M entries' worth of leaves at default params). */
  maxNodes?: number
  /** Rough byte budget of decoded nodes (default 64 MiB). */
  maxBytes?: number
}

/** Wraps `io` with a decoded-node LRU; pass the result to the index functions. Idempotent. */
export function cachedNodeIO(io: NodeIO, opts: NodeCacheOptions = {}): NodeIO {
  if (DECODED in io) return io
  const cache: NodeCache = {
    decoded: new Lru<string, IndexNode>({maxEntries: opts.maxNodes ?? 4096, maxSize: opts.maxBytes ?? 64 << 20, sizeOf: node => node.sizeEstimate}),
    loading: new Map(),
  }
  const wrapped: CachedNodeIO = {
    read: hash => io.read(hash),
    write: bytes => io.write(bytes),
    ...(io.visitMany ? {visitMany: io.visitMany.bind(io)} : {}),
    [DECODED]: cache,
  }
  return wrapped
}

function cacheOf(io: NodeIO): NodeCache | undefined {
  return (io as Partial<CachedNodeIO>)[DECODED]
}

async function fetchNode(io: NodeIO, hash: string): Promise<IndexNode> {
  const raw = await io.read(hash)
  // Re-hash what we read (one sha256 of a few KB): a damaged node must never become wrong samples.
  if (sha256hex(raw) !== hash) throw corrupt(hash, 'does not match its hash')
  return decodeNode(hash, raw)
}

/** The verified, decoded node named `hash`. */
export function loadNode(io: NodeIO, hash: string): Promise<IndexNode> {
  const cache = cacheOf(io)
  if (!cache) return fetchNode(io, hash)
  const hit = cache.decoded.get(hash)
  if (hit) return Promise.resolve(hit)
  let pending = cache.loading.get(hash)
  if (!pending) {
    pending = fetchNode(io, hash).then(
      node => {
        cache.decoded.set(hash, node)
        cache.loading.delete(hash)
        return node
      },
      err => {
        cache.loading.delete(hash)
        throw err
      },
    )
    cache.loading.set(hash, pending)
  }
  return pending
}

/** Loads the child a parent points at and checks it is what the parent says it is. */
export async function loadChild(io: NodeIO, ref: NodeRef): Promise<IndexNode> {
  return checkedChild(await loadNode(io, ref.hash), ref)
}

/**
 * The child `ref` names when it is decoded in the cache already (checked as loadChild checks it),
 * else undefined: a point read whose pages are cached then costs no promise per level (a promise
 * is garbage, and garbage is young-generation GC pauses of a few ms each on the VMs measured).
 */
export function cachedChild(io: NodeIO, ref: NodeRef): IndexNode | undefined {
  const hit = cacheOf(io)?.decoded.get(ref.hash)
  return hit === undefined ? undefined : checkedChild(hit, ref)
}

/** The node named `hash` when it is decoded in the cache already, else undefined. */
export function cachedNode(io: NodeIO, hash: string): IndexNode | undefined {
  return cacheOf(io)?.decoded.get(hash)
}

function checkedChild(node: IndexNode, ref: NodeRef): IndexNode {
  if (node.level !== ref.level || node.count !== ref.count || lastIdOf(node) !== ref.lastId) {
    throw corrupt(ref.hash, `is level ${node.level} with ${node.count} entries, but its parent says level ${ref.level} with ${ref.count} and another last id`)
  }
  return node
}

/** A child loaded by loadChildren: the node, or why it could not be (thrown when the reader gets there). */
export type LoadedChild = {node: IndexNode; error?: undefined} | {node?: undefined; error: unknown}

/**
 * The children `refs` name, each checked as loadChild checks it, read together: the reads start at
 * once and the nodes are verified and decoded in one loop, not one promise chain per node (a
 * column read loads ~80 leaves of a 20k-row tensor; in a fresh process those chains cost more
 * than the reads). A child that fails carries its error, for the caller to throw when it comes to
 * that child: a scan fails where it did before, not earlier.
 */
export async function loadChildren(io: NodeIO, refs: readonly NodeRef[]): Promise<LoadedChild[]> {
  const cache = cacheOf(io)
  const out = new Array<LoadedChild>(refs.length)
  const missing: number[] = []
  for (let k = 0; k < refs.length; k++) {
    const hash = refs[k].hash
    const hit = cache?.decoded.get(hash)
    if (hit) out[k] = checkedLoad(hit, refs[k])
    else if (!cache?.loading.has(hash)) missing.push(k)
  }
  // Re-hash what was read, as fetchNode does: a damaged node must never become wrong samples.
  const settle = (k: number, raw: Uint8Array | undefined, error: unknown, borrowed: boolean) => {
    if (raw === undefined) {
      out[k] = {error}
      return
    }
    try {
      if (sha256hex(raw) !== refs[k].hash) throw corrupt(refs[k].hash, 'does not match its hash')
      const node = decodeNode(refs[k].hash, raw, {borrowed})
      cache?.decoded.set(refs[k].hash, node)
      out[k] = checkedLoad(node, refs[k])
    } catch (error) {
      out[k] = {error}
    }
  }
  if (io.visitMany && missing.length > 0) {
    // read together by the store (one read per run of neighbours in a pack), decoded as they come
    await io.visitMany(missing.map((k) => refs[k].hash), (m, raw, error) => settle(missing[m], raw, error, true))
  } else {
    const raws = await Promise.allSettled(missing.map((k) => io.read(refs[k].hash)))
    for (let m = 0; m < missing.length; m++) {
      const raw = raws[m]
      settle(missing[m], raw.status === 'fulfilled' ? raw.value : undefined, raw.status === 'rejected' ? raw.reason : undefined, false)
    }
  }
  // nodes another reader was fetching meanwhile
  for (let k = 0; k < refs.length; k++) {
    if (out[k] === undefined) out[k] = await loadChild(io, refs[k]).then((node) => ({node}), (error: unknown) => ({error}))
  }
  return out
}

function checkedLoad(node: IndexNode, ref: NodeRef): LoadedChild {
  try {
    return {node: checkedChild(node, ref)}
  } catch (error) {
    return {error}
  }
}

/** Lets a writer hand over a node it just made, so reading it back costs nothing. */
export function rememberNode(io: NodeIO, hash: string, node: IndexNode): void {
  cacheOf(io)?.decoded.set(hash, node)
}
