import assert from 'node:assert/strict'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {FsStore} from '../../src/core/storage/fs.js'
import {dropMemoryStore, MemoryStore} from '../../src/core/storage/memory.js'
import {openStore} from '../../src/core/storage/open.js'
import {tempDir} from './helpers.js'

const bytesOf = (text: string) => new TextEncoder().encode(text)

describe('openStore', () => {
  it('opens memory://name, sharing contents between stores of one name', async () => {
    try {
      const first = openStore('memory://open-test')
      assert.ok(first instanceof MemoryStore)
      assert.equal(first.url, 'memory://open-test')
      await first.put('k', bytesOf('v'))
      await first.close()
      const again = openStore('memory://open-test')
      assert.equal(new TextDecoder().decode(await again.get('k')), 'v')
      assert.equal(await openStore('memory://another').exists('k'), false)
    } finally {
      dropMemoryStore('open-test')
      dropMemoryStore('another')
    }
  })

  it('opens file:///abs and /abs as file stores on the same directory', async () => {
    const {dir, cleanup} = await tempDir()
    try {
      const byUrl = openStore(pathToFileURL(join(dir, 'store')).href, {durable: false})
      const byPath = openStore(join(dir, 'store'))
      assert.ok(byUrl instanceof FsStore && byPath instanceof FsStore)
      assert.equal(byUrl.url, byPath.url)
      assert.equal(byUrl.durable, false)
      await byUrl.put('k', bytesOf('v'))
      assert.equal(await byPath.exists('k'), true)
      await byUrl.close()
      await byPath.close()
    } finally {
      await cleanup()
    }
  })

  it('refuses unknown schemes and relative paths, with a hint', () => {
    const refusal = (url: string, text: RegExp) => assert.throws(() => openStore(url), (err: {code: string; message: string; hint?: string}) => {
      assert.equal(err.code, 'STORAGE_ERROR')
      assert.match(err.message, text)
      assert.match(err.hint ?? '', /memory:\/\/name/)
      return true
    })
    refusal('gs://bucket', /unknown storage scheme 'gs:'/)
    refusal('relative/dir', /relative/)
    refusal('', /no storage URL/)
    assert.throws(() => openStore('memory://'), {code: 'STORAGE_ERROR'})
    assert.throws(() => openStore('file://remote-host/x'), {code: 'STORAGE_ERROR'})
  })
})
