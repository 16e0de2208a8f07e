// Write leases: a command that writes objects before the event that references them (add, append,
// merge, fetch, ...) holds a lease from before its first object write until its event is appended.
// gc runs under the dataset lock and deletes nothing while a live lease exists, so no object a
// writer is about to reference can disappear, however long the writer runs. A writer killed with
// -9 leaves its lease behind; gc drops leases whose process is gone.
import os from 'node:os'
import {randomBytes} from 'node:crypto'
import {decode, encode} from '../codec.js'
import type {EventDb} from '../events/db.js'
import type {Repo} from '../repo/repo.js'

export interface Lease {
  pid: number
  host: string
  started: number
  action: string
}

export async function takeLease(db: EventDb, action: string): Promise<string> {
  const id = `${Date.now().toString(16).padStart(12, '0')}-${randomBytes(6).toString('hex')}`
  await db.leases.put(id, encode({pid: process.pid, host: os.hostname(), started: Date.now(), action} satisfies Lease))
  return id
}

export async function dropLease(db: EventDb, id: string): Promise<void> {
  await db.leases.del(id)
}

/** Drops the lease in its own short visit (after a failure: the usual path drops it with the event). */
export async function releaseLease(repo: Repo, id: string): Promise<void> {
  await repo.withDb((db) => dropLease(db, id)).catch(() => undefined)
}

function alive(lease: Lease): boolean {
  if (lease.host !== os.hostname()) return true // another machine's process: assume it runs
  try {
    process.kill(lease.pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Live leases; leases of processes that are gone are deleted on the way. */
export async function liveLeases(db: EventDb): Promise<Lease[]> {
  const live: Lease[] = []
  for await (const [id, bytes] of db.leases.iterator()) {
    const lease = decode<Lease>(bytes)
    if (alive(lease)) live.push(lease)
    else await db.leases.del(id)
  }
  return live
}
