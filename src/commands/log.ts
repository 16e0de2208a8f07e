import {Args, Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {log} from '../core/ops/log.js'

export default class Log extends LakeCommand {
  static summary = 'Show commits, newest first.'
  static examples = ['<%= config.bin %> log', '<%= config.bin %> log -n 5 --oneline', '<%= config.bin %> log v1 --json', '<%= config.bin %> log --all']
  static args = {rev: Args.string({description: 'start from this revision (default HEAD)'})}
  static flags = {
    'max-count': Flags.integer({char: 'n', min: 0, summary: 'show at most N commits'}),
    oneline: Flags.boolean({summary: 'one line per commit'}),
    all: Flags.boolean({summary: 'commits reachable from any branch, tag or HEAD'}),
  }

  async run() {
    const {args, flags} = await this.parse(Log)
    const result = await log(await this.openRepo(flags.dir), {rev: args.rev, limit: flags['max-count'], all: flags.all})
    for (const c of result.commits) {
      if (flags.oneline) this.say(`${c.commit.slice(0, 12)} ${c.message.split('\n')[0]}`)
      else {
        this.say(`commit ${c.commit}${c.parents.length > 1 ? `\nMerge: ${c.parents.map((p) => p.slice(0, 12)).join(' ')}` : ''}`)
        this.say(`Author: ${c.author}\nDate:   ${c.timestamp}${c.branch ? `\nBranch: ${c.branch}` : ''}${c.code ? `\nCode:   ${c.code.sha.slice(0, 12)}${c.code.dirty ? ' (dirty)' : ''}` : ''}`)
        this.say(`\n    ${c.message.split('\n').join('\n    ')}\n`)
      }
    }
    return result
  }
}
