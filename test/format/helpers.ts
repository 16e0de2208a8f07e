// Shared assertions: errors are checked by their stable code, and user-facing messages must
// name what they are about (tensor, sample index...), which the `mentions` list checks.
import assert from 'node:assert/strict'
import {LakeError} from '../../src/core/errors.js'

export function throwsCode(fn: () => unknown, code: string, ...mentions: string[]): LakeError {
  let caught: unknown
  try {
    fn()
  } catch (e) {
    caught = e
  }
  assert.ok(caught instanceof LakeError, `expected a LakeError ${code}, got ${caught === undefined ? 'no error' : String(caught)}`)
  assert.equal(caught.code, code, caught.message)
  for (const m of mentions) assert.ok(caught.message.includes(m), `message ${JSON.stringify(caught.message)} should mention ${JSON.stringify(m)}`)
  return caught
}

export async function rejectsCode(p: Promise<unknown>, code: string, ...mentions: string[]): Promise<LakeError> {
  let caught: unknown
  try {
    await p
  } catch (e) {
    caught = e
  }
  return throwsCode(() => {
    if (caught !== undefined) throw caught
  }, code, ...mentions)
}
