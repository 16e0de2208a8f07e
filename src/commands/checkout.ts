import {Args, Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {checkout} from '../core/ops/checkout.js'
import {UsageError} from '../core/errors.js'

export default class Checkout extends LakeCommand {
  static summary = 'Move HEAD to a branch, or to a commit or tag (detached, read-only).'
  static examples = [
    '<%= config.bin %> checkout main',
    '<%= config.bin %> checkout v1',
    "<%= config.bin %> checkout 'main@{2026-11-20T10:00:00Z}'",
    '<%= config.bin %> checkout HEAD~2 -b experiment',
  ]
  static args = {rev: Args.string({description: 'branch, tag, commit or any revision (default HEAD with -b)'})}
  static flags = {
    branch: Flags.string({char: 'b', summary: 'create this branch at REV and switch to it (carries staged changes)', helpValue: 'NEW_BRANCH'}),
    force: Flags.boolean({char: 'f', summary: 'discard staged changes'}),
  }

  async run() {
    const {args, flags} = await this.parse(Checkout)
    if (!args.rev && !flags.branch) throw new UsageError('missing revision to check out', {hint: 'lake checkout REV, or lake checkout -b NEW_BRANCH'})
    const rev = args.rev ?? 'HEAD'
    const result = await checkout(await this.openRepo(flags.dir), rev, {newBranch: flags.branch, force: flags.force})
    if (result.detached) this.say(`HEAD is now at ${result.head.slice(0, 12)} (detached, read-only; 'lake checkout ${rev} -b NAME' to make changes)`)
    else this.say(`Switched to ${flags.branch ? 'a new ' : ''}branch '${result.branch}' at ${result.head.slice(0, 12)}`)
    return result
  }
}
