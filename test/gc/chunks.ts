// Whether an object file is a sample chunk (by its magic), for the gc and diff tests.
import fs from 'node:fs'
import {CHUNK_MAGIC} from '../../src/core/format/chunk.js'

export function isChunkFile(file: string): boolean {
  const fd = fs.openSync(file, 'r')
  try {
    const head = Buffer.alloc(4)
    return fs.readSync(fd, head, 0, 4, 0) === 4 && head.toString('latin1') === CHUNK_MAGIC
  } finally {
    fs.closeSync(fd)
  }
}
