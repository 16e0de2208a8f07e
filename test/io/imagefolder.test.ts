import assert from 'node:assert/strict'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {imageFolderClasses, walkImageFolder} from '../../src/core/io/imagefolder.js'
import {collect, rejectsLake, useTempDir} from './helpers.js'

async function tree(root: string, files: string[]): Promise<void> {
  for (const rel of files) {
    await mkdir(join(root, rel, '..'), {recursive: true})
    await writeFile(join(root, rel), rel)
  }
}

describe('io/imagefolder', () => {
  const tmp = useTempDir()

  it('lists images by class, sorted, ignoring hidden entries', async () => {
    const root = join(tmp(), 'pets')
    await tree(root, ['dog/b.PNG', 'dog/a.jpg', 'cat/x.JPEG', 'cat/.DS_Store', '.git/config', '.cache/thumb.txt'])
    await mkdir(join(root, 'empty'))
    assert.deepEqual(await imageFolderClasses(root), ['cat', 'dog', 'empty'])
    const images = await collect(walkImageFolder(root))
    assert.deepEqual(images.map((i) => [i.relPath, i.className]), [['cat/x.JPEG', 'cat'], ['dog/a.jpg', 'dog'], ['dog/b.PNG', 'dog']])
    assert.equal(images[0].absPath, join(root, 'cat/x.JPEG'))
  })

  it('refuses a file directly under root, naming it', async () => {
    const root = join(tmp(), 'pets')
    await tree(root, ['cat/x.jpg', 'stray.jpg'])
    await rejectsLake(collect(walkImageFolder(root)), 'BAD_INPUT_FILE', join(root, 'stray.jpg'), 'directly under')
    await rejectsLake(imageFolderClasses(root), 'BAD_INPUT_FILE', 'stray.jpg')
  })

  it('refuses nesting below a class and non-image files', async () => {
    const root = join(tmp(), 'a')
    await tree(root, ['cat/sub/x.jpg'])
    await rejectsLake(collect(walkImageFolder(root)), 'BAD_INPUT_FILE', join(root, 'cat/sub/x.jpg'), 'nested')
    const root2 = join(tmp(), 'b')
    await tree(root2, ['cat/x.jpg', 'cat/notes.txt'])
    const err = await rejectsLake(collect(walkImageFolder(root2)), 'BAD_INPUT_FILE', 'notes.txt', 'not an image')
    assert.ok(err.hint?.includes('--format files'))
  })

  it('missing root', async () => {
    await rejectsLake(collect(walkImageFolder(join(tmp(), 'none'))), 'FILE_NOT_FOUND', 'none')
    await rejectsLake(imageFolderClasses(join(tmp(), 'none')), 'FILE_NOT_FOUND', 'none')
  })
})
