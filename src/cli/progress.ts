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

/** A bar for object transfers (push/fetch/clone): counts objects, shows MB in the label. */
export function transferBar(json: boolean, label: string): {update: (objects: number, bytes: number) => void; stop: () => void} {
  const bar = progressBar(process.stderr.isTTY === true && !json)
  let started = false
  return {
    update(objects) {
      if (!started) {
        bar.start(0, `${label} (objects)`)
        started = true
      }
      bar.update(objects)
    },
    stop() {
      bar.stop()
    },
  }
}
