import {Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {commit} from '../core/ops/commit.js'

export default class Commit extends LakeCommand {
  static summary = 'Record the staged changes as a new commit on the current branch.'
  static examples = ["<%= config.bin %> commit -m 'add 500 cat images'", "<%= config.bin %> commit -m 'checkpoint' --allow-empty"]
  static flags = {
    message: Flags.string({char: 'm', required: true, summary: 'commit message'}),
    'allow-empty': Flags.boolean({summary: 'commit even when nothing is staged'}),
  }

  async run() {
    const {flags} = await this.parse(Commit)
    const result = await commit(await this.openRepo(flags.dir), {message: flags.message, allowEmpty: flags['allow-empty']})
    this.say(`[${result.branch} ${result.commit.slice(0, 12)}] ${flags.message.split('\n')[0]}`)
    return result
  }
}
