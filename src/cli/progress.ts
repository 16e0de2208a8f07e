// Progress bars on stderr, only when stderr is a TTY (never in CI logs or under --json pipes).
import cliProgress from 'cli-progress'

export interface Progress {
  start(total: number, label: string): void
  update(done: number): void
  stop(): void
}

const silent: Progress = {start() {}, update() {}, stop() {}}

export function progressBar(enabled = process.stderr.isTTY === true): Progress {
  if (!enabled) return silent
  let bar: cliProgress.SingleBar | undefined
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
