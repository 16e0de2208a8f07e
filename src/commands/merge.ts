import {Args, Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {merge} from '../core/ops/merge.js'
import {MergeConflictError} from '../core/errors.js'
import type {MergeConflict, MergeStrategy} from '../core/dataset/merge.js'

export default class Merge extends LakeCommand {
  static summary = 'Merge another branch or commit into the current branch, by sample identity.'
  static description = `Three-way merge against the merge base: samples appended on either side are all kept (ours first);
a sample changed on one side takes that change; a sample changed differently on both sides, or deleted
on one side and changed on the other, is a conflict (exit 1, nothing changed) unless --strategy settles it.`
  static examples = [
    '<%= config.bin %> merge relabel',
    '<%= config.bin %> merge relabel --strategy theirs',
    "<%= config.bin %> merge feature --no-ff -m 'merge feature'",
  ]
  static args = {rev: Args.string({required: true, description: 'branch or revision to merge'})}
  static flags = {
    strategy: Flags.string({options: ['ours', 'theirs'], summary: 'settle every conflict with this side'}),
    message: Flags.string({char: 'm', summary: 'message of the merge commit'}),
    'no-ff': Flags.boolean({summary: 'make a merge commit even when a fast-forward is possible'}),
    'allow-unrelated': Flags.boolean({summary: 'merge histories that share no commit'}),
  }

  async run() {
    const {args, flags} = await this.parse(Merge)
    const r = await merge(await this.openRepo(flags.dir), args.rev, {
      strategy: flags.strategy as MergeStrategy | undefined,
      message: flags.message,
      noFf: flags['no-ff'],
      allowUnrelated: flags['allow-unrelated'],
    })
    if (r.upToDate) this.say('Already up to date.')
    else if (r.fastForward) this.say(`Fast-forward to ${r.commit.slice(0, 12)}`)
    else this.say(`Merged ${args.rev}: commit ${r.commit.slice(0, 12)}${r.resolved ? ` (${r.resolved} conflict${r.resolved === 1 ? '' : 's'} settled with --strategy ${flags.strategy})` : ''}`)
    return {commit: r.commit, fastForward: r.fastForward, conflicts: r.conflicts, resolved: r.resolved, upToDate: r.upToDate, base: r.base}
  }

  protected async catch(err: Error & {oclif?: {exit?: number}}): Promise<void> {
    if (err instanceof MergeConflictError && !this.jsonEnabled()) {
      for (const c of (err.data?.conflicts ?? []) as MergeConflict[]) {
        const where = c.index === null ? '(tensor)' : `[${c.index}]`
        this.logToStderr(`conflict: ${c.tensor}${where} ${c.kind}: ours ${JSON.stringify(c.ours)}, theirs ${JSON.stringify(c.theirs)}`)
      }
    }
    return super.catch(err)
  }
}
