// Family 3, hostile bytes read from storage: commits, version roots, index nodes, chunks, sample
// bytes and event records, as a crafted or damaged dataset could hold them (a clone from someone
// else's bucket has valid hashes over whatever bytes its writer chose). Every decoder either
// refuses with a lake error or returns a value of exactly the shape its callers rely on, and
// what callers then do with it (summaries, entries, projections) does not crash either.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import fc from 'fast-check'
import {decodeCommit, commitSummary} from '../../../src/core/version/commit.js'
import {decodeRoot} from '../../../src/core/dataset/version-root.js'
import {decodeNode} from '../../../src/core/index/decode.js'
import {INNER_KIND} from '../../../src/core/index/node.js'
import {chunkPayload, sampleFromChunk} from '../../../src/core/format/chunk.js'
import {decodeSample} from '../../../src/core/format/sample.js'
import {sampleToJson} from '../../../src/core/format/sample-json.js'
import {createTensorMeta, parseTensorMeta, type TensorMeta} from '../../../src/core/format/tensor-meta.js'
import {decodeRecord} from '../../../src/core/events/log.js'
import {applyRecord, ProjectionTx} from '../../../src/core/events/projections.js'
import type {EventDb} from '../../../src/core/events/db.js'
import {isHash} from '../../../src/core/hash.js'
import {FULL, runs, seed} from '../knobs.js'
import {attempt, attemptAsync, fakeHash, Tally} from './check.js'
import {byteMutation, mutation, structureMutation} from './mutate.js'
import {makeSeeds, type Seeds} from './seeds.js'

const SEED = seed()
const tally = new Tally()
const ID = fakeHash(1)

const isStringOrNull = (v: unknown) => v === null || typeof v === 'string'
const isHashList = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string' && isHash(x))

/** The shape every reader of a Commit relies on. */
function checkCommitShape(c: ReturnType<typeof decodeCommit>): void {
  assert.ok(isHashList(c.parents), 'parents')
  assert.ok(isHash(c.root), 'root')
  assert.equal(typeof c.message, 'string')
  assert.ok(c.author && typeof c.author.name === 'string' && typeof c.author.email === 'string', 'author')
  assert.ok(Number.isFinite(c.time), 'time')
  assert.ok(isStringOrNull(c.branch), 'branch')
  assert.ok(c.code === null || (typeof c.code.sha === 'string' && isStringOrNull(c.code.branch) && typeof c.code.dirty === 'boolean'), 'code')
  commitSummary(ID, c)
}

function checkRootShape(root: ReturnType<typeof decodeRoot>): void {
  for (const [name, t] of Object.entries(root.tensors)) {
    assert.equal(Object.getPrototypeOf(root.tensors), null)
    assert.equal(t.meta.name, name)
    assert.deepEqual(parseTensorMeta(t.meta), t.meta, `meta of ${name} is canonical`)
    assert.ok(isHash(t.index), 'index')
    assert.ok(Number.isSafeInteger(t.length) && t.length >= 0, 'length')
  }
}

const METAS: TensorMeta[] = [
  createTensorMeta('g', {htype: 'generic'}),
  createTensorMeta('i', {htype: 'generic', dtype: 'i64'}),
  createTensorMeta('b', {htype: 'generic', dtype: 'bool'}),
  createTensorMeta('c', {htype: 'class_label', classNames: ['a', 'b']}),
  createTensorMeta('t', {htype: 'text'}),
  createTensorMeta('j', {htype: 'json'}),
  createTensorMeta('e', {htype: 'embedding', dtype: 'u16'}),
  createTensorMeta('x', {htype: 'bbox'}),
  createTensorMeta('im', {htype: 'image', sampleCompression: 'png'}),
  createTensorMeta('bin', {htype: 'binary'}),
]

