// For the tests of LAKE_DAEMON=1 (test/cli/daemon*.test.ts): a sandbox with a private socket
// directory, the resident processes it holds, and waiting on processes.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {describeRun, runLake, Sandbox} from './cli.js'

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

/**
 * A sandbox for one test of the resident process, made before each test and removed after (its
 * resident processes killed): the dataset directory, a private socket directory, and the
 * environment that sends commands through them (tracing where each ran to `traced()`).
 */
export function useDaemonSandbox(prefix: string) {
  let box: Sandbox
  let sockets: string
  beforeEach(() => {
    box = new Sandbox(prefix)
    sockets = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}sock-`))
    fs.chmodSync(sockets, 0o700)
  })
  afterEach(() => {
    for (const pid of daemonPids(sockets)) killQuietly(pid)
    box.remove()
    fs.rmSync(sockets, {recursive: true, force: true})
  })
  const traceFile = () => box.path('trace')
  const env = (more: Record<string, string | undefined> = {}): Record<string, string | undefined> => ({LAKE_DAEMON: '1', LAKE_DAEMON_DIR: sockets, LAKE_DAEMON_IDLE: '30', LAKE_DAEMON_TRACE: traceFile(), ...more})
  return {
    box: () => box,
    sockets: () => sockets,
    env,
    /** The same environment with the resident process off: the command in a process of its own. */
    alone: (more: Record<string, string | undefined> = {}) => env({LAKE_DAEMON: '0', ...more}),
    traceFile,
    /** Where each command ran, a line each (LAKE_DAEMON_TRACE). */
    traced: (): string[] => (fs.existsSync(traceFile()) ? fs.readFileSync(traceFile(), 'utf8').trim().split('\n') : []),
    daemonPids: (dir = sockets) => daemonPids(dir),
    /** A resident process listening (the first command starts one and runs by itself); its pid. */
    async started(cwd: string, more: Record<string, string | undefined> = {}): Promise<number> {
      const r = runLake(['branch'], {cwd, env: env(more)})
      assert.ok(r.code === 0 || r.code === 1, describeRun(r))
      await until('the resident process to listen', () => daemonPids(sockets).length === 1)
      return daemonPids(sockets)[0]
    },
  }
}
