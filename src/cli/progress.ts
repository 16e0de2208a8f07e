// Progress bars on stderr, only when stderr is a TTY (never in CI logs or under --json pipes).
import {createRequire} from 'node:module'
import type cliProgressType from 'cli-progress'

// Loaded only when a bar is shown (TTY): keeps start-up fast for scripts and CI.
const require = createRequire(import.meta.url)

export interface Progress {
  start(total: number, label: string): void
  update(done: number): void
  stop(): void
}

const silent: Progress = {start() {}, update() {}, stop() {}}

export function progressBar(enabled = process.stderr.isTTY === true): Progress {
  if (!enabled) return silent
  const cliProgress = require('cli-progress') as typeof cliProgressType
  let bar: cliProgressType.SingleBar | undefined
  return {
    start(total, label) {
      bar = new cliProgress.SingleBar(
        {stream: process.stderr, format: `${label} [{bar}] {value}/{total} {duration_formatted}`, hideCursor: true, clearOnComplete: true},
        cliProgress.Presets.shades_classic,
      )
      bar.start(total, 0)
    },
    update(done) {
      bar?.update(done)
    },
    stop() {
      bar?.stop()
      bar = undefined
    },
  }
}
