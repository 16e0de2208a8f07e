// Storage keys (src/core/storage/keys.ts): assertKey takes keys of the plain shape at a glance
// (isPlainKey: one regular expression, no split) and checks every rule otherwise (keyProblem). The
// glance must never let through a key the rules refuse.
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {assertKey, isPlainKey, keyProblem, MAX_KEY_BYTES, MAX_SEGMENT_BYTES} from '../../src/core/storage/keys.js'

describe('storage keys: the plain-key fast path', () => {
  it('accepts only keys that every rule accepts (random keys over a hostile alphabet)', () => {
    const piece = fc.constantFrom('a', 'Z', '0', '_', '-', '.', '..', '/', '//', '\\', '\u0001', ' ', 'é', '.lake-', 'objects', 'x'.repeat(MAX_SEGMENT_BYTES))
    fc.assert(
      fc.property(fc.array(piece, {maxLength: 12}), (parts) => {
        const key = parts.join('')
        if (isPlainKey(key)) assert.equal(keyProblem(key), null, `plain but refused: ${JSON.stringify(key)}`)
        // and assertKey agrees with the rules either way
        const refused = keyProblem(key) !== null
        assert.equal((() => { try { assertKey(key); return false } catch { return true } })(), refused, JSON.stringify(key))
      }),
      {numRuns: 3000},
    )
  })

  it('object keys are plain; the rules still decide the rest', () => {
    assert.ok(isPlainKey('objects/ab/cdef0123456789'))
    assert.ok(isPlainKey('refs/heads/main'))
    for (const bad of ['', '/a', 'a/', 'a//b', 'a/./b', 'a/../b', '.lake-lock', 'a/.lake-x', 'a\\b', 'a\u0000b', 'x'.repeat(MAX_SEGMENT_BYTES + 1), `${'ab/'.repeat(400)}c`]) {
      assert.equal(isPlainKey(bad), false, JSON.stringify(bad))
      assert.notEqual(keyProblem(bad), null, JSON.stringify(bad))
      assert.throws(() => assertKey(bad), /invalid storage key/)
    }
    // valid keys of another shape go the long way and are accepted
    for (const good of ['datasets/über', 'a b/c', '.hidden-but-not-reserved/x', 'x'.repeat(MAX_SEGMENT_BYTES)]) {
      assert.equal(keyProblem(good), null, JSON.stringify(good))
      assert.doesNotThrow(() => assertKey(good))
    }
    assert.ok(MAX_KEY_BYTES >= MAX_SEGMENT_BYTES)
  })
})
