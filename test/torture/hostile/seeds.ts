// Real objects and event records to mutate: a small dataset made through the library (every
// tensor kind, lz4 and raw chunks, an inner index node, a tag and a branch), whose stored
// objects are sorted by kind. Mutating real bytes reaches far deeper into a decoder than noise.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Dataset} from '../../../src/index.js'
import {decode} from '../../../src/core/codec.js'
import {withEventDb} from '../../../src/core/events/db.js'
import {objectBytes, storedObjects} from '../../helpers/object-files.js'

export interface Seeds {
  dir: string
  commits: Uint8Array[]
  roots: Uint8Array[]
  leaves: Uint8Array[]
  inners: Uint8Array[]
  chunks: Uint8Array[]
  events: Uint8Array[]
}

export async function makeSeeds(): Promise<Seeds> {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'lake-hostile-seeds-')))
  const ds = await Dataset.init(dir)
  try {
    await ds.createTensor('labels', {htype: 'class_label', classNames: ['cat', 'dog']})
    await ds.createTensor('caption', {htype: 'text'})
    await ds.createTensor('blob', {htype: 'binary'})
    await ds.createTensor('emb', {htype: 'embedding'})
    await ds.createTensor('meta', {htype: 'json'})
    const n = 700 // enough entries for more than one leaf: an inner node exists
    await ds.append('labels', Array.from({length: n}, (_, i) => i % 2))
    await ds.append('caption', Array.from({length: n}, (_, i) => `caption ${i} ${'x'.repeat(i % 9)}`))
    await ds.append('blob', Array.from({length: 5}, (_, i) => Buffer.from(`blob-${i}`)))
    await ds.append('emb', Array.from({length: 5}, (_, i) => [i, i / 2, -i]))
    await ds.append('meta', [{a: 1}, {b: [1, 2]}, null])
    await ds.commit('first')
    await ds.tag('v1')
    await ds.update('labels', 3, 'cat')
    await ds.deleteRows(1)
    await ds.commit('second')
    await ds.createBranch('side')
  } finally {
    await ds.close()
  }
  const seeds: Seeds = {dir, commits: [], roots: [], leaves: [], inners: [], chunks: [], events: []}
  // every stored object, wherever it lies (chunks are files of their own, the rest in packs), by hash
  for (const o of [...storedObjects(dir).values()].sort((a, b) => (a.hash < b.hash ? -1 : 1))) {
    const bytes = new Uint8Array(objectBytes(o))
    if (Buffer.from(bytes.subarray(0, 4)).toString('latin1') === 'LKCH') {
      seeds.chunks.push(bytes)
      continue
    }
    const kind = (decode(bytes) as {kind?: string}).kind
    if (kind === 'commit') seeds.commits.push(bytes)
    else if (kind === 'root') seeds.roots.push(bytes)
    else if (kind === 'index-leaf') seeds.leaves.push(bytes)
    else if (kind === 'index-inner') seeds.inners.push(bytes)
  }
  await withEventDb(path.join(dir, '.lake', 'db'), async (db) => {
    for await (const [, value] of db.log.iterator()) seeds.events.push(new Uint8Array(value))
  })
  for (const [kind, list] of Object.entries(seeds)) {
    if (Array.isArray(list) && list.length === 0) throw new Error(`seed dataset has no ${kind}`)
  }
  return seeds
}
