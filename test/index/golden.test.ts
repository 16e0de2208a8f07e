// The node encoding and the boundary mix decide which tree is canonical for a sequence. If either
// changed silently, edits of old trees would stop matching fresh builds (and diffs would read far
// more than they should), so both are pinned here: a change must bump INDEX_NODE_VERSION.
import assert from 'node:assert/strict'
import {mixZeros} from '../../src/core/index/boundary.js'
import {buildIndex, INDEX_NODE_VERSION} from '../../src/core/index/index.js'
import {DEEP, MemoryNodeIO, makeEntries} from './helpers.js'

describe('index format golden values', () => {
  it('pins the version, the empty root and the mix', async () => {
    assert.equal(INDEX_NODE_VERSION, 1)
    const io = new MemoryNodeIO()
    const empty = await buildIndex(io, [])
    assert.equal(empty.root, 'abccd513eab85a788873f53be7af8414d9e3221b8539964d47d278234b676fb8')
    assert.equal(Buffer.from(io.objects.get(empty.root)!).toString('hex'),
      '88a46b696e64aa696e6465782d6c656166a17601a3696473c400a66368756e6b73c400a76368756e6b4f66c400a76f66667365747390a76c656e6774687390a463726373c400')
    assert.deepEqual([0n, 1n, 2n, 0xffffffffffffffffn, 0x123456789abcdefn].map(mixZeros), [1, 0, 0, 1, 3])
  })

  it('pins the roots of fixed sequences (test entries from helpers.ts)', async () => {
    const io = new MemoryNodeIO()
    assert.equal((await buildIndex(io, makeEntries(1000), DEEP)).root, '2c06762a1c9e262cfd265a8d9abf8e30f39ea10fd5daf03e7d56e130353bf2fd')
    assert.equal((await buildIndex(io, makeEntries(5000))).root, 'bf54daa211654896fd302e65fbf98120d5a6b5e5d6b62b119e3af6ddd81d366b')
  })
})
