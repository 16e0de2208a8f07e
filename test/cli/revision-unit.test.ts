// Ambiguous revisions need two commits sharing a 4-hex-digit prefix: through the CLI that takes
// hundreds of commits, so this checks the resolver (src/core/version/resolve.ts) against a fake
// RevisionSource with chosen ids instead. The CLI maps the errors by code and exit (base.ts).
import assert from 'node:assert/strict'
import {resolveRevision, type RevisionSource} from '../../src/core/version/resolve.js'
import {LakeError} from '../../src/core/errors.js'
import type {CommitGraphEntry} from '../../src/core/events/projections.js'

const id = (prefix: string, fill: string) => (prefix + fill.repeat(64)).slice(0, 64)

/** A first-parent chain of commits (oldest first), one minute apart, with skip pointers. */
function fakeSource(chain: string[], refs: Record<string, string> = {}): RevisionSource {
  const graph = new Map<string, CommitGraphEntry>()
  chain.forEach((commit, i) => {
    const fp: string[] = []
    for (let k = 0; 2 ** k <= i; k++) fp.push(chain[i - 2 ** k])
    graph.set(commit, {time: Date.UTC(2026, 0, 1, 0, i), depth: i, gen: i + 1, parents: i ? [chain[i - 1]] : [], fp})
  })
  const sorted = [...chain].sort()
  return {
    head: async () => ({branch: 'main', commit: chain[chain.length - 1]}),
    ref: async (ref) => (ref === 'heads/main' ? chain[chain.length - 1] : refs[ref]),
    commitsWithPrefix: async (prefix, limit) => sorted.filter((c) => c.startsWith(prefix)).slice(0, limit),
    graph: async (commit) => graph.get(commit),
    reflog: async () => undefined,
  }
}

async function refused(src: RevisionSource, rev: string, code: string): Promise<LakeError> {
  let caught: unknown
  try {
    await resolveRevision(src, rev)
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof LakeError, `'${rev}' resolved instead of failing with ${code}`)
  assert.equal(caught.code, code, caught.message)
  assert.equal(caught.exit, 1, 'unknown and ambiguous revisions exit 1')
  assert.ok(caught.message.includes(`'${rev}'`), `the message names the revision: ${caught.message}`)
  return caught
}

describe('revisions: ambiguous and unknown prefixes (resolver, fake source)', () => {
  const a1 = id('abcd1', '1')
  const a2 = id('abcd2', '2')
  const b = id('beef', '3')
  const src = fakeSource([a1, a2, b])

  it('a 4-digit prefix two commits share is ambiguous: named, with candidates in the hint', async () => {
    const err = await refused(src, 'abcd', 'AMBIGUOUS_REVISION')
    const hint = err.hint ?? ''
    assert.ok(hint.includes(a1.slice(0, 12)) && hint.includes(a2.slice(0, 12)), hint)
  })

  it('ambiguity is reported for the whole revision, suffixes included', async () => {
    await refused(src, 'abcd~1', 'AMBIGUOUS_REVISION')
    await refused(src, 'abcd@{2026-01-01T00:05:00Z}', 'AMBIGUOUS_REVISION')
  })

  it('one more digit resolves; case does not matter; a full id resolves', async () => {
    assert.equal(await resolveRevision(src, 'abcd1'), a1)
    assert.equal(await resolveRevision(src, 'ABCD2'), a2)
    assert.equal(await resolveRevision(src, 'beef'), b)
    assert.equal(await resolveRevision(src, b), b)
    assert.equal(await resolveRevision(src, 'beef~2'), a1)
  })

  it('fewer than 4 digits is no prefix, and a prefix nothing has is unknown', async () => {
    await refused(src, 'bee', 'UNKNOWN_REVISION')
    await refused(src, 'abce', 'UNKNOWN_REVISION')
    await refused(src, id('beef', '4'), 'UNKNOWN_REVISION')
  })

  it('ten or more matches say so', async () => {
    const many = Array.from({length: 12}, (_, i) => id(`cafe${i.toString(16)}`, '0'))
    const err = await refused(fakeSource(many), 'cafe', 'AMBIGUOUS_REVISION')
    assert.match(err.message, /10 or more/)
  })

  it('a branch or tag whose name looks like a prefix wins over the prefix', async () => {
    const withRefs = fakeSource([a1, a2, b], {'heads/abcd': b, 'tags/beef': a1})
    assert.equal(await resolveRevision(withRefs, 'abcd'), b)
    assert.equal(await resolveRevision(withRefs, 'beef'), a1)
  })

  it('^2 of a commit that is no merge is unknown, naming the revision', async () => {
    await refused(src, 'beef^2', 'UNKNOWN_REVISION')
  })
})
