import {Args, Flags} from '@oclif/core'
import {LakeCommand} from '../cli/base.js'
import {createTag, deleteTag, listTags} from '../core/ops/refs.js'

export default class Tag extends LakeCommand {
  static summary = 'List, create or delete tags (fixed names for commits).'
  static examples = ['<%= config.bin %> tag', '<%= config.bin %> tag v1', '<%= config.bin %> tag baseline HEAD~3', '<%= config.bin %> tag -d v1']
  static args = {
    name: Args.string({description: 'tag to create'}),
    rev: Args.string({description: 'commit to tag (default HEAD)'}),
  }
  static flags = {delete: Flags.string({char: 'd', summary: 'delete this tag', helpValue: 'NAME'})}

  async run() {
    const {args, flags} = await this.parse(Tag)
    const repo = await this.openRepo(flags.dir)
    if (flags.delete) {
      const r = await deleteTag(repo, flags.delete)
      this.say(`Deleted tag ${r.deleted} (was ${r.commit.slice(0, 12)})`)
      return r
    }
    if (args.name) {
      const r = await createTag(repo, args.name, args.rev)
      this.say(`Tagged ${r.commit.slice(0, 12)} as '${r.tag}'`)
      return r
    }
    const r = await listTags(repo)
    for (const t of r.tags) this.say(`${t.name.padEnd(24)} ${t.commit.slice(0, 12)}`)
    return r
  }
}
