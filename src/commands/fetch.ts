import {Args, Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {transferBar} from '../cli/progress.js'
import {fetchRemote} from '../core/ops/fetch.js'

export default class Fetch extends LakeCommand {
  static summary = "Download a remote's branches and commits (as origin/<branch>) without changing yours."
  static examples = ['<%= config.bin %> fetch', '<%= config.bin %> fetch backup', '<%= config.bin %> fetch --full']
  static args = {remote: Args.string({description: 'remote name (default origin)'})}
  static flags = {full: Flags.boolean({summary: 'a lazy clone: download every object now (and stop reading through)'})}

  async run() {
    const {args, flags} = await this.parse(Fetch)
    const bar = transferBar(this.jsonEnabled(), 'fetch')
    try {
      const r = await fetchRemote(await this.openRepo(flags.dir), args.remote, {full: flags.full, onProgress: bar.update})
      bar.stop()
      for (const [b, c] of Object.entries(r.heads)) this.say(`${r.remote}/${b}\t${c.slice(0, 12)}`)
      this.say(`${r.commits} new commits, ${r.objects} objects (${(r.bytes / 1e6).toFixed(2)} MB)${r.tags.length ? `; new tags ${r.tags.join(', ')}` : ''}`)
      return r
    } finally {
      bar.stop()
    }
  }
}
