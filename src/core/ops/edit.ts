// Small edits from the terminal or the library: create a tensor, append, update, delete rows.
import type {Repo} from '../repo/repo.js'
import {createTensorMeta, type TensorMeta} from '../format/tensor-meta.js'
import {encodeSample} from '../format/sample.js'
import {newSampleId} from '../dataset/ids.js'
import {IndexOutOfRangeError} from '../errors.js'
import {stageChange} from './stage.js'
import {readStaged} from '../version/source.js'

export async function createTensor(repo: Repo, name: string, opts: {htype: string; dtype?: string; sampleCompression?: string; chunkCompression?: string; classNames?: string[]}): Promise<{tensor: TensorMeta}> {
  const chunk = repo.config.values['chunk.size']
  const meta = createTensorMeta(name, {...opts, ...(chunk ? {maxChunkBytes: Number(chunk)} : {})})
  await stageChange(repo, 'tensor.create', async (b) => b.createTensor(meta))
  return {tensor: meta}
}

export async function listTensors(repo: Repo) {
  const root = await repo.withDb(async (db) => {
    return (await readStaged(db))!.root
  })
  const r = await repo.data.getRoot(root)
  return {
    tensors: Object.entries(r.tensors)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, t]) => ({name, htype: t.meta.htype, dtype: t.meta.dtype, length: t.length, ...(t.meta.classNames ? {classNames: t.meta.classNames} : {})})),
  }
}

export async function appendValues(repo: Repo, tensor: string, values: unknown[]) {
  const result = await stageChange(repo, 'samples.append', async (b) => {
    const meta = b.meta(tensor)
    let index = b.length(tensor)
    for (const v of values) await b.append(tensor, encodeSample(meta, v, {index: index++}), newSampleId())
  })
  return {appended: values.length, changes: result.changes}
}

export async function updateValue(repo: Repo, tensor: string, index: number, value: unknown) {
  const result = await stageChange(repo, 'samples.update', async (b) => {
    await b.update(tensor, index, encodeSample(b.meta(tensor), value, {index}))
  })
  return {updated: 1, changes: result.changes}
}

/** Deletes rows [start, end) from every tensor long enough to have them. */
export async function deleteRows(repo: Repo, start: number, end: number) {
  const result = await stageChange(repo, 'samples.delete', async (b) => {
    const names = b.tensorNames()
    const longest = Math.max(0, ...names.map((n) => b.baseLength(n)))
    if (start < 0 || end > longest || start >= end) {
      throw new IndexOutOfRangeError(`rows ${start}:${end} are out of range (the longest tensor has ${longest} samples)`, {
        hint: longest ? `valid rows: 0..${longest - 1}` : 'the dataset is empty',
      })
    }
    for (const name of names) {
      const length = b.baseLength(name)
      for (let i = start; i < Math.min(end, length); i++) b.delete(name, i)
    }
  })
  return {deleted: end - start, changes: result.changes}
}
