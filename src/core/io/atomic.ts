// Writing a file so that it is either all there or not there at all: bytes go to a temporary
// file beside the target, which is renamed over the target only once complete. An export that
// fails half way (a bad value, a full disk) leaves no half-written file behind.
import {open, rename, unlink} from 'node:fs/promises'
import {randomBytes} from 'node:crypto'
import {dirname, join} from 'node:path'
import {LakeError, StorageError} from '../errors.js'

export type ByteSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>

/** Writes `bytes` to `target` atomically (temp file + rename); returns the number of bytes. */
export async function writeAtomic(target: string, bytes: ByteSource): Promise<number> {
  // Same directory, so the rename never crosses a file system. The target's name is left out
  // so that a long name cannot push the temp name past the file system's limit.
  const temp = join(dirname(target), `.lake-tmp-${process.pid}-${randomBytes(6).toString('hex')}`)
  let written = 0
  try {
    // 'wx' refuses to open an existing path, so the temp name cannot be a planted symlink.
    const handle = await open(temp, 'wx')
    try {
      for await (const chunk of chunksOf(bytes)) {
        if (chunk.byteLength === 0) continue
        await handle.write(chunk)
        written += chunk.byteLength
      }
    } finally {
      await handle.close()
    }
    await rename(temp, target)
    return written
  } catch (err) {
    await unlink(temp).catch(() => undefined)
    if (err instanceof LakeError) throw err
    if (isFsError(err)) throw writeError(err, target)
    throw err
  }
}

async function* chunksOf(bytes: ByteSource): AsyncGenerator<Uint8Array> {
  if (bytes instanceof Uint8Array) yield bytes
  else yield* bytes
}

function isFsError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && 'syscall' in err
}

/** A failure to write `target` as a LakeError naming it. */
export function writeError(err: NodeJS.ErrnoException, target: string): StorageError {
  const reason = err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied'
    : err.code === 'ENOSPC' ? 'no space left on the device'
    : err.code === 'EISDIR' ? 'a directory is in the way'
    : err.message
  return new StorageError(`${target}: cannot write: ${reason}`, {data: {file: target}})
}
