// Shared by the merge, diff and gc tests that run the library API: a dataset in a fresh temp dir,
// materializing a version as plain values, and expecting an error code.
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import {Dataset, type LakeError} from '../../src/index.js'
import {FAST_TMP} from '../model/runner.js'

export {expectCode} from '../model/runner.js'

/** Runs `fn` on a new dataset in a temp dir (a RAM disk when there is one), then removes it. */
export async function withDataset<T>(prefix: string, fn: (ds: Dataset, dir: string) => Promise<T>, base = FAST_TMP): Promise<T> {
  const dir = await fs.mkdtemp(path.join(base, prefix))
  let ds: Dataset | undefined
  try {
    ds = await Dataset.init(dir)
    return await fn(ds, dir)
  } finally {
    await ds?.close()
    await fs.rm(dir, {recursive: true, force: true})
  }
}

/** Every tensor of `rev` with its values in order. */
export async function materialize(ds: Dataset, rev = 'HEAD'): Promise<Record<string, unknown[]>> {
  const v = await ds.version(rev)
  const out: Record<string, unknown[]> = {}
  for (const t of v.tensors()) out[t.name] = await v.readRange(t.name, 0, t.length)
  return out
}

/** The error `p` rejects with; fails if it resolves or rejects with another code. */
export async function rejection(what: string, p: Promise<unknown>, code: string): Promise<LakeError & {data?: Record<string, unknown>}> {
  try {
    await p
  } catch (error) {
    assert.equal((error as LakeError).code, code, `${what}: expected ${code}, got ${(error as Error).message}`)
    return error as LakeError & {data?: Record<string, unknown>}
  }
  assert.fail(`${what}: expected ${code}, but it succeeded`)
}
