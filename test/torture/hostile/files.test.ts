// Family 3, hostile input files: CSV, JSONL, NPY and image folders generated to stress every
// parser, fed to `lake add` in-process on a dataset with typed tensors. Each case either stages
// (then the change is reset) or fails with a lake error and leaves the dataset exactly as it was
// (test/helpers/state.ts). The header parsers (NPY, PNG, JPEG) and the pixel decoder are also
// fuzzed directly, many more times, since they are pure and fast.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import {Repo} from '../../../src/core/repo/repo.js'
import {add, type AddFormat} from '../../../src/core/ops/add.js'
import {resetStaged} from '../../../src/core/ops/checkout.js'
import {createTensor, appendValues} from '../../../src/core/ops/edit.js'
import {commit} from '../../../src/core/ops/commit.js'
import {decodeNpyHeader} from '../../../src/core/io/npy-header.js'
import {imageInfo, parseImageHeader} from '../../../src/core/format/image-header.js'
import {decodeImage} from '../../../src/core/format/image-decode.js'
import {datasetState, type DatasetState} from '../../helpers/state.js'
import {FULL, runs, seed} from '../knobs.js'
import {attempt, attemptAsync, Tally} from './check.js'
import {csvFile, imageFile, jsonlFile, npyFile} from './inputs.js'

const SEED = seed()
const tally = new Tally()

/** A dataset whose tensors the generated columns hit: every type check of the importers runs. */
async function makeTarget(dir: string): Promise<void> {
  const repo = await Repo.init(dir)
  try {
    await createTensor(repo, 'id', {htype: 'generic', dtype: 'i32'})
    await createTensor(repo, 'name', {htype: 'text'})
    await createTensor(repo, 'label', {htype: 'class_label', classNames: ['cat', 'dog']})
    await createTensor(repo, 'emb', {htype: 'embedding'})
    await createTensor(repo, 'flag', {htype: 'generic', dtype: 'bool'})
    await createTensor(repo, 'big', {htype: 'generic', dtype: 'i64'})
    await createTensor(repo, 'doc', {htype: 'json'})
    await appendValues(repo, 'id', [1, 2])
    await appendValues(repo, 'name', ['a', 'b'])
    await appendValues(repo, 'emb', [[1, 2, 3], [4, 5, 6]])
    await commit(repo, {message: 'typed tensors'})
  } finally {
    await repo.close()
  }
}

describe('torture 3: hostile input files', function () {
  this.timeout(FULL ? 0 : 60_000)
  let root: string
  let dir: string
  let inputs: string
  let caseNo = 0
  const opts = (quick: number, full: number) => ({seed: SEED, numRuns: runs('HOSTILE', quick, full), endOnFailure: true})

  before(async () => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'lake-hostile-files-')))
    dir = path.join(root, 'ds')
    inputs = path.join(root, 'in')
    fs.mkdirSync(inputs)
    await makeTarget(dir)
  })
  after(() => {
    fs.rmSync(root, {recursive: true, force: true})
    console.log(tally.report('hostile files', SEED))
  })

  let known: DatasetState | undefined

  /** add(paths): staged (then reset), or refused with a lake error and nothing changed. */
  async function addCase(target: string, paths: string[], format: AddFormat, extra: {key?: string; tensor?: string} = {}): Promise<void> {
    const before = (known ??= await datasetState(dir))
    const repo = await Repo.open(dir)
    let refused = false
    try {
      const r = await attemptAsync(`add --format ${format} ${paths.map((p) => path.basename(p)).join(' ')}`, () => add(repo, paths, {format, ...extra}))
      refused = !r.ok
      if (r.ok) await resetStaged(repo)
    } finally {
      await repo.close()
    }
    tally.count(target, refused)
    const after = await datasetState(dir)
    if (refused) assert.deepEqual(after, before, 'a refused add changed the dataset')
    else assert.equal(after.log, before.log, 'an add changed the history')
    known = after
  }

  function write(name: string, bytes: Uint8Array): string {
    // One directory per case: npy takes its tensor's name from the file's base name.
    const file = path.join(inputs, String(caseNo++), name)
    fs.mkdirSync(path.dirname(file))
    fs.writeFileSync(file, bytes)
    return file
  }

  it('CSV files: staged, or refused with nothing changed', async () => {
    await fc.assert(fc.asyncProperty(csvFile, fc.constantFrom(undefined, 'id', 'name'), fc.boolean(), async (bytes, key, twice) => {
      const file = write('t.csv', bytes)
      // A good file before a bad one: a refusal must drop the good file's rows too.
      const paths = twice ? [write('ok.csv', Buffer.from('id,name\n7,seven\n')), file] : [file]
      await addCase('csv files', paths, 'csv', key ? {key} : {})
    }), opts(12, 700))
  })

  it('JSONL files: staged, or refused with nothing changed', async () => {
    await fc.assert(fc.asyncProperty(jsonlFile, fc.constantFrom(undefined, 'id'), async (bytes, key) => {
      await addCase('jsonl files', [write('t.jsonl', bytes)], 'jsonl', key ? {key} : {})
    }), opts(12, 700))
  })

  it('NPY files (lying headers, dtypes, truncation): staged, or refused with nothing changed', async () => {
    await fc.assert(fc.asyncProperty(npyFile, fc.constantFrom('emb', 'fresh', 'flag', 'id', 'name'), async (bytes, tensor) => {
      await addCase('npy files', [write(`${tensor}.npy`, bytes)], 'npy')
    }), opts(12, 700))
  })

  it('image folders with lying headers: staged, or refused with nothing changed', async () => {
    await fc.assert(fc.asyncProperty(fc.array(imageFile, {minLength: 1, maxLength: 3}), fc.constantFrom('.png', '.jpg'), async (images, ext) => {
      const folder = path.join(inputs, `${caseNo++}-images`)
      images.forEach((bytes, i) => {
        fs.mkdirSync(path.join(folder, i % 2 ? 'cat' : 'dog'), {recursive: true})
        fs.writeFileSync(path.join(folder, i % 2 ? 'cat' : 'dog', `${i}${ext}`), bytes)
      })
      await addCase('image folders', [folder], 'imagefolder')
    }), opts(8, 400))
  })

  it('NPY headers (pure): a header, or a lake error', () => {
    fc.assert(fc.property(npyFile, (bytes) => {
      const r = attempt('decodeNpyHeader', () => decodeNpyHeader(bytes, 'x.npy', bytes.length))
      tally.count('npy headers', !r.ok)
      if (r.ok) assert.ok(r.value.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    }), opts(500, 3000))
  })

  it('PNG/JPEG headers (pure): a sane size, or a reason; imageInfo throws only lake errors', () => {
    fc.assert(fc.property(imageFile, (bytes) => {
      const info = parseImageHeader(bytes)
      tally.count('image headers', typeof info === 'string')
      if (typeof info === 'string') assert.ok(info.length > 0)
      else assert.ok(info.width >= 1 && info.height >= 1 && info.channels >= 1 && info.channels <= 4)
      attempt('imageInfo', () => imageInfo(bytes))
    }), opts(500, 3000))
  })

  it('pixel decoding of images whose headers were accepted: pixels, or a lake error', async () => {
    await fc.assert(fc.asyncProperty(imageFile.filter((b) => typeof parseImageHeader(b) !== 'string'), async (bytes) => {
      const r = await attemptAsync('decodeImage', () => decodeImage(bytes, {tensor: 'images', where: {index: 0}}))
      tally.count('pixel decoding', !r.ok)
    }), opts(20, 300))
  })
})
