import {LakeCommand} from '../cli/base.js'
import {status} from '../core/ops/status.js'

export default class Status extends LakeCommand {
  static summary = 'Show the branch and the staged changes.'
  static examples = ['<%= config.bin %> status', '<%= config.bin %> status --json']

  async run() {
    const {flags} = await this.parse(Status)
    const s = await status(await this.openRepo(flags.dir))
    this.say(s.detached ? `HEAD detached at ${s.head?.slice(0, 12)}` : `On branch ${s.branch}${s.head ? '' : ' (no commits yet)'}`)
    if (s.clean) this.say('nothing to commit')
    else {
      this.say('Staged changes:')
      for (const c of s.changes) {
        const what = c.created ? 'new tensor, ' : c.removed ? 'removed, ' : ''
        this.say(`  ${c.tensor.padEnd(20)} ${what}+${c.added} ~${c.updated} -${c.deleted}`)
      }
    }
    return s
  }
}
