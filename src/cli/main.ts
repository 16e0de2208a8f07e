// The CLI's entry when bundled (scripts/bundle.mjs → dist/lake.cjs, started by bin/run.js): oclif
// and every command in one file, so a command starts without resolving and compiling a few
// hundred modules (~150 ms of each `lake` process). It runs exactly what oclif's execute() runs;
// the one difference is that commands come from this bundle's COMMANDS, not from an import of
// dist/commands (which would load a second copy of oclif).
import {Config, flush, handle, run} from '@oclif/core'
import {COMMANDS} from './commands.js'

export {serve} from './server.js'

/** Runs the CLI on `args` for the package at `root` (the directory holding package.json). */
export async function main(args: string[], root: string): Promise<unknown> {
  try {
    const config = await Config.load(root)
    // the explicit discovery strategy reads this cache before importing its target
    ;(config as unknown as {rootPlugin: {commandCache?: unknown}}).rootPlugin.commandCache = COMMANDS
    const result = await run(args, config)
    await flush()
    return result
  } catch (error) {
    return handle(error as Error)
  }
}
