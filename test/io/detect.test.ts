import assert from 'node:assert/strict'
import {mkdir, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {detectFormat} from '../../src/core/io/detect.js'
import {rejectsLake, useTempDir} from './helpers.js'

async function tree(root: string, files: string[]): Promise<void> {
  for (const rel of files) {
    await mkdir(join(root, rel, '..'), {recursive: true})
    await writeFile(join(root, rel), 'x')
  }
}

describe('io/detect', () => {
  const tmp = useTempDir()

  it('goes by extension for files, case-insensitively', async () => {
    await tree(tmp(), ['a.csv', 'b.JSONL', 'c.ndjson', 'd.npy'])
    assert.equal(await detectFormat(join(tmp(), 'a.csv')), 'csv')
    assert.equal(await detectFormat(join(tmp(), 'b.JSONL')), 'jsonl')
    assert.equal(await detectFormat(join(tmp(), 'c.ndjson')), 'jsonl')
    assert.equal(await detectFormat(join(tmp(), 'd.npy')), 'npy')
  })

  it('an image folder is class directories holding only images', async () => {
    const root = join(tmp(), 'pets')
    await tree(root, ['cat/1.jpg', 'dog/2.png', 'dog/.DS_Store', '.lake/x'])
    await symlink(join(root, 'cat'), join(root, 'kitten'))
    assert.equal(await detectFormat(root), 'imagefolder')
  })

  it('any other directory is a file tree', async () => {
    const cases = [
      ['cat/1.jpg', 'README.md'], // a file at the top
      ['cat/1.jpg', 'cat/notes.txt'], // a non-image in a class
      ['cat/deeper/1.jpg'], // nesting
      ['a.jpg'], // images but no classes
    ]
    for (const [i, files] of cases.entries()) {
      const root = join(tmp(), `d${i}`)
      await tree(root, files)
      assert.equal(await detectFormat(root), 'files', files.join(' '))
    }
    await mkdir(join(tmp(), 'empty', 'cls'), {recursive: true})
    assert.equal(await detectFormat(join(tmp(), 'empty')), 'files')
  })

  it('unknown extension: error with a hint listing the formats', async () => {
    await tree(tmp(), ['data.parquet'])
    const err = await rejectsLake(detectFormat(join(tmp(), 'data.parquet')), 'BAD_INPUT_FILE', 'data.parquet')
    assert.ok(err.hint?.includes('--format files|imagefolder|csv|jsonl|npy'), String(err.hint))
  })

  it('missing path', async () => {
    await rejectsLake(detectFormat(join(tmp(), 'nope.csv')), 'FILE_NOT_FOUND', 'nope.csv')
  })
})
