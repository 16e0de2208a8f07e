// Running lake processes side by side for the concurrency torture: every run has a wall-clock cap
// (a run still going at the cap is killed and counted as a hang), and a failure must be a clean
// lake error (exit 1, an `error:` line, a named code other than INTERNAL in the --json output).
import assert from 'node:assert/strict'
import {startLake, type LakeRun} from '../../crash/cli.js'

export interface Ran {
  who: string
  args: string[]
  run: LakeRun
  /** ms since the harness's t0 */
  start: number
  end: number
  hung: boolean
}

/** `lake ARGS --json` with env; killed (and marked hung) after capMs. */
export async function runCapped(who: string, args: string[], opts: {cwd?: string; env?: Record<string, string>; capMs: number; t0: number}): Promise<Ran> {
  const start = performance.now() - opts.t0
  const p = startLake([...args, '--json'], {cwd: opts.cwd, env: opts.env})
  let hung = false
  const timer = setTimeout(() => {
    hung = true
    p.child.kill('SIGKILL')
  }, opts.capMs)
  const run = await p.done
  clearTimeout(timer)
  return {who, args, run, start, end: performance.now() - opts.t0, hung}
}

export const describeRan = (r: Ran) => `${r.who}: lake ${r.args.join(' ')} → ${r.hung ? 'HUNG' : `exit ${r.run.code ?? r.run.signal}`} after ${(r.end - r.start).toFixed(0)} ms\n${r.run.stderr}${r.run.stdout}`

/** The error code of a failed --json run. */
export const errorCode = (r: Ran): string | undefined => r.run.json?.error?.code

/** exit 0, or exit 1 with an `error:` line and one of the `allowed` codes. */
export function assertClean(r: Ran, allowed: string[]): void {
  assert.ok(!r.hung, `a hang: ${describeRan(r)}`)
  if (r.run.code === 0) return
  assert.equal(r.run.code, 1, describeRan(r))
  assert.match(r.run.stderr, /^error: .+/m, describeRan(r))
  assert.ok(allowed.includes(errorCode(r) ?? ''), `unexpected error code ${errorCode(r)}: ${describeRan(r)}`)
}

/** Counts by key, sorted, for printing. */
export function tally(keys: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const k of keys.sort()) out[k] = (out[k] ?? 0) + 1
  return out
}
