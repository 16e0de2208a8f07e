import {LakeCommand} from '../cli/base.js'
import {fsck} from '../core/ops/fsck.js'
import {LakeError} from '../core/errors.js'

export default class Fsck extends LakeCommand {
  static summary = 'Verify every object hash, that every version is complete, and the event chain.'
  static examples = ['<%= config.bin %> fsck', '<%= config.bin %> fsck --json']

  async run() {
    const {flags} = await this.parse(Fsck)
    const result = await fsck(await this.openRepo(flags.dir))
    for (const p of result.problems) this.logToStderr(`problem: ${p.object}: ${p.problem}`)
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

class FsckFailed extends LakeError {
  constructor(message: string) {
    super('FSCK_FAILED', message, {hint: 'see the problems above'})
  }
}
