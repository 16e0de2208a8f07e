// Per-key write locks for the file store. In-process callers queue on a promise chain; across
// processes the lock is a file created with O_EXCL. A holder that crashed leaves its lock file
// behind, so a lock older than `staleMs` (by mtime) is taken over: critical sections last
// milliseconds, so an old lock can only belong to a dead writer.
import {hostname} from 'node:os'
import {open, stat, unlink} from 'node:fs/promises'
import {LockTimeoutError} from '../errors.js'
import {errno} from './fs-sync.js'

export interface LockOptions {
  /** A lock file older than this is considered abandoned. */
  staleMs: number
  /** Give up waiting after this long (LockTimeoutError). */
  timeoutMs: number
}

/** Runs `fn` holding the lock file; ENOENT when the lock's directory does not exist. */
export async function withFileLock<T>(lockPath: string, key: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const ino = await acquire(lockPath, key, opts)
  try {
    return await fn()
  } finally {
    await release(lockPath, ino)
  }
}

async function acquire(lockPath: string, key: string, opts: LockOptions): Promise<bigint> {
  const deadline = Date.now() + opts.timeoutMs
  for (let delayMs = 1; ; delayMs = Math.min(delayMs * 2, 50)) {
    try {
      const handle = await open(lockPath, 'wx')
      try {
        // Only for a human who finds the file: who holds it, since when.
        await handle.writeFile(`${process.pid}@${hostname()} ${new Date().toISOString()}\n`)
        return (await handle.stat({bigint: true})).ino
      } finally {
        await handle.close()
      }
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err
    }
    if ((await breakIfStale(lockPath, opts.staleMs)) !== 'held') continue
    if (Date.now() > deadline) {
      throw new LockTimeoutError(`timed out after ${opts.timeoutMs} ms waiting for the write lock on ${JSON.stringify(key)} (${lockPath})`, {
        hint: `another process is writing it; if no process is, delete ${lockPath}`,
        data: {key, lockPath},
      })
    }
    await new Promise(resolve => setTimeout(resolve, delayMs * (0.5 + Math.random())))
  }
}

async function release(lockPath: string, ino: bigint): Promise<void> {
  // If our lock was taken over as stale, the file there now is someone else's: leave it.
  const now = await stat(lockPath, {bigint: true}).catch(() => null)
  if (now?.ino === ino) await unlink(lockPath).catch(() => {})
}

/**
 * Removes the lock when it is older than staleMs: 'broken' when this call removed it, 'gone' when
 * it had already disappeared, 'held' when it is live (or another waiter is breaking it).
 * Two waiters may see the same stale lock: a second O_EXCL file ('.break') lets only one of
 * them remove it, and the inode re-check stops it from removing a fresh lock that replaced it.
 */
export async function breakIfStale(lockPath: string, staleMs: number): Promise<'broken' | 'gone' | 'held'> {
  const seen = await stat(lockPath, {bigint: true}).catch(() => null)
  if (!seen) return 'gone'
  if (Date.now() - Number(seen.mtimeMs) < staleMs) return 'held'
  const breaker = `${lockPath}.break`
  try {
    await (await open(breaker, 'wx')).close()
  } catch (err) {
    if (errno(err) !== 'EEXIST') throw err
    // A breaker that crashed mid-break leaves this file; it is itself abandoned after staleMs.
    const breakerStat = await stat(breaker).catch(() => null)
    if (breakerStat && Date.now() - breakerStat.mtimeMs >= staleMs) await unlink(breaker).catch(() => {})
    return 'held'
  }
  try {
    const again = await stat(lockPath, {bigint: true}).catch(() => null)
    if (!again) return 'gone'
    if (again.ino !== seen.ino || again.dev !== seen.dev || Date.now() - Number(again.mtimeMs) < staleMs) return 'held'
    await unlink(lockPath)
    return 'broken'
  } catch (err) {
    if (errno(err) === 'ENOENT') return 'gone'
    throw err
  } finally {
    await unlink(breaker).catch(() => {})
  }
}

/** Serialises async sections per key within this process (cheaper than spinning on lock files). */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>()

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve()
    let done!: () => void
    const mine = new Promise<void>(resolve => (done = resolve))
    const tail = previous.then(() => mine)
    this.tails.set(key, tail)
    await previous
    try {
      return await fn()
    } finally {
      done()
      if (this.tails.get(key) === tail) this.tails.delete(key)
    }
  }
}
