// For the tests of LAKE_DAEMON=1 (test/cli/daemon*.test.ts): the resident processes a socket
// directory holds, and waiting on processes.
import fs from 'node:fs'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

/** Pids of the resident processes whose pid files are in `dir` (one per socket). */
export function daemonPids(dir: string): number[] {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.sock.pid'))
    .map((f) => Number(fs.readFileSync(path.join(dir, f), 'utf8')))
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal)
  } catch {
    // gone
  }
}

/** Polls `test` until it holds; fails naming `what` after `ms`. */
export async function until(what: string, test: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}
