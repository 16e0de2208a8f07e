import {Args, Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {transferBar} from '../cli/progress.js'
import {pull} from '../core/ops/pull.js'
import type {MergeStrategy} from '../core/dataset/merge.js'

export default class Pull extends LakeCommand {
  static summary = 'Fetch a remote branch and merge it into the current branch (fast-forward or merge by sample identity).'
  static examples = ['<%= config.bin %> pull', '<%= config.bin %> pull origin main', '<%= config.bin %> pull --strategy theirs']
  static args = {remote: Args.string({description: 'remote name (default origin)'}), branch: Args.string({description: 'remote branch (default: the current branch)'})}
  static flags = {strategy: Flags.string({options: ['ours', 'theirs'], summary: 'settle every merge conflict with this side'})}

  async run() {
    const {args, flags} = await this.parse(Pull)
    const bar = transferBar(this.jsonEnabled(), 'pull')
    try {
      const r = await pull(await this.openRepo(flags.dir), args.remote, args.branch, {strategy: flags.strategy as MergeStrategy | undefined, onProgress: bar.update})
      bar.stop()
      const m = r.merge
      this.say(m.upToDate ? 'Already up to date.' : m.fastForward ? `Fast-forward to ${m.commit.slice(0, 12)}` : `Merged: commit ${m.commit.slice(0, 12)}`)
      return {commit: m.commit, fastForward: m.fastForward, upToDate: m.upToDate, conflicts: m.conflicts, resolved: m.resolved, fetched: {commits: r.fetch.commits, objects: r.fetch.objects, bytes: r.fetch.bytes}}
    } finally {
      bar.stop()
    }
  }

}