describe('torture 3: hostile bytes from storage', function () {
  this.timeout(FULL ? 0 : 60_000)
  let seeds: Seeds
  const n = (quick: number, full: number) => ({seed: SEED, numRuns: runs('HOSTILE', quick, full), endOnFailure: true})

  before(async () => {
    seeds = await makeSeeds()
  })
  after(() => {
    fs.rmSync(seeds.dir, {recursive: true, force: true})
    console.log(tally.report('hostile objects', SEED))
  })

  it('commit objects: refused with a lake error, or a commit every reader can use', () => {
    fc.assert(fc.property(mutation(seeds.commits), (bytes) => {
      const r = attempt('decodeCommit', () => decodeCommit(bytes, ID))
      tally.count('commit objects', !r.ok)
      if (r.ok) checkCommitShape(r.value)
    }), n(300, 1500))
  })

  it('version roots: refused, or tensors with valid metas, index hashes and lengths', () => {
    fc.assert(fc.property(mutation(seeds.roots), (bytes) => {
      const r = attempt('decodeRoot', () => decodeRoot(bytes, ID))
      tally.count('version roots', !r.ok)
      if (r.ok) checkRootShape(r.value)
    }), n(300, 1500))
  })

  it('index nodes: refused, or every entry and child readable', () => {
    fc.assert(fc.property(mutation([...seeds.leaves, ...seeds.inners]), (bytes) => {
      const r = attempt('decodeNode', () => decodeNode(ID, bytes))
      tally.count('index nodes', !r.ok)
      if (!r.ok) return
      const node = r.value
      if (node.kind === INNER_KIND) {
        for (let k = 0; k < node.children.length; k++) assert.ok(isHash(node.childRef(k).hash))
      } else {
        for (let j = 0; j < node.count; j++) {
          const e = node.entryAt(j)
          assert.ok(isHash(e.chunk) && Number.isSafeInteger(e.offset) && Number.isSafeInteger(e.length))
        }
      }
    }), n(300, 1500))
  })

  it('chunks: refused, or a payload whose samples are cut only within bounds', () => {
    fc.assert(fc.property(byteMutation(seeds.chunks), fc.nat(), fc.nat(), (bytes, offset, length) => {
      const r = attempt('chunkPayload', () => chunkPayload(bytes, ID))
      tally.count('chunks', !r.ok)
      if (!r.ok) return
      assert.ok(r.value instanceof Uint8Array)
      const cut = attempt('sampleFromChunk', () => sampleFromChunk(bytes, offset % (r.value.length + 2), length % 64, ID))
      if (cut.ok) assert.ok(cut.value.length === length % 64)
    }), n(200, 1000))
  })

  it('sample bytes of every htype: refused as corrupt, or a value that prints as JSON', () => {
    fc.assert(fc.property(fc.constantFrom(...METAS), fc.oneof(fc.uint8Array({maxLength: 64}), fc.string().map((s) => new TextEncoder().encode(s))), (meta, bytes) => {
      const r = attempt(`decodeSample(${meta.htype})`, () => decodeSample(meta, bytes, {index: 0}))
      tally.count('sample bytes', !r.ok)
      if (r.ok) JSON.stringify(sampleToJson(meta, r.value))
    }), n(300, 1500))
  })

  it('event records: refused, or a record whose projection update does not crash', async () => {
    // A rebuild replays records onto empty projections: a ProjectionTx that reads only its own writes.
    const fakeDb = {state: {}, refs: {}, reflog: {}, commits: {}} as unknown as EventDb
    await fc.assert(fc.asyncProperty(fc.oneof(structureMutation(seeds.events), structureMutation(seeds.events), byteMutation(seeds.events)), async (bytes) => {
      const r = attempt('decodeRecord', () => decodeRecord(bytes, '#1'))
      tally.count('event records', !r.ok)
      if (!r.ok) return
      const tx = new ProjectionTx(fakeDb, true)
      await attemptAsync('applyRecord', () => applyRecord(tx, r.value))
      tx.operations()
    }), n(300, 1500))
  })
})
