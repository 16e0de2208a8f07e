import {LakeCommand} from '../cli/base.js'
import {Flags} from '@oclif/core'
import {fsck, repairEventDb} from '../core/ops/fsck.js'
import {LakeError} from '../core/errors.js'

export default class Fsck extends LakeCommand {
  static summary = 'Verify every object hash, that every version is complete, and the event chain.'
  static examples = ['<%= config.bin %> fsck', '<%= config.bin %> fsck --json', '<%= config.bin %> fsck --repair']
  static flags = {
    repair: Flags.boolean({summary: 'first rebuild the event database (.lake/db) from its event log: refs, HEAD, staged state, reflog (run it with no other lake command running)'}),
  }

  async run() {
    const {flags} = await this.parse(Fsck)
    const repo = await this.openRepo(flags.dir)
    if (flags.repair) {
      const repaired = await repairEventDb(repo)
      this.logToStderr(`repaired: ${repaired.levelRepaired ? "LevelDB's files rebuilt, " : ''}projections rebuilt from ${repaired.events} events`)
    }
    const result = await fsck(repo)
    for (const p of result.problems) this.logToStderr(`problem: ${p.object}: ${p.problem}${affects(p.commits, p.staged)}`)
    this.say(`${result.ok ? 'ok' : 'NOT OK'}: ${result.checked} objects checked, ${result.problems.length} problems, ${result.dangling} dangling`)
    if (!result.ok) {
      process.exitCode = 1
      if (this.jsonEnabled()) this.logJson(result)
      throw new FsckFailed(`fsck found ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}`)
    }
    return result
  }

  protected toErrorJson(err: unknown): unknown {
    // --json of a failed fsck is the report itself (already printed), not an error object.
    return err instanceof FsckFailed ? undefined : super.toErrorJson(err)
  }
}

/** " (affects commits a1b2c3d4e5f6, ... and the staged state)": which versions to restore. */
function affects(commits: string[], staged: boolean): string {
  const shown = commits.slice(0, 5).map((c) => c.slice(0, 12))
  if (commits.length > 5) shown.push(`${commits.length - 5} more`)
  const parts = [...(shown.length ? [`commit${commits.length === 1 ? '' : 's'} ${shown.join(', ')}`] : []), ...(staged ? ['the staged state'] : [])]
  return parts.length ? ` (affects ${parts.join(' and ')})` : ''
}

class FsckFailed extends LakeError {
  constructor(message: string) {
    super('FSCK_FAILED', message, {hint: 'see the problems above'})
  }
}
