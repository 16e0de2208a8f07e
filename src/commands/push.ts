import {Args, Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {transferBar} from '../cli/progress.js'
import {push} from '../core/ops/push.js'

export default class Push extends LakeCommand {
  static summary = 'Upload a branch to a remote: only the objects it lacks, then move its branch (compare-and-swap).'
  static examples = ['<%= config.bin %> push', '<%= config.bin %> push origin main', '<%= config.bin %> push origin main --tags', '<%= config.bin %> push backup experiment --force']
  static args = {remote: Args.string({description: 'remote name (default origin)'}), branch: Args.string({description: 'branch (default: the current one)'})}
  static flags = {
    force: Flags.boolean({char: 'f', summary: 'move the remote branch even if it is not a fast-forward'}),
    tags: Flags.boolean({summary: 'also push every tag'}),
  }

  async run() {
    const {args, flags} = await this.parse(Push)
    const bar = transferBar(this.jsonEnabled(), 'push')
    try {
      const r = await push(await this.openRepo(flags.dir), args.remote, args.branch, {force: flags.force, tags: flags.tags, onProgress: bar.update})
      bar.stop()
      if (r.upToDate && r.tags.length === 0) this.say('Everything up to date')
      else this.say(`${r.remote}/${r.branch}: ${r.old ? r.old.slice(0, 12) : '(new)'} → ${r.commit.slice(0, 12)}${r.forced ? ' (forced)' : ''}; ${r.objects} objects, ${(r.bytes / 1e6).toFixed(2)} MB uploaded${r.tags.length ? `; tags ${r.tags.join(', ')}` : ''}`)
      return r
    } finally {
      bar.stop()
    }
  }
}
