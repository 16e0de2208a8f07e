// Shared test helpers for io/: temp directories that clean up after themselves, and an
// assertion for LakeErrors (code plus the parts a message must name).
import assert from 'node:assert/strict'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {LakeError} from '../../src/core/errors.js'

/** A fresh temp directory per test (mocha hooks); call the returned function inside a test. */
export function useTempDir(): () => string {
  let dir = ''
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lake-io-'))
  })
  afterEach(async () => {
    await rm(dir, {recursive: true, force: true})
  })
  return () => dir
}

/** Writes `content` to dir/name and returns the path. */
export async function put(dir: string, name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, content)
  return path
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

/** Awaits `action`, which must fail with a LakeError of `code` whose message contains `parts`. */
export async function rejectsLake(action: Promise<unknown> | (() => Promise<unknown>), code: string, ...parts: string[]): Promise<LakeError> {
  let caught: unknown
  try {
    await (typeof action === 'function' ? action() : action)
  } catch (err) {
    caught = err
  }
  assert.ok(caught !== undefined, `expected ${code}, but nothing was thrown`)
  assert.ok(caught instanceof LakeError, `expected a LakeError ${code}, got ${String(caught)}`)
  assert.equal(caught.code, code, caught.message)
  for (const part of parts) assert.ok(caught.message.includes(part), `message ${JSON.stringify(caught.message)} lacks ${JSON.stringify(part)}`)
  return caught
}
