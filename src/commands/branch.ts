import {Args, Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {createBranch, deleteBranch, listBranches} from '../core/ops/refs.js'

export default class Branch extends LakeCommand {
  static summary = 'List, create or delete branches.'
  static examples = ['<%= config.bin %> branch', '<%= config.bin %> branch experiment', '<%= config.bin %> branch fix v1', '<%= config.bin %> branch -d experiment']
  static args = {
    name: Args.string({description: 'branch to create'}),
    start: Args.string({description: 'where it starts (default HEAD)'}),
  }
  static flags = {delete: Flags.string({char: 'd', summary: 'delete this branch', helpValue: 'NAME'})}

  async run() {
    const {args, flags} = await this.parse(Branch)
    const repo = await this.openRepo(flags.dir)
    if (flags.delete) {
      const r = await deleteBranch(repo, flags.delete)
      this.say(`Deleted branch ${r.deleted} (was ${r.commit.slice(0, 12)})`)
      return r
    }
    if (args.name) {
      const r = await createBranch(repo, args.name, args.start)
      this.say(`Created branch '${r.branch}' at ${r.commit.slice(0, 12)}`)
      return r
    }
    const r = await listBranches(repo)
    for (const b of r.branches) this.say(`${b.current ? '*' : ' '} ${b.name.padEnd(24)} ${b.commit.slice(0, 12)}`)
    return r
  }
}
