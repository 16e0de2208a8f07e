// Durability helpers for the file store. A rename or a new directory entry survives a power cut
// only once the directory holding it is fsynced, and that fsync must start after the rename.
// Parallel puts into one directory share fsyncs (group commit) instead of paying one each.
import {open} from 'node:fs/promises'

export function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code
}

// Some file systems cannot fsync a directory; there is nothing more we can do on them.
const DIR_SYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EPERM', 'EBADF'])

export async function fsyncDir(dir: string): Promise<void> {
  let handle
  try {
    handle = await open(dir, 'r')
  } catch (err) {
    // Pruned by a concurrent delete of its last key: nothing left in it to make durable.
    if (errno(err) === 'ENOENT') return
    throw err
  }
  try {
    await handle.sync()
  } catch (err) {
    if (!DIR_SYNC_UNSUPPORTED.has(errno(err) ?? '')) throw err
  } finally {
    await handle.close()
  }
}

interface Slot {
  running: Promise<void>
  /** One more fsync, shared by every caller that arrived while `running` was in flight. */
  queued?: Promise<void>
}

export class DirSyncer {
  private readonly slots = new Map<string, Slot>()

  /** Resolves once an fsync of `dir` that started after this call has completed. */
  sync(dir: string): Promise<void> {
    const slot = this.slots.get(dir)
    if (!slot) return this.start(dir)
    // The running fsync may have started before the caller's rename, so it does not count.
    slot.queued ??= slot.running.then(noop, noop).then(() => this.start(dir))
    return slot.queued
  }

  private start(dir: string): Promise<void> {
    const slot: Slot = {running: Promise.resolve()}
    slot.running = fsyncDir(dir).finally(() => {
      if (slot.queued === undefined && this.slots.get(dir) === slot) this.slots.delete(dir)
    })
    this.slots.set(dir, slot)
    return slot.running
  }
}

function noop(): void {}
